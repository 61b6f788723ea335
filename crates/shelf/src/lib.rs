//! shelf's facade: `shelf.toml`, the audit pipeline (stage → views → checks → charts →
//! report), the comparison of two versions (`diff`) and atomic output. The CLI and, later, the HTTP service are thin layers over it.
//!
//! Start reading at [`audit::audit`].

pub mod audit;
pub mod charts;
pub mod config;
pub mod diff;
pub mod lift;
pub mod output;
pub mod tables;

pub use audit::{AuditSpec, audit, session};
pub use config::Config;
pub use diff::{DiffSpec, Version, diff};
pub use output::{write_audit, write_diff, write_lift, write_search_lift};

/// The model settings of `[lm]` as shelf-lm takes them.
/// A line for the operator when `[lm] threads` asks for a thread count that candle's own pool
/// will not keep to. candle 0.11 runs big elementwise ops and quantized matmuls (all of GGUF
/// decoding) on a pool sized from `CANDLE_NUM_THREADS` (else `RAYON_NUM_THREADS`, else every
/// core), which shelf cannot set for itself without `unsafe`: unpinned, `threads = 1` still
/// keeps every core busy, and `CANDLE_NUM_THREADS=1` with `threads = 2` decodes on one.
/// `None` when `[lm] threads` is unset, the embedder is not a local model, or the pool is
/// pinned to the same count.
pub fn candle_threads_note(config: &Config) -> Option<String> {
    let threads = config.lm.threads.filter(|&t| t > 0)?;
    let model = config.lm.embedder.as_deref()?;
    (shelf_lm::runs_on_candle(model) && !shelf_lm::candle_threads_pinned(threads)).then(|| {
        format!(
            "[lm] threads = {threads}, but candle runs its big operations on a pool of its own \
             sized from CANDLE_NUM_THREADS (else every core): set CANDLE_NUM_THREADS={threads} \
             for the model to keep to {threads} thread(s)"
        )
    })
}

pub fn lm_options(config: &Config) -> shelf_lm::LmOptions {
    let lm = &config.lm;
    let cache_dir = lm.cache.unwrap_or(true).then(|| {
        lm.cache_dir
            .clone()
            .unwrap_or_else(shelf_lm::cache::default_dir)
    });
    shelf_lm::LmOptions {
        cache_dir,
        threads: lm.threads.unwrap_or(0),
        remote_model: lm.remote_model.clone(),
        ..shelf_lm::LmOptions::default()
    }
}
