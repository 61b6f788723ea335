use shelf_core::{Role, Severity, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// PB001
pub struct PositionCtrAnomaly;

const CODE: &str = "PB001";
const NAME: &str = "position-ctr-anomaly";

impl Check for PositionCtrAnomaly {
    meta!(
        "PB001",
        "position-ctr-anomaly",
        Warning,
        None,
        "\
position-ctr-anomaly (PB001)

What: in a log of impressions with a position and a click (0/1), compares click-through rates
by position. Clicks decay with position (people click what they see first), so a position
clicked significantly more than a better one (a one-sided two-proportion z-test, z >= 3) is an
inversion: every impression at it is reported (position_inversion), with its CTR, the better
position's CTR and z in the examples. It also finds items never clicked in an impression log
where the CTR of the positions they were shown at predicts at least 20 clicks (item_never_
clicked: P(no click) < 1e-8 if the item were average).

Why: position is the strongest feature of CTR models and the basis of unbiased learning to
rank. An inverted curve means positions are logged wrongly (0- vs 1-based, reversed, from
another layout) or the layout is not a list; an item never clicked despite many impressions is
often not rendered at all (a broken image, a tracking bug), so its impressions are false
negatives.

Example: position 3 has CTR 1.2% over 40,000 impressions, position 1 has 0.6% (z = 8.9).

Settings ([checks.position-ctr-anomaly]): min_z (3), min_lift (0.2), min_expected_clicks (20).

Fix: check how positions are logged; for items never clicked, check that they render and that
their clicks reach the log, and drop their impressions until they do."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !(t.has(Role::Position) && t.has(Role::Click)) {
            return vec![];
        }
        let min_z = ctx.params.f64(CODE, NAME, "min_z", 3.0);
        let min_lift = ctx.params.f64(CODE, NAME, "min_lift", 0.2);
        let min_expected = ctx.params.f64(CODE, NAME, "min_expected_clicks", 20.0);
        let item = if t.has(Role::ItemId) {
            "item_id"
        } else {
            "CAST(NULL AS VARCHAR)"
        };
        // Pooled two-proportion z of every (worse, better) pair of positions; a worse position
        // keeps its largest z.
        let sql = format!(
            "WITH e AS (SELECT row_id, CAST(position AS BIGINT) AS pos, {item} AS item, \
             CASE WHEN click > 0 THEN 1.0 ELSE 0.0 END AS c FROM events \
             WHERE position IS NOT NULL AND click IS NOT NULL), \
             p AS (SELECT pos, CAST(count(*) AS DOUBLE) AS n, sum(c) AS k FROM e GROUP BY pos), \
             pairs AS (SELECT lo.pos, lo.k / lo.n AS ctr, hi.pos AS better, hi.k / hi.n AS better_ctr, \
               (lo.k / lo.n - hi.k / hi.n) / sqrt(((lo.k + hi.k) / (lo.n + hi.n)) \
               * (1.0 - (lo.k + hi.k) / (lo.n + hi.n)) * (1.0 / lo.n + 1.0 / hi.n)) AS z \
               FROM p lo JOIN p hi ON hi.pos < lo.pos \
               WHERE lo.k + hi.k > 0 AND lo.k + hi.k < lo.n + hi.n), \
             worst AS (SELECT pos, ctr, better, better_ctr, z FROM (SELECT *, row_number() OVER \
               (PARTITION BY pos ORDER BY z DESC, better) AS rn FROM pairs \
               WHERE z >= {min_z} AND ctr >= (1.0 + {min_lift}) * better_ctr) WHERE rn = 1), \
             items AS (SELECT e.item, count(*) AS impressions, sum(e.c) AS clicks, sum(p.k / p.n) AS expected \
               FROM e JOIN p ON e.pos = p.pos WHERE e.item IS NOT NULL GROUP BY e.item \
               HAVING sum(e.c) = 0 AND sum(p.k / p.n) >= {min_expected}) \
             SELECT e.row_id, 'position_inversion' AS finding, e.pos AS position, \
               round(w.ctr * 100, 3) AS ctr_pct, w.better AS better_position, \
               round(w.better_ctr * 100, 3) AS better_ctr_pct, round(w.z, 2) AS z \
               FROM e JOIN worst w ON e.pos = w.pos \
             UNION ALL \
             SELECT e.row_id, 'item_never_clicked' AS finding, e.pos AS position, \
               NULL, NULL, NULL, NULL FROM e JOIN items i ON e.item = i.item"
        );
        vec![
            ProbeSpec::query(
                t,
                Some(Role::Position),
                sql,
                "{n} impressions at positions or of items whose CTR is anomalous",
                self.severity(),
            )
            .variant(
                "position_inversion",
                Severity::Warning,
                "{n} {impression is|impressions are} at a position clicked significantly more than a better position: clicks do not decay with position (see the examples for the CTRs and z)",
            )
            .variant(
                "item_never_clicked",
                Severity::Info,
                &format!(
                    "{{n}} {{impression is|impressions are}} of items never clicked, though this log's CTR at the positions they were shown predicts at least {min_expected} clicks each"
                ),
            ),
        ]
    }
}
