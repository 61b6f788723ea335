use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// QU004
pub struct ZeroResultQuery;

impl Check for ZeroResultQuery {
    meta!(
        "QU004",
        "zero-result-query",
        Warning,
        None,
        "\
zero-result-query (QU004)

What: finds searches in a query log that returned no results (result_count = 0). The
examples show the query and how many of the log's zero-result searches share its normalised
text, so the most frequent dead ends come first to mind.

Why: a search with no results is a lost shopper. Frequent ones point at missing synonyms,
spelling variants, another script (拼音 vs 汉字) or products the shop does not carry; they are
the first queries to add to a synonym list or to generate rewrites for.

Example: `airpod pro 2` returns 0 results while `AirPods Pro 2` returns 12.

Fix: add synonyms or query rewrites for the frequent ones; look at the catalog for the rest."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Queries) else {
            return vec![];
        };
        if !(t.has(Role::Query) && t.has(Role::ResultCount)) {
            return vec![];
        }
        let id = if t.has(Role::QueryId) {
            "z.query_id, "
        } else {
            ""
        };
        let sql = format!(
            "WITH z AS (SELECT * FROM queries WHERE result_count = 0), \
             n AS (SELECT shelf_norm_query(query) AS nq, count(*) AS zero_result_searches \
             FROM z GROUP BY 1) \
             SELECT z.row_id, {id}z.query, n.zero_result_searches FROM z \
             LEFT JOIN n ON shelf_norm_query(z.query) = n.nq"
        );
        vec![ProbeSpec::query(
            t,
            Some(Role::ResultCount),
            sql,
            "{n} {search|searches} returned no results",
            self.severity(),
        )]
    }
}
