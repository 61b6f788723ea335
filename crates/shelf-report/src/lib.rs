//! shelf's report: one audit result rendered three ways — `summary.json` and `findings.jsonl`
//! for machines (their shape is a contract, see CONTRACT.md), a self-contained `report.html`
//! for people (inline SVG charts, no network), and a short text summary for the terminal.
//!
//! The renderers are pure functions of [`AuditReport`]; writing files atomically is the
//! caller's job. The HTML page is hand-written (no template engine, no plotting crate): it
//! must open from a file on a machine with no network, so every byte of it comes from here.

mod diff;
mod escape;
mod html;
mod json;
mod lift;
mod model;
mod svg;
mod text;

pub use diff::{
    Bin, CategoryChanges, ColumnDiff, DiffReport, DiffSide, Drift, DriftCounts, FindingCount,
    FindingMove, FindingsDiff, KeyDiff, MappingDiff, Measure, NumStats, OldNew, RoleChange,
    RoleColumn, TableDiff, Thresholds, ValueCount, ValueSet, diff_html, diff_json, diff_text,
};
pub use escape::escape;
pub use html::{MAX_EXAMPLE_ROWS, MAX_FINDINGS_RENDERED, MAX_ROW_IDS_RENDERED, html};
pub use json::{duplicates_csv, findings_jsonl, summary_json};
pub use lift::{
    Deltas, LiftReport, MetricDelta, MetricDeltas, ModelScores, Order, Segments, lift_html,
    lift_json, lift_text,
};
pub use model::{AuditReport, Chart, ChartKind, Series};
pub use svg::chart_svg;
pub use text::text_summary;
