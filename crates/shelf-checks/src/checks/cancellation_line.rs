use shelf_core::{Role, Severity, TableKind};

use super::non_positive_quantity::{cancellation_sql, cancellation_sql_on};
use crate::plan::{Check, Ctx, ProbeSpec};

/// OR001
pub struct CancellationLine;

impl Check for CancellationLine {
    meta!(
        "OR001",
        "cancellation-line",
        Warning,
        Some("DropCancellations"),
        "\
cancellation-line (OR001)

What: finds cancellation and return lines — order ids with a cancellation marker (Online
Retail's `C536379`) or events named cancel/return/refund — and says for each whether an
earlier, non-cancelled line of the same customer and item exists (the original order).

Why: counted as sales, cancellations inflate demand; dropped blindly, their originals stay
and still inflate it. Unmatched cancellations mean the original is missing from the data.

Example: Online Retail has 9,288 cancellation lines.

Fix: net cancellations against their originals, or drop both (DropCancellations)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        let Some(cancel) = cancellation_sql(t) else {
            return vec![];
        };
        if !t.has(Role::ItemId) {
            return vec![];
        }
        let user = t.has(Role::UserId);
        let time = t.has(Role::Timestamp);
        let key_cols = if user { "user_id, item_id" } else { "item_id" };
        let on = if user {
            "c.user_id = o.user_id AND c.item_id = o.item_id"
        } else {
            "c.item_id = o.item_id"
        };
        let first = if time {
            "min(e.timestamp)"
        } else {
            "min(e.row_id)"
        };
        let k_on = if user {
            "k.user_id = e.user_id AND k.item_id = e.item_id"
        } else {
            "k.item_id = e.item_id"
        };
        let e_key_cols = if user {
            "e.user_id, e.item_id"
        } else {
            "e.item_id"
        };
        let cmp = if time {
            "o.first_seen <= c.timestamp"
        } else {
            "o.first_seen < c.row_id"
        };
        let show = if t.has(Role::OrderId) {
            "c.order_id, "
        } else {
            ""
        };
        let sel_order = if t.has(Role::OrderId) {
            "order_id, "
        } else {
            ""
        };
        // Only the (customer, item) pairs that have a cancellation need their first order: they
        // are the join's left (built) side, so the grouping never holds every pair of the log.
        let sql = format!(
            "WITH c AS (SELECT row_id, {sel_order}{key_cols}{ts} FROM events WHERE {cancel}), \
             k AS (SELECT DISTINCT {key_cols} FROM c), \
             o AS (SELECT {e_key_cols}, {first} AS first_seen FROM k JOIN events e ON {k_on} \
             WHERE NOT {e_cancel} GROUP BY {e_key_cols}) \
             SELECT c.row_id, {show}c.item_id, CASE WHEN o.first_seen IS NOT NULL AND {cmp} THEN 'with_original' ELSE 'without_original' END AS finding \
             FROM c LEFT JOIN o ON {on}",
            ts = if time { ", timestamp" } else { "" },
            e_cancel = cancellation_sql_on(t, "e.").unwrap_or_default(),
        );
        vec![
            ProbeSpec::query(t, t.has(Role::OrderId).then_some(Role::OrderId), sql, "{n} cancellation or return {line|lines}", self.severity())
                .variant("with_original", Severity::Info, "{n} cancellation or return {line matches|lines match} an earlier order of the same customer and item")
                .variant("without_original", Severity::Warning, "{n} cancellation or return {line has|lines have} no earlier order of the same customer and item in the data"),
        ]
    }
}
