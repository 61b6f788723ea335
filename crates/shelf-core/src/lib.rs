//! shelf's data model, shared by every other crate.
//!
//! Tables are mapped to **roles** (what a column means), never to column names; every input row
//! gets a stable **row id** (its 0-based position in file order) at ingest; checks report
//! **findings** that point at row ids. Data problems are [`Finding`]s; failures of the tool are
//! [`ShelfError`]s. This crate depends on nothing heavier than serde, so every other crate can
//! use it without pulling in the engine.

pub mod calendar;
mod error;
mod finding;
pub mod lm;
mod role;
mod table;

pub use error::{ShelfError, ShelfResult};
pub use finding::{
    CheckRun, DuplicatePair, Finding, MAX_LISTED_ROW_IDS, Severity, SeverityCounts, Suggestion,
};
pub use role::{Role, RoleType};
pub use table::{MappingSource, RoleBinding, TableKind, TableSummary};

/// A count with thousands separators, as messages and the report show counts:
/// `1234567` → `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The name of the column every staged table carries: the row's 0-based position in its input.
pub const ROW_ID: &str = "__row_id";
