//! shelf's audit checks.
//!
//! A check **measures** by planning probes — SQL over a table's *role view* plus shelf's UDFs —
//! and the runner **judges** the results into findings (thresholds from `shelf.toml`). Checks
//! never touch the engine themselves, so every plan runs unchanged on a local DataFusion
//! session or on a Ballista cluster that registered the same UDFs ([`udf::register_all`]).
//!
//! Start reading at [`plan::Check`], then `registry.rs`, then any file in `checks/`.

pub mod bots;
pub mod checks;
pub mod columns;
pub mod dedup;
pub mod plan;
pub mod registry;
pub mod relevance;
pub mod runner;
pub mod semantic;
pub mod text;
pub mod udf;

pub use plan::{
    Analysis, Analyzer, Check, Ctx, Judge, Outcome, Params, Probe, ProbeSpec, TableInfo,
};
pub use registry::{CHECKS, find};
pub use runner::{ChecksOutput, DayCount, run_checks};
