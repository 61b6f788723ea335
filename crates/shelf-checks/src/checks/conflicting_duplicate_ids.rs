use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// DU002
pub struct ConflictingDuplicateIds;

impl Check for ConflictingDuplicateIds {
    meta!(
        "DU002",
        "conflicting-duplicate-ids",
        Error,
        Some("MergeDuplicates"),
        "\
conflicting-duplicate-ids (DU002)

What: in tables where an id should name one thing (a catalog's item id, a query table's query
id), finds later rows that reuse an earlier row's id with different content (another title,
price, category…).

Why: a join on that id fans out or picks an arbitrary version; the shop shows one price and
charges another.

Example: sku `A100` listed twice, once at ¥88 and once at ¥880.

Fix: decide which version is right and merge (MergeDuplicates)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for (kind, id) in [
            (TableKind::Catalog, Role::ItemId),
            (TableKind::Queries, Role::QueryId),
        ] {
            let Some(t) = ctx.table(kind) else { continue };
            if !t.has(id) {
                continue;
            }
            let content: Vec<String> = t
                .roles
                .keys()
                .filter(|r| **r != id)
                .map(|r| t.raw_text(*r))
                .collect();
            if content.is_empty() {
                continue;
            }
            let h = format!("shelf_hash({})", content.join(", "));
            let idc = id.as_str();
            let sql = format!(
                "SELECT row_id, {idc}, first_row_id FROM (SELECT row_id, {idc}, {h} AS h, \
                 first_value({h}) OVER (PARTITION BY {idc} ORDER BY row_id) AS fh, \
                 first_value(row_id) OVER (PARTITION BY {idc} ORDER BY row_id) AS first_row_id \
                 FROM \"{v}\" WHERE {idc} IS NOT NULL AND NOT shelf_is_blank({idc})) WHERE h <> fh",
                v = t.view()
            );
            out.push(ProbeSpec::query(
                t,
                Some(id),
                sql,
                format!(
                    "{{n}} {{row reuses|rows reuse}} an earlier row's {id} with different content"
                ),
                self.severity(),
            ));
        }
        out
    }
}
