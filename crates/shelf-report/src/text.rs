//! The short summary printed on the terminal after an audit (stdout is data: no colour, no
//! progress, just the result).

use shelf_core::{Finding, SeverityCounts};

use crate::AuditReport;
use crate::escape::{group, truncate_chars, w};

/// At most this many findings are listed; the rest are counted.
const MAX_FINDINGS_LISTED: usize = 12;
/// Messages are cut to this many characters so a line stays readable.
const MAX_MESSAGE_CHARS: usize = 72;

/// A terminal summary of at most ~20 lines: the tables read (rows), the finding counts, and
/// the top findings by severity (then by rows affected): code, name, table/column, rows
/// affected, message.
pub fn text_summary(r: &AuditReport) -> String {
    let mut out = String::new();
    w(
        &mut out,
        format_args!(
            "shelf {} audit: {} {}, {} {} — {}\n",
            r.shelf_version,
            r.tables.len(),
            plural(r.tables.len() as u64, "table", "tables"),
            r.checks.len(),
            plural(r.checks.len() as u64, "check", "checks"),
            counts_line(&r.counts),
        ),
    );

    let kind_w = r
        .tables
        .iter()
        .map(|t| t.kind.as_str().len())
        .max()
        .unwrap_or(0);
    let rows_w = r
        .tables
        .iter()
        .map(|t| group(t.rows).len())
        .max()
        .unwrap_or(0);
    for t in &r.tables {
        w(
            &mut out,
            format_args!(
                "  {:kind_w$}  {:>rows_w$} rows  {:>3} columns  {}\n",
                t.kind.as_str(),
                group(t.rows),
                t.columns.len(),
                t.path,
            ),
        );
    }

    if r.findings.is_empty() {
        return out;
    }
    // Worst first; among equals, the finding touching more rows first; ties keep report order.
    let mut top: Vec<&Finding> = r.findings.iter().collect();
    top.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.rows_affected.cmp(&a.rows_affected))
    });
    let shown = &top[..top.len().min(MAX_FINDINGS_LISTED)];
    let place: Vec<String> = shown.iter().map(|f| place(f)).collect();
    let code_w = shown
        .iter()
        .map(|f| f.code.chars().count())
        .max()
        .unwrap_or(0);
    let name_w = shown
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0);
    let place_w = place.iter().map(|p| p.chars().count()).max().unwrap_or(0);
    let rows_w = shown
        .iter()
        .map(|f| group(f.rows_affected).len())
        .max()
        .unwrap_or(0);
    out.push_str("top findings:\n");
    for (f, p) in shown.iter().zip(&place) {
        w(
            &mut out,
            format_args!(
                "  {:7}  {:code_w$}  {:name_w$}  {:place_w$}  {:>rows_w$} rows  {}\n",
                f.severity.as_str(),
                f.code,
                f.name,
                p,
                group(f.rows_affected),
                truncate_chars(&one_line(&f.message), MAX_MESSAGE_CHARS),
            ),
        );
    }
    if top.len() > shown.len() {
        w(
            &mut out,
            format_args!(
                "  … and {} more in findings.jsonl and report.html\n",
                group((top.len() - shown.len()) as u64)
            ),
        );
    }
    out
}

fn counts_line(c: &SeverityCounts) -> String {
    if c.error + c.warning + c.info == 0 {
        return "no findings".to_string();
    }
    format!(
        "{} {}, {} {}, {} info",
        group(c.error),
        plural(c.error, "error", "errors"),
        group(c.warning),
        plural(c.warning, "warning", "warnings"),
        group(c.info),
    )
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// `table/column`, or `table/role`, or just `table`.
fn place(f: &Finding) -> String {
    match (&f.column, &f.role) {
        (Some(c), _) => format!("{}/{}", f.table, c),
        (None, Some(r)) => format!("{}/{}", f.table, r),
        (None, None) => f.table.clone(),
    }
}

/// Messages are prose and may carry newlines; a terminal line must not.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
