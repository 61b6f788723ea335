//! Findings: what a check reports about the data (STYLE.md §5: data problems are values).

use serde::{Deserialize, Serialize};

/// At most this many row ids are listed in a finding; the rest are counted (CONTRACT.md).
pub const MAX_LISTED_ROW_IDS: usize = 1000;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// The lowercase name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `info`, `warning` or `error`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value proposed for one row (a category for an item without one, a fixed encoding…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    pub row_id: u64,
    pub value: String,
    pub score: f64,
}

/// One problem found in one table, with the rows it affects and the evidence for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable check code, e.g. `MV001`.
    pub code: String,
    /// Kebab-case check name, e.g. `missing-value`.
    pub name: String,
    pub severity: Severity,
    /// Table kind: `catalog`, `events`, …
    pub table: String,
    /// The role the finding is about, if any.
    pub role: Option<String>,
    /// The user's column name behind that role, if any.
    pub column: Option<String>,
    /// Distinct rows affected.
    pub rows_affected: u64,
    /// Row ids, ascending: all of them, or the first [`MAX_LISTED_ROW_IDS`].
    pub row_ids: Vec<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub row_ids_truncated: bool,
    pub message: String,
    /// Counts, observed vs expected, example rows… always a JSON object.
    pub evidence: serde_json::Value,
    /// The repair operator that can fix it, if one exists.
    pub fix: Option<String>,
}

/// One check applied to one table (and column, for column checks), as listed in `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRun {
    pub code: String,
    pub name: String,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// Highest severity among its findings, or the check's default when it found nothing.
    pub severity: Severity,
    /// Distinct rows affected across its findings.
    pub rows_affected: u64,
    /// Number of findings.
    pub findings: u64,
}

/// Findings per severity, as in `summary.json`'s `counts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub error: u64,
    pub warning: u64,
    pub info: u64,
}

impl SeverityCounts {
    /// Counts the findings by severity.
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Self::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// Number of findings at or above `level`.
    pub fn at_or_above(&self, level: Severity) -> u64 {
        match level {
            Severity::Info => self.error + self.warning + self.info,
            Severity::Warning => self.error + self.warning,
            Severity::Error => self.error,
        }
    }
}

/// Two catalog items judged to be the same product: one row of `duplicates.csv`
/// (`item_id_a,item_id_b,score,method`), with the catalog's own item ids (the row id where the
/// catalog has none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatePair {
    pub item_a: String,
    pub item_b: String,
    /// In [0, 1].
    pub score: f64,
    /// How the pair was found: `minhash-lsh`, `model-code`, or `embedding-lsh` (a shared band of
    /// embedding signs, with an embedder configured).
    pub method: &'static str,
}
