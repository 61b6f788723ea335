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
        let content: Vec<String> = t
            .roles
            .keys()
            .map(|r| format!("e.{}", t.raw_text(*r)))
            .collect();
        let h = format!("shelf_hash({})", content.join(", "));
        let part = key.join(", ");
        // A grouped aggregate finds the (rare) repeated keys; only their rows are hashed and
        // joined. A window over every row would sort the whole log (it did: 33 s of a 53 s
        // audit on 10.8 M rows).
        let same = key
            .iter()
            .map(|k| format!("(e.{k} IS NOT DISTINCT FROM d.{k})"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let sql = format!(
            "WITH d AS (SELECT {part}, min(row_id) AS first_row_id FROM events \
             WHERE user_id IS NOT NULL AND item_id IS NOT NULL AND timestamp IS NOT NULL \
             GROUP BY {part} HAVING count(*) > 1), \
             m AS (SELECT e.row_id, d.first_row_id, e.user_id, e.item_id, e.timestamp_raw, {h} AS h \
             FROM events e JOIN d ON {same}) \
             SELECT m.row_id, m.first_row_id, m.user_id, m.item_id, m.timestamp_raw \
             FROM m JOIN m f ON f.row_id = m.first_row_id \
             WHERE m.row_id <> m.first_row_id AND m.h <> f.h"
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
