use shelf_core::{Role, Severity, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// QU002
pub struct DuplicateQueries;

impl Check for DuplicateQueries {
    meta!(
        "QU002",
        "duplicate-queries-after-normalization",
        Warning,
        Some("NormalizeQueries"),
        "\
duplicate-queries-after-normalization (QU002)

What: in a query table, groups queries by a normal form (NFKC so full-width becomes
half-width, lower case, no spaces or punctuation, except a decimal point between digits, so
`2.5kg` and `25kg` stay apart) and reports every query after the first of
its group: as a *variant* when spelled differently from the first (`iPhone12`, `iphone 12`,
`ＩＰＨＯＮＥ　１２`), as a *repeat* when identical.

Why: variants split one intent's statistics over several strings, so popular queries look
rare and their judgments or rewrites do not transfer.

Example: `华为 P40` and `华为p40` as two different queries.

Fix: normalise query text before counting and joining (NormalizeQueries)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Queries) else {
            return vec![];
        };
        if !t.has(Role::Query) {
            return vec![];
        }
        let sql = "SELECT row_id, query, first_query, first_row_id, CASE WHEN query = first_query THEN 'repeat' ELSE 'variant' END AS finding FROM \
                   (SELECT row_id, query, first_value(query) OVER (PARTITION BY nq ORDER BY row_id) AS first_query, \
                    first_value(row_id) OVER (PARTITION BY nq ORDER BY row_id) AS first_row_id \
                    FROM (SELECT row_id, query, shelf_norm_query(query) AS nq FROM queries WHERE NOT shelf_is_blank(query))) \
                   WHERE row_id <> first_row_id"
            .to_string();
        vec![
            ProbeSpec::query(t, Some(Role::Query), sql, "{n} {query duplicates|queries duplicate} an earlier query after normalization", self.severity())
                .variant("variant", Severity::Warning, "{n} {query is a spelling variant|queries are spelling variants} (case, width, spacing, punctuation) of an earlier query")
                .variant("repeat", Severity::Info, "{n} {query repeats|queries repeat} an earlier query exactly"),
        ]
    }
}
