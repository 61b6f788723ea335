use shelf_core::{Role, Severity, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// FN001
pub struct ConversionWithoutView;

impl Check for ConversionWithoutView {
    meta!(
        "FN001",
        "conversion-without-view",
        Warning,
        None,
        "\
conversion-without-view (FN001)

What: finds cart and purchase events whose item the same session (or, without sessions, the
same user) never viewed before: either no view of that item at all (never_viewed) or only
views after the cart or purchase (viewed_later). Event names are read as funnel steps: pv,
view, click, detail are views; cart, addtocart are carts; buy, purchase, order, transaction
are purchases. Needs item_id, event and a session or user; time order comes from the
timestamp (equal times count as before), else from file order. A log without any view event
is not checked.

Why: in a shop a purchase follows a view of the item. Conversions without one come from logs
that lost their view events (a tracking gap, a sampled view stream), from purchases made
outside the tracked surface (re-orders, apps), or from a log window that starts after the
views happened. Recommendation and CTR models trained on such logs learn conversions with no
path to them.

Example: Taobao user 1000 buys item 2,704,321 at 09:12 but the log holds no pv of it by that
user, or only one at 09:40.

Fix: check the tracking of views on the surfaces where these conversions happen; when the log
window is the cause, drop conversions from its first hours."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        let Some((actor, sql)) = step_without_prior(
            t,
            &["cart", "purchase"],
            &["view", "click"],
            ["never_viewed", "viewed_later"],
        ) else {
            return vec![];
        };
        let who = if actor == "session_id" {
            "session"
        } else {
            "user"
        };
        vec![
            ProbeSpec::query(
                t,
                Some(Role::Event),
                sql,
                "{n} {cart or purchase|carts or purchases} without a prior view",
                self.severity(),
            )
            .variant(
                "never_viewed",
                Severity::Warning,
                &format!(
                    "{{n}} {{cart or purchase is|carts or purchases are}} of an item the same {who} never viewed in the log"
                ),
            )
            .variant(
                "viewed_later",
                Severity::Warning,
                &format!(
                    "{{n}} {{cart or purchase comes|carts or purchases come}} before the same {who}'s first view of the item"
                ),
            ),
        ]
    }
}

/// A query for events of the `later` funnel steps whose item the same session (or user) had no
/// event of the `earlier` steps for before them, with a `finding` column: `keys[0]` (no earlier
/// step for that item at all) or `keys[1]` (only after). Returns the actor column with it; `None`
/// when the table lacks an item, an event or an actor. No rows when the log has no event of the
/// earlier steps at all (a log of purchases only is not missing its views).
///
/// Only (actor, item) pairs of the later steps look up their first earlier step: they are the
/// join's built side, so the grouping never holds every pair of the log.
pub(crate) fn step_without_prior(
    t: &crate::plan::TableInfo,
    later: &[&str],
    earlier: &[&str],
    keys: [&str; 2],
) -> Option<(&'static str, String)> {
    let actor = if t.has(Role::SessionId) {
        "session_id"
    } else if t.has(Role::UserId) {
        "user_id"
    } else {
        return None;
    };
    if !(t.has(Role::ItemId) && t.has(Role::Event)) {
        return None;
    }
    let order = if t.has(Role::Timestamp) {
        "coalesce(CAST(timestamp AS BIGINT), 0)"
    } else {
        "CAST(row_id AS BIGINT)"
    };
    let list = |kinds: &[&str]| {
        kinds
            .iter()
            .map(|k| crate::plan::sql_str(k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (later, earlier) = (list(later), list(earlier));
    let [never, after] = keys.map(crate::plan::sql_str);
    Some((
        actor,
        format!(
            "WITH e AS (SELECT row_id, {actor} AS actor, item_id, event, {order} AS t, \
             shelf_event_kind(event) AS kind FROM events \
             WHERE {actor} IS NOT NULL AND item_id IS NOT NULL), \
             c AS (SELECT row_id, actor, item_id, event, t FROM e WHERE kind IN ({later})), \
             k AS (SELECT DISTINCT actor, item_id FROM c), \
             v AS (SELECT e.actor, e.item_id, min(e.t) AS first_before FROM k JOIN e \
             ON k.actor = e.actor AND k.item_id = e.item_id WHERE e.kind IN ({earlier}) \
             GROUP BY e.actor, e.item_id) \
             SELECT c.row_id, c.actor AS {actor}, c.item_id, c.event, \
             CASE WHEN v.first_before IS NULL THEN {never} ELSE {after} END AS finding \
             FROM c LEFT JOIN v ON c.actor = v.actor AND c.item_id = v.item_id \
             WHERE (v.first_before IS NULL OR v.first_before > c.t) \
             AND (SELECT count(*) FROM e WHERE kind IN ({earlier})) > 0"
        ),
    ))
}
