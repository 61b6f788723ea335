//! shelf's facade: `shelf.toml`, the audit pipeline (stage → views → checks → charts →
//! report) and atomic output. The CLI and, later, the HTTP service are thin layers over it.
//!
//! Start reading at [`audit::audit`].

pub mod audit;
pub mod charts;
pub mod config;
pub mod output;
pub mod tables;

pub use audit::{AuditSpec, audit, session};
pub use config::Config;
pub use output::write_audit;
