use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// FN003
pub struct ConversionAfterSessionEnd;

const CODE: &str = "FN003";
const NAME: &str = "conversion-after-session-end";

impl Check for ConversionAfterSessionEnd {
    meta!(
        "FN003",
        "conversion-after-session-end",
        Warning,
        None,
        "\
conversion-after-session-end (FN003)

What: finds carts and purchases logged in a session more than 30 minutes after that session's
previous event: by the usual definition (a session ends after 30 idle minutes) the session
had already ended, so the conversion was attached to it afterwards. Needs session_id, event
and timestamp. The first event of a session has no previous event and is not checked
(conversion-without-view, FN001, covers conversions with nothing before them).

Why: late conversions come from server-side purchase events stitched to the last session the
user had, from attribution windows applied to session ids, or from session ids reused across
visits. A model that learns from sessions credits the purchase to what the user did hours
earlier; session-based recommenders learn sessions that never happened.

Example: session 88 views a kettle at 09:00 and buys it at 14:30, with nothing in between.

Settings ([checks.conversion-after-session-end]): session_timeout_minutes (30).

Fix: end sessions at the idle timeout before training session models, or attribute late
conversions explicitly (a separate attribution table) instead of into the session."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !(t.has(Role::SessionId) && t.has(Role::Event) && t.has(Role::Timestamp)) {
            return vec![];
        }
        let minutes = ctx
            .params
            .f64(CODE, NAME, "session_timeout_minutes", 30.0)
            .max(0.0);
        let timeout_micros = (minutes * 60e6) as i64;
        let item = if t.has(Role::ItemId) { ", item_id" } else { "" };
        let sql = format!(
            "WITH g AS (SELECT row_id, session_id{item}, event, timestamp_raw, \
             shelf_event_kind(event) AS kind, CAST(timestamp AS BIGINT) - lag(CAST(timestamp AS BIGINT)) \
             OVER (PARTITION BY session_id ORDER BY timestamp, row_id) AS gap FROM events \
             WHERE session_id IS NOT NULL AND timestamp IS NOT NULL) \
             SELECT row_id, session_id{item}, event, timestamp_raw, \
             CAST(round(gap / 60000000.0) AS BIGINT) AS minutes_after_previous_event FROM g \
             WHERE kind IN ('cart', 'purchase') AND gap > {timeout_micros}"
        );
        vec![ProbeSpec::query(
            t,
            Some(Role::Event),
            sql,
            format!(
                "{{n}} {{cart or purchase comes|carts or purchases come}} more than {minutes} minutes after the previous event of {{its|their}} session, when the session had ended"
            ),
            self.severity(),
        )]
    }
}
