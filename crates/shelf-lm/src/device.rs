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
/// them: on 2 cores, oversubscription costs more than a thread saves. candle 0.11 also runs
/// large elementwise ops on a pool of its own, sized from `CANDLE_NUM_THREADS` (else every
/// core), which this cannot reach without `unsafe` `set_var`; set that variable to the same
/// number (`make test` sets 1).
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
