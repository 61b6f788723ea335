//! What `shelf diff` learned about two versions of the same tables, and its renderings:
//! `diff.json` (the model serialized as it is: field names are a contract, documented in
//! `docs/diff.md`), a self-contained `diff.html` in the audit report's style, and a short
//! terminal summary.

mod html;
mod text;

use serde::Serialize;
use shelf_core::{Severity, TableKind, TableSummary};

pub use html::diff_html;
pub use text::diff_text;

/// How far a column moved between the two versions. Ordered: `None < Notable < Major`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Drift {
    None,
    Notable,
    Major,
}

impl Drift {
    pub fn as_str(self) -> &'static str {
        match self {
            Drift::None => "none",
            Drift::Notable => "notable",
            Drift::Major => "major",
        }
    }

    /// Parses `none`, `notable` or `major`.
    pub fn parse(s: &str) -> Option<Drift> {
        [Drift::None, Drift::Notable, Drift::Major]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A value in each version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct OldNew<T> {
    pub old: T,
    pub new: T,
}

/// Everything one `shelf diff` run learned.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub shelf_version: String,
    pub old: DiffSide,
    pub new: DiffSide,
    /// The bands and sizes the verdicts used, so a reader can judge them.
    pub thresholds: Thresholds,
    /// Columns per verdict, over every table.
    pub counts: DriftCounts,
    /// One entry per table kind present in both versions.
    pub tables: Vec<TableDiff>,
    /// The audit's checks whose counts moved; `null` when the audit was skipped.
    pub findings: Option<FindingsDiff>,
    pub notes: Vec<String>,
}

/// One version: what was given (a `shelf.toml` or a data file) and the tables read from it.
#[derive(Debug, Clone, Serialize)]
pub struct DiffSide {
    pub source: String,
    pub tables: Vec<TableSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    pub psi_notable: f64,
    pub psi_major: f64,
    /// Share below which a bin counts as this in PSI.
    pub psi_epsilon: f64,
    /// Categories compared one by one; the rest are pooled in an "other" bin.
    pub top_k: usize,
    /// Bins (by the old version's quantiles) that numbers are compared in.
    pub numeric_bins: usize,
    /// Relative accuracy of the numeric sketch (bucket width / value).
    pub sketch_relative_accuracy: f64,
    /// A PSI below this many times `psi_noise` is not called drift.
    pub noise_factor: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DriftCounts {
    pub major: u64,
    pub notable: u64,
    pub none: u64,
}

impl DriftCounts {
    /// Columns at or above `level`.
    pub fn at_or_above(&self, level: Drift) -> u64 {
        match level {
            Drift::None => self.major + self.notable + self.none,
            Drift::Notable => self.major + self.notable,
            Drift::Major => self.major,
        }
    }
}

/// One table kind in both versions.
#[derive(Debug, Clone, Serialize)]
pub struct TableDiff {
    pub kind: TableKind,
    pub rows: OldNew<u64>,
    /// The worst verdict among its columns.
    pub drift: Drift,
    pub mapping: MappingDiff,
    /// Roles bound in both versions (other than ids), in role order.
    pub columns: Vec<ColumnDiff>,
    /// Id roles bound in both versions: which keys appeared and vanished.
    pub keys: Vec<KeyDiff>,
}

/// How the role mapping and the columns changed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MappingDiff {
    /// Roles bound to a different column (or columns, for a path).
    pub roles_changed: Vec<RoleChange>,
    /// Roles bound only in the new version.
    pub roles_added: Vec<RoleColumn>,
    /// Roles bound only in the old version.
    pub roles_removed: Vec<RoleColumn>,
    pub columns_added: Vec<String>,
    pub columns_removed: Vec<String>,
}

impl MappingDiff {
    pub fn is_empty(&self) -> bool {
        self.roles_changed.is_empty()
            && self.roles_added.is_empty()
            && self.roles_removed.is_empty()
            && self.columns_added.is_empty()
            && self.columns_removed.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleChange {
    pub role: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoleColumn {
    pub role: String,
    pub column: String,
}

/// What a column's distribution is measured on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Category counts (labels, category paths, query strings): top K + other + null.
    Categories,
    /// The parsed numbers (prices, quantities, ratings…).
    Values,
    /// Text length in characters (titles, descriptions, review text).
    Length,
    /// Hour of the day (UTC) of a timestamp: the range of times moves between versions by
    /// nature, their daily shape should not.
    HourOfDay,
}

impl Measure {
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Categories => "categories",
            Measure::Values => "values",
            Measure::Length => "length",
            Measure::HourOfDay => "hour_of_day",
        }
    }
}

