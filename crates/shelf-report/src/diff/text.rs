//! The short summary of a diff printed on the terminal.

use crate::escape::{group, truncate_chars, w};

use super::{DiffReport, Drift};

/// At most this many moved columns and finding counts are listed each.
const MAX_LISTED: usize = 10;

/// A terminal summary: rows per table, the columns that moved (worst first), new and
/// vanished items, mapping changes, and the audit counts that moved.
pub fn diff_text(r: &DiffReport) -> String {
    let mut out = String::new();
    w(
        &mut out,
        format_args!(
            "shelf {} diff: {} → {} — {} major, {} notable, {} stable {}\n",
            r.shelf_version,
            r.old.source,
            r.new.source,
            group(r.counts.major),
            group(r.counts.notable),
            group(r.counts.none),
            if r.counts.none + r.counts.notable + r.counts.major == 1 {
                "column"
            } else {
                "columns"
            }
        ),
    );
    for t in &r.tables {
        w(
            &mut out,
            format_args!(
                "  {}: {} → {} rows\n",
                t.kind.as_str(),
                group(t.rows.old),
                group(t.rows.new)
            ),
        );
        let mut moved: Vec<_> = t.columns.iter().filter(|c| c.drift > Drift::None).collect();
        moved.sort_by(|a, b| b.drift.cmp(&a.drift).then(b.psi.total_cmp(&a.psi)));
        for c in moved.iter().take(MAX_LISTED) {
            w(
                &mut out,
                format_args!(
                    "    {:7}  {:<14} {}\n",
                    c.drift.as_str(),
                    c.role,
                    truncate_chars(&c.reason, 72)
                ),
            );
        }
        if moved.len() > MAX_LISTED {
            w(
                &mut out,
                format_args!("    … and {} more\n", moved.len() - MAX_LISTED),
            );
        }
        for k in &t.keys {
            if k.appeared.count + k.vanished.count > 0 {
                w(
                    &mut out,
                    format_args!(
                        "    {:<23} {} new ({} rows), {} vanished ({} rows), {} shared\n",
                        k.role,
                        group(k.appeared.count),
                        group(k.appeared.rows),
                        group(k.vanished.count),
                        group(k.vanished.rows),
                        group(k.shared)
                    ),
                );
            }
        }
        let m = &t.mapping;
        for c in &m.roles_changed {
            w(
                &mut out,
                format_args!("    mapping: {} {} → {}\n", c.role, c.old, c.new),
            );
        }
        for c in &m.roles_added {
            w(
                &mut out,
                format_args!("    mapping: {} appeared ({})\n", c.role, c.column),
            );
        }
        for c in &m.roles_removed {
            w(
                &mut out,
                format_args!("    mapping: {} vanished ({})\n", c.role, c.column),
            );
        }
    }
    if let Some(f) = &r.findings {
        w(
            &mut out,
            format_args!(
                "audit counts: {} moved, {} unchanged\n",
                group(f.moved.len() as u64),
                group(f.unchanged)
            ),
        );
        for m in f.moved.iter().take(MAX_LISTED) {
            let rows = |c: &Option<super::FindingCount>| {
                c.map_or_else(|| "·".to_string(), |c| group(c.rows_affected))
            };
            w(
                &mut out,
                format_args!(
                    "  {:7}  {}  {}{}  {}: {} → {} rows\n",
                    m.severity.as_str(),
                    m.code,
                    m.table,
                    m.column
                        .as_deref()
                        .map(|c| format!("/{c}"))
                        .unwrap_or_default(),
                    m.change,
                    rows(&m.old),
                    rows(&m.new)
                ),
            );
        }
        if f.moved.len() > MAX_LISTED {
            w(
                &mut out,
                format_args!(
                    "  … and {} more in diff.json and diff.html\n",
                    f.moved.len() - MAX_LISTED
                ),
            );
        }
    }
    out
}
