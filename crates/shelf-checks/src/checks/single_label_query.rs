use shelf_core::{Role, TableKind};

use super::query_key;
use crate::plan::{Check, Ctx, ProbeSpec};

/// JU002
pub struct SingleLabelQuery;

impl Check for SingleLabelQuery {
    meta!(
        "JU002",
        "single-label-query",
        Info,
        Some("SynthesizeJudgments"),
        "\
single-label-query (JU002)

What: finds queries with at least `min_judgments` judgments (default 3) that all carry the
same label.

Why: a query whose judged items are all equally relevant (or all irrelevant) cannot tell two
rankers apart: it adds nothing to nDCG differences and dilutes the averages.

Example: a query with five items all labelled 3.

Fix: judge more (harder) items for it, or synthesize negatives (SynthesizeJudgments)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Judgments) else {
            return vec![];
        };
        let Some(q) = query_key(t) else { return vec![] };
        if !t.has(Role::Label) {
            return vec![];
        }
        let min = ctx
            .params
            .f64(self.code(), self.name(), "min_judgments", 3.0) as i64;
        let sql = format!(
            "SELECT j.row_id, j.{q} AS query, j.label_raw AS label FROM judgments j JOIN \
             (SELECT {q} AS k FROM judgments WHERE label IS NOT NULL GROUP BY {q} HAVING count(*) >= {min} AND min(label) = max(label)) g \
             ON j.{q} = g.k"
        );
        vec![ProbeSpec::query(
            t,
            Some(Role::Label),
            sql,
            format!(
                "{{n}} {{judgment belongs|judgments belong}} to queries (with {min}+ judgments) whose labels are all the same"
            ),
            self.severity(),
        )]
    }
}
