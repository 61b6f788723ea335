//! shelf's facade: `shelf.toml`, the audit pipeline (stage → views → checks → charts →
//! report), the comparison of two versions (`diff`) and atomic output. The CLI and, later, the HTTP service are thin layers over it.
//!
//! Start reading at [`audit::audit`].

pub mod audit;
pub mod charts;
pub mod config;
pub mod diff;
pub mod output;
pub mod tables;

pub use audit::{AuditSpec, audit, session};
pub use config::Config;
pub use diff::{DiffSpec, Version, diff};
pub use output::{write_audit, write_diff};
