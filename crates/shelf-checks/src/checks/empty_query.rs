use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// QU001
pub struct EmptyQuery;

impl Check for EmptyQuery {
    meta!(
        "QU001",
        "empty-query",
        Warning,
        Some("DropRows"),
        "\
empty-query (QU001)

What: finds empty or whitespace-only queries in query tables and judgments.

Why: an empty query cannot be evaluated or learned from; in a query log it usually means a
tracking bug (the search box value was not captured).

Example: a query row `\"   \"`.

Fix: drop them (DropRows), and fix the logging."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for kind in [TableKind::Queries, TableKind::Judgments] {
            let Some(t) = ctx.table(kind) else { continue };
            if !t.has(Role::Query) || (kind == TableKind::Judgments && t.has(Role::QueryId)) {
                continue;
            }
            let mut show = vec!["query".to_string()];
            if t.has(Role::QueryId) {
                show.insert(0, "query_id".into());
            }
            out.push(ProbeSpec::rows(
                t,
                Some(Role::Query),
                "shelf_is_blank(query)".into(),
                show,
                "{n} {query is|queries are} empty",
                self.severity(),
            ));
        }
        out
    }
}