/// One role's column in both versions.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnDiff {
    pub role: String,
    pub column: OldNew<String>,
    pub measure: Measure,
    /// Rows without a value (or whose value could not be parsed), as a share of the rows.
    pub null_rate: OldNew<f64>,
    /// Population stability index over `bins` (nulls included as a bin).
    pub psi: f64,
    /// The PSI expected between two samples of one distribution with these bins and row
    /// counts; a PSI under `thresholds.noise_factor` times this is not called drift.
    pub psi_noise: f64,
    /// Jensen–Shannon distance (base 2, in [0, 1]) over the same bins.
    pub js: f64,
    /// Kolmogorov–Smirnov statistic (numbers only; over the sketch buckets).
    pub ks: Option<f64>,
    /// Wasserstein-1 distance in the column's unit (numbers only; over the sketch buckets).
    pub wasserstein: Option<f64>,
    /// `wasserstein` divided by the old version's standard deviation.
    pub wasserstein_normed: Option<f64>,
    pub drift: Drift,
    /// Why the verdict is what it is, in a sentence.
    pub reason: String,
    /// The bins compared: shares of all rows in each version.
    pub bins: Vec<Bin>,
    /// Numbers: summaries of each version.
    pub stats: Option<OldNew<NumStats>>,
    /// Categories: which values appeared and vanished.
    pub categories: Option<CategoryChanges>,
    /// Timestamps: first and last time in each version (RFC 3339, UTC).
    pub time_range: Option<OldNew<Option<[String; 2]>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    pub label: String,
    pub old: f64,
    pub new: f64,
}

/// Summary of a numeric measure in one version (`null` fields when it has no values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct NumStats {
    pub count: u64,
    pub min: Option<f64>,
    pub p05: Option<f64>,
    pub median: Option<f64>,
    pub p95: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

/// Distinct values of a column in each version, and the ones only one version has.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryChanges {
    pub distinct: OldNew<u64>,
    /// Values only in the new version.
    pub appeared: ValueSet,
    /// Values only in the old version.
    pub vanished: ValueSet,
}

/// Values found in one version only: how many, the rows holding them, the biggest few.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ValueSet {
    pub count: u64,
    pub rows: u64,
    pub examples: Vec<ValueCount>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueCount {
    pub value: String,
    pub rows: u64,
}

/// An id role in both versions.
#[derive(Debug, Clone, Serialize)]
pub struct KeyDiff {
    pub role: String,
    pub column: OldNew<String>,
    pub null_rate: OldNew<f64>,
    pub distinct: OldNew<u64>,
    /// Keys in both versions.
    pub shared: u64,
    /// Keys only in the new version (new items, for `item_id`).
    pub appeared: ValueSet,
    /// Keys only in the old version (vanished items, for `item_id`).
    pub vanished: ValueSet,
}

/// The audit of both versions, compared per check, table and column.
#[derive(Debug, Clone, Serialize)]
pub struct FindingsDiff {
    pub moved: Vec<FindingMove>,
    /// Check runs whose counts are the same in both versions.
    pub unchanged: u64,
}

/// How one check's result on one table (and column) moved.
#[derive(Debug, Clone, Serialize)]
pub struct FindingMove {
    pub code: String,
    pub name: String,
    pub table: String,
    pub column: Option<String>,
    /// The worse of the two versions' severities.
    pub severity: Severity,
    /// `appeared` (no findings before), `disappeared` (none now), `up` or `down` (by the
    /// share of the table's rows affected).
    pub change: String,
    pub old: Option<FindingCount>,
    pub new: Option<FindingCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FindingCount {
    pub findings: u64,
    pub rows_affected: u64,
    /// `rows_affected` over the table's rows.
    pub rate: f64,
}

/// `diff.json`: the report as pretty JSON with a final newline.
pub fn diff_json(r: &DiffReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}
