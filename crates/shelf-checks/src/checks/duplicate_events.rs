use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// DU003
pub struct DuplicateEvents;

impl Check for DuplicateEvents {
    meta!(
        "DU003",
        "duplicate-events",
        Warning,
        Some("DropDuplicateEvents"),
        "\
duplicate-events (DU003)

What: finds events with the same user, item, event type and timestamp as an earlier event but
not identical to it (exact copies are duplicate-rows). Needs user_id, item_id and timestamp.

Why: double-fired tracking pixels and retried writes inflate clicks and purchases; a model
learns that the item is twice as popular as it is.

Example: the same user viewing the same item at the same second twice, from positions 3 and 4.

Fix: keep the first of each group (DropDuplicateEvents)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Events) else {
            return vec![];
        };
        if !(t.has(Role::UserId) && t.has(Role::ItemId) && t.has(Role::Timestamp)) {
            return vec![];
        }
        let mut key = vec!["user_id", "item_id", "timestamp"];
        if t.has(Role::Event) {
            key.push("event");
        }
        let content: Vec<String> = t.roles.keys().map(|r| t.raw_text(*r)).collect();
        let h = format!("shelf_hash({})", content.join(", "));
        let part = key.join(", ");
        let sql = format!(
            "SELECT row_id, first_row_id, user_id, item_id, timestamp_raw FROM (SELECT row_id, user_id, item_id, timestamp_raw, {h} AS h, \
             first_value({h}) OVER (PARTITION BY {part} ORDER BY row_id) AS fh, \
             first_value(row_id) OVER (PARTITION BY {part} ORDER BY row_id) AS first_row_id \
             FROM events WHERE user_id IS NOT NULL AND item_id IS NOT NULL AND timestamp IS NOT NULL) \
             WHERE row_id <> first_row_id AND h <> fh"
        );
        vec![ProbeSpec::query(
            t,
            None,
            sql,
            format!(
                "{{n}} events repeat an earlier event's {} with other details differing",
                key.join(", ")
            ),
            self.severity(),
        )]
    }
}
