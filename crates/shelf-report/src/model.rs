//! What a report is made of. Filled by the pipeline, read by the renderers.

use serde::Serialize;
use shelf_core::{CheckRun, DuplicatePair, Finding, SeverityCounts, TableSummary};

/// Everything one `shelf audit` run learned.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// shelf's version, for the page footer and the JSON.
    pub shelf_version: String,
    /// The tables read, in the order they were given.
    pub tables: Vec<TableSummary>,
    /// One entry per check applied to a table (and column, for column checks).
    pub checks: Vec<CheckRun>,
    /// Every finding, sorted by severity (worst first), then code, table, column.
    pub findings: Vec<Finding>,
    pub counts: SeverityCounts,
    /// Charts computed from the data, in display order.
    pub charts: Vec<Chart>,
    /// Human notes about how the run was set up (e.g. "roles inferred for events; override
    /// them in shelf.toml under [tables.events.roles]").
    pub notes: Vec<String>,
    /// Catalog item pairs judged to be the same product, when product matching ran; written
    /// to `duplicates.csv`, not into the JSON.
    #[serde(skip)]
    pub duplicate_pairs: Option<Vec<DuplicatePair>>,
}

/// A chart a person would rather look at than read.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// Stable id, e.g. `price-by-category`.
    pub id: String,
    pub title: String,
    /// What the x axis measures, e.g. `log10(price)`.
    pub x_label: String,
    pub y_label: String,
    pub kind: ChartKind,
    /// One or more series (e.g. one per category); all share the x axis.
    pub series: Vec<Series>,
}

/// How a chart is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Bars over labelled buckets (`Series::labels` are the buckets).
    Bar,
    /// A histogram: `labels` are the bucket lower edges as text, `values` the counts.
    Histogram,
    /// Box-like summary per series: `values` = [min, p25, median, p75, max].
    Quantiles,
    /// A line over ordered x labels (time).
    Line,
}

/// One named sequence of (label, value) points.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub labels: Vec<String>,
    pub values: Vec<f64>,
}
