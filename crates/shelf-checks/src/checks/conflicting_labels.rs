use shelf_core::{Role, TableKind};

use super::query_key;
use crate::plan::{Check, Ctx, ProbeSpec};
use shelf_io::presets::LabelScale;

/// JU001
pub struct ConflictingLabels;

/// The label gap that counts as a conflict: half the declared scale, or half the observed range.
pub(crate) fn half_range(scale: Option<LabelScale>) -> String {
    match scale {
        Some(LabelScale::Range(lo, hi)) => format!("{}", (hi - lo) / 2.0),
        Some(LabelScale::Esci) => "1.5".into(),
        None => "(SELECT (max(label) - min(label)) / 2.0 FROM judgments)".into(),
    }
}

impl Check for ConflictingLabels {
    meta!(
        "JU001",
        "conflicting-labels",
        Warning,
        Some("ResolveLabels"),
        "\
conflicting-labels (JU001)

What: finds (query, item) pairs judged more than once whose labels differ by at least half
the label scale (e.g. 0 and 2 on a 0–3 scale; Exact and Irrelevant in ESCI), and reports
every judgment of such a pair.

Why: contradictory labels cap the nDCG any ranker can reach and make offline metrics noisy;
they point at unclear guidelines or careless annotators.

Example: annotator a1 says 3 (perfect), a4 says 0 (irrelevant) for the same pair.

Fix: adjudicate or aggregate (ResolveLabels: majority or mean, with agreement recorded)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Judgments) else {
            return vec![];
        };
        let Some(q) = query_key(t) else { return vec![] };
        if !(t.has(Role::ItemId) && t.has(Role::Label)) {
            return vec![];
        }
        let gap = half_range(t.label_scale);
        let sql = format!(
            "SELECT j.row_id, j.{q} AS query, j.item_id, j.label_raw AS label FROM judgments j JOIN \
             (SELECT {q} AS k, item_id, min(label) AS lo, max(label) AS hi FROM judgments WHERE label IS NOT NULL \
              GROUP BY {q}, item_id HAVING max(label) - min(label) >= {gap}) g \
             ON j.{q} = g.k AND j.item_id = g.item_id WHERE j.label IS NOT NULL"
        );
        vec![ProbeSpec::query(
            t,
            Some(Role::Label),
            sql,
            "{n} {judgment belongs|judgments belong} to (query, item) pairs whose labels contradict each other",
            self.severity(),
        )]
    }
}
