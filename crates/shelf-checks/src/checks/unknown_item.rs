use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// RI001
pub struct UnknownItem;

impl Check for UnknownItem {
    meta!(
        "RI001",
        "unknown-item",
        Error,
        Some("DropRows"),
        "\
unknown-item (RI001)

What: finds events, judgments and reviews whose item id is not in the catalog (runs when a
catalog is given).

Why: interactions with items that do not exist cannot be joined to features; relevance
judgments on them cannot be evaluated; they usually mean an id format mismatch (leading
zeros, prefixes) or a stale catalog.

Example: events naming `SKU-0042` while the catalog says `42`.

Fix: fix the id mapping, or drop the orphan rows (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(c) = ctx.table(TableKind::Catalog) else {
            return vec![];
        };
        if !c.has(Role::ItemId) {
            return vec![];
        }
        let mut out = Vec::new();
        for kind in [TableKind::Events, TableKind::Judgments, TableKind::Reviews] {
            let Some(t) = ctx.table(kind) else { continue };
            if !t.has(Role::ItemId) {
                continue;
            }
            let sql = format!(
                "SELECT t.row_id, t.item_id FROM \"{v}\" t WHERE t.item_id IS NOT NULL AND NOT shelf_is_blank(t.item_id) \
                 AND NOT EXISTS (SELECT 1 FROM catalog c WHERE c.item_id = t.item_id)",
                v = t.view()
            );
            out.push(ProbeSpec::query(
                t,
                Some(Role::ItemId),
                sql,
                "{n} of {total} rows ({pct}%) {names|name} an item that is not in the catalog",
                self.severity(),
            ));
        }
        out
    }
}
