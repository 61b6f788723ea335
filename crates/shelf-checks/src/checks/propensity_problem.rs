use shelf_core::{Role, Severity, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// PB002
pub struct PropensityProblem;

const CODE: &str = "PB002";
const NAME: &str = "propensity-problem";

impl Check for PropensityProblem {
    meta!(
        "PB002",
        "propensity-problem",
        Warning,
        None,
        "\
propensity-problem (PB002)

What: checks the logged propensities of a bandit or recommendation log (the probability with
which the logging policy chose the shown item), per position when there is one:
- out_of_range: a propensity that is not in (0, 1];
- inconsistent: for any policy, the average of 1/propensity over its impressions equals the
  number of items it could choose from (the IPS identity). A position where the average is
  more than 4 standard errors from the number of distinct items logged (or, when every
  propensity is the same, more than 1% off) logs propensities of another policy, another item
  set or another position;
- dominant: an impression whose weight 1/propensity is 10% or more of its position's total
  weight (over at least 100 impressions): off-policy estimates then rest on that one row.
Needs propensity (and item_id for the inconsistent test).

Why: off-policy evaluation and unbiased learning weigh every impression by 1/propensity; a
wrong or tiny propensity silently decides the result of an A/B estimate.

Example: Open Bandit (BTS, women) logs one impression at position 2 with propensity 0.000001:
its weight is 87% of the position's total.

Settings ([checks.propensity-problem]): max_z (4), max_weight_share (0.1).

Fix: log the propensity the policy actually used, clip weights (e.g. at 1/propensity <= 100)
or use self-normalised estimators, and keep one policy per log."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !t.has(Role::Propensity) {
            return vec![];
        }
        let max_z = ctx.params.f64(CODE, NAME, "max_z", 4.0);
        let max_share = ctx.params.f64(CODE, NAME, "max_weight_share", 0.1);
        let pos = if t.has(Role::Position) {
            "coalesce(CAST(position AS BIGINT), 0)"
        } else {
            "0"
        };
        let inconsistent = if t.has(Role::ItemId) {
            format!(
                "UNION ALL SELECT ok.row_id, 'inconsistent' AS finding, ok.pos AS position, \
                 ok.propensity_raw AS propensity, round(s.m, 2) AS mean_inverse_propensity, \
                 a.actions AS items, round(CASE WHEN s.sd > 0 THEN (s.m - a.actions) / (s.sd / sqrt(s.n)) END, 2) AS z, \
                 CAST(NULL AS DOUBLE) AS weight_share_pct \
                 FROM ok JOIN s ON ok.pos = s.pos CROSS JOIN a \
                 WHERE CASE WHEN s.sd > 0 THEN abs(s.m - a.actions) / (s.sd / sqrt(s.n)) >= {max_z} \
                 ELSE abs(s.m - a.actions) > 0.01 * a.actions END"
            )
        } else {
            String::new()
        };
        let sql = format!(
            "WITH e AS (SELECT row_id, {pos} AS pos, {item} AS item, propensity, propensity_raw \
             FROM events WHERE propensity_raw IS NOT NULL AND trim(propensity_raw) <> ''), \
             ok AS (SELECT * FROM e WHERE propensity > 0 AND propensity <= 1), \
             a AS (SELECT CAST(count(DISTINCT item) AS DOUBLE) AS actions FROM ok), \
             s AS (SELECT pos, CAST(count(*) AS DOUBLE) AS n, avg(1.0 / propensity) AS m, \
               stddev_samp(1.0 / propensity) AS sd, sum(1.0 / propensity) AS total FROM ok GROUP BY pos) \
             SELECT row_id, 'out_of_range' AS finding, pos AS position, propensity_raw AS propensity, \
               CAST(NULL AS DOUBLE) AS mean_inverse_propensity, CAST(NULL AS DOUBLE) AS items, \
               CAST(NULL AS DOUBLE) AS z, CAST(NULL AS DOUBLE) AS weight_share_pct \
               FROM e WHERE propensity IS NULL OR NOT (propensity > 0 AND propensity <= 1) \
             UNION ALL SELECT ok.row_id, 'dominant', ok.pos, ok.propensity_raw, round(s.m, 2), \
               NULL, NULL, round(100.0 / ok.propensity / s.total, 1) \
               FROM ok JOIN s ON ok.pos = s.pos WHERE s.n >= 100 AND 1.0 / ok.propensity >= {max_share} * s.total \
             {inconsistent}",
            item = if t.has(Role::ItemId) {
                "item_id"
            } else {
                "CAST(NULL AS VARCHAR)"
            },
        );
        vec![
            ProbeSpec::query(
                t,
                Some(Role::Propensity),
                sql,
                "{n} impressions with a propensity problem",
                self.severity(),
            )
            .variant(
                "out_of_range",
                Severity::Error,
                "{n} {propensity is|propensities are} not a probability in (0, 1]: inverse-propensity weights are undefined or negative",
            )
            .variant(
                "dominant",
                Severity::Warning,
                &format!(
                    "{{n}} {{impression has|impressions have}} a propensity so small that {{its|each}} weight is at least {:.0}% of {{its|their}} position's total: off-policy estimates rest on {{it|them}} (weight_share_pct in the examples)",
                    max_share * 100.0
                ),
            )
            .variant(
                "inconsistent",
                Severity::Warning,
                "{n} {impression is|impressions are} at a position whose average inverse propensity is not the number of items logged: these propensities are not the logging policy's (see mean_inverse_propensity, items and z in the examples)",
            ),
        ]
    }
}
