use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// RI002
pub struct ItemWithoutInteractions;

impl Check for ItemWithoutInteractions {
    meta!(
        "RI002",
        "item-without-interactions",
        Info,
        Some("SynthesizeInteractions"),
        "\
item-without-interactions (RI002)

What: lists catalog items that appear in no event (runs when events are given).

Why: cold items get no collaborative signal; recommenders never show them and they never
get the interactions that would let them be shown. Knowing how many there are sizes the
cold-start problem.

Example: 30% of a catalog never viewed in the log's 60 days.

Fix: content-based features, or synthetic interactions for cold items
(SynthesizeInteractions)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let (Some(c), Some(e)) = (ctx.table(TableKind::Catalog), ctx.table(TableKind::Events))
        else {
            return vec![];
        };
        if !(c.has(Role::ItemId) && e.has(Role::ItemId)) {
            return vec![];
        }
        let sql = "SELECT c.row_id, c.item_id FROM catalog c WHERE c.item_id IS NOT NULL AND NOT shelf_is_blank(c.item_id) \
                   AND NOT EXISTS (SELECT 1 FROM events e WHERE e.item_id = c.item_id)"
            .to_string();
        vec![ProbeSpec::query(
            c,
            Some(Role::ItemId),
            sql,
            "{n} of {total} catalog items ({pct}%) {appears|appear} in no event",
            self.severity(),
        )]
    }
}
