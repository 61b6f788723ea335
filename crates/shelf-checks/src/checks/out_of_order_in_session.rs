use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// TI003
pub struct OutOfOrderInSession;

impl Check for OutOfOrderInSession {
    meta!(
        "TI003",
        "out-of-order-in-session",
        Warning,
        Some("SortEvents"),
        "\
out-of-order-in-session (TI003)

What: within each session, in file order, finds events whose time is earlier than the
previous event of the same session.

Why: logs are usually written in time order within a session; a step back in time means
clock skew between devices or servers, merged logs, or a timezone mix-up — and sequence
models learn the wrong next item.

Example: a `purchase` logged at 10:05 after a `view` at 10:07 of the same session.

Fix: sort events by time within sessions, after fixing clocks (SortEvents)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !(t.has(Role::SessionId) && t.has(Role::Timestamp)) {
            return vec![];
        }
        let sql = "SELECT row_id, session_id, previous_time, timestamp_raw FROM (SELECT row_id, session_id, timestamp, timestamp_raw, \
                   lag(timestamp) OVER (PARTITION BY session_id ORDER BY row_id) AS prev, \
                   lag(timestamp_raw) OVER (PARTITION BY session_id ORDER BY row_id) AS previous_time \
                   FROM events WHERE session_id IS NOT NULL AND timestamp IS NOT NULL) WHERE timestamp < prev"
            .to_string();
        vec![ProbeSpec::query(
            t,
            Some(Role::Timestamp),
            sql,
            "{n} {event is|events are} earlier than the event before them in the same session",
            self.severity(),
        )]
    }
}
