//! Where candle runs, and on how many threads.

use candle_core::Device;
use shelf_core::{ShelfError, ShelfResult};

/// The CUDA device when shelf was built with `cuda` and a GPU answers, else the CPU.
pub(crate) fn pick(backend: &str) -> ShelfResult<Device> {
    if cfg!(feature = "cuda") {
        return Device::new_cuda(0).map_err(|e| {
            ShelfError::backend(
                backend,
                format!(
                    "built with the cuda feature but no CUDA device answered ({e}); \
                     build without --features cuda to run on the CPU"
                ),
            )
        });
    }
    Ok(Device::Cpu)
}

/// A rayon pool of exactly `threads` threads (0 = one per core). gemm and our own parallel
/// loops run on the pool they are called from, so running a model inside `pool.install` bounds
/// them: on 2 cores, oversubscription costs more than a thread saves. candle 0.11 also has a
/// pool of its own for large elementwise ops *and for its quantized matmuls* (GGUF tensor
/// types shelf's decoder has no kernel for, and all of candle's own GGUF models), sized from
/// `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`, else every core),
/// which this cannot reach without `unsafe` `set_var`; set that variable to the same number
/// (`make test` sets 1). See [`candle_threads_pinned`].
pub(crate) fn pool(backend: &str, threads: usize) -> ShelfResult<rayon::ThreadPool> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("shelf-lm-{i}"))
        .build()
        .map_err(|e| ShelfError::backend(backend, format!("cannot start {threads} threads: {e}")))
}

/// A candle error as a backend error.
pub(crate) fn candle_err(backend: &str, what: &str, e: candle_core::Error) -> ShelfError {
    ShelfError::backend(backend, format!("{what}: {e}"))
}

/// Whether candle's own pool is pinned to `threads` (`CANDLE_NUM_THREADS`, or
/// `RAYON_NUM_THREADS` when that is unset, equals it). When it is not, a model opened with
/// `threads` still runs candle's quantized matmuls and big elementwise ops on candle's pool:
/// at `CANDLE_NUM_THREADS=1` those stay on one thread whatever `threads` says (measured with
/// candle's SmolLM2 model on 2 cores: 2 model threads decoded no faster than 1), and unset it
/// takes every core.
pub fn candle_threads_pinned(threads: usize) -> bool {
    let var = |v: &str| std::env::var(v).ok().filter(|n| !n.trim().is_empty());
    var("CANDLE_NUM_THREADS")
        .or_else(|| var("RAYON_NUM_THREADS"))
        .is_some_and(|n| n.trim() == threads.to_string())
}
