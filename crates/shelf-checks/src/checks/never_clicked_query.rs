use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// QU005
pub struct NeverClickedQuery;

const CODE: &str = "QU005";
const NAME: &str = "never-clicked-query";

impl Check for NeverClickedQuery {
    meta!(
        "QU005",
        "never-clicked-query",
        Info,
        None,
        "\
never-clicked-query (QU005)

What: in an event log that records the query behind events, finds queries searched in at
least 5 sessions (or by 5 users) and never clicked: no event with that query (compared
normalised: case, width and spacing folded) is a click (click > 0, or a click, cart or purchase
event). Only logs with at least one clicked query are checked.

Why: a query people keep asking and never click is a query the ranking fails: its results
exist but are wrong, or the results page is broken. These are the queries to label first and
to measure a ranking change on.

Example: `sofa bed` searched in 48 sessions, shown 20 results each time, clicked never.

Settings ([checks.never-clicked-query]): min_searches (5).

Fix: look at the results these queries return; add judgments for them to the search
evaluation set."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !t.has(Role::Query) {
            return vec![];
        }
        let mut clicked = Vec::new();
        if t.has(Role::Click) {
            clicked.push("coalesce(click, 0) > 0");
        }
        if t.has(Role::Event) {
            clicked
                .push("coalesce(shelf_event_kind(event) IN ('click', 'cart', 'purchase'), false)");
        }
        if clicked.is_empty() {
            return vec![];
        }
        let who = if t.has(Role::SessionId) {
            "session_id"
        } else if t.has(Role::UserId) {
            "user_id"
        } else {
            "CAST(row_id AS VARCHAR)"
        };
        let min = ctx.params.f64(CODE, NAME, "min_searches", 5.0).max(1.0);
        let sql = format!(
            "WITH q AS (SELECT row_id, query, {who} AS who, shelf_norm_query(query) AS nq, \
             CASE WHEN {clicked} THEN 1 ELSE 0 END AS clicked FROM events \
             WHERE query IS NOT NULL AND NOT shelf_is_blank(query)), \
             g AS (SELECT nq, count(DISTINCT who) AS searches FROM q GROUP BY nq \
             HAVING max(clicked) = 0 AND count(DISTINCT who) >= {min}) \
             SELECT q.row_id, q.query, g.searches FROM q JOIN g ON q.nq = g.nq \
             WHERE (SELECT max(clicked) FROM q) = 1",
            clicked = clicked.join(" OR "),
        );
        vec![ProbeSpec::query(
            t,
            Some(Role::Query),
            sql,
            format!(
                "{{n}} {{event is|events are}} of queries searched at least {min} times and never clicked"
            ),
            self.severity(),
        )]
    }
}
