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
