use shelf_core::Role;

use super::bound;
use crate::plan::{Check, Ctx, ProbeSpec};

/// TI002
pub struct OutsideDataWindow;

impl Check for OutsideDataWindow {
    meta!(
        "TI002",
        "outside-data-window",
        Warning,
        Some("DropRows"),
        "\
outside-data-window (TI002)

What: finds times far outside the data's own window: before 1990, or further from the 1st–99th
percentile range than that range's width (at least one year). Future times are left to
future-timestamp.

Why: default dates (1970-01-01, 1900-01-01), wrong units and typo years sit far from the
real data and distort time splits and recency features.

Example: a 2003 event in a log that runs from May to June 2025.

Fix: correct or drop (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        let year = 31_536_000_000_000i64;
        let floor = 631_152_000_000_000i64; // 1990-01-01
        let now = ctx.now_micros + 86_400_000_000;
        for t in ctx.tables {
            for role in bound(t, &[Role::Timestamp, Role::CreatedAt]) {
                let r = role.as_str();
                let sql = format!(
                    "WITH v AS (SELECT row_id, {r}_raw AS value, CAST({r} AS BIGINT) AS t FROM \"{view}\" WHERE {r} IS NOT NULL), \
                     b AS (SELECT approx_percentile_cont(0.01) WITHIN GROUP (ORDER BY t) AS lo, approx_percentile_cont(0.99) WITHIN GROUP (ORDER BY t) AS hi FROM v) \
                     SELECT v.row_id, v.value FROM v, b WHERE v.t <= {now} AND (v.t < {floor} \
                     OR v.t < b.lo - greatest(b.hi - b.lo, {year}) OR v.t > b.hi + greatest(b.hi - b.lo, {year}))",
                    view = t.view()
                );
                out.push(ProbeSpec::query(
                    t,
                    Some(role),
                    sql,
                    format!(
                        "{{n}} {{time|times}} in {} ({r}) {{lies|lie}} far outside the data's own time window",
                        t.column(role).unwrap_or_default()
                    ),
                    self.severity(),
                ));
            }
        }
        out
    }
}
