use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// OR002
pub struct NonProductLine;

impl Check for NonProductLine {
    meta!(
        "OR002",
        "non-product-line",
        Warning,
        Some("DropRows"),
        "\
non-product-line (OR002)

What: finds item rows that are not products: postage, carriage, bank charges, marketplace
fees, commissions, discounts, manual adjustments, samples — recognised by the title, or by a
short letters-only code (`POST`, `DOT`, `M`, `D`) in an id scheme that otherwise uses digits.

Why: fees and adjustments become the \"most popular items\" in a recommender and distort
price and basket statistics.

Example: Online Retail's `POST` (POSTAGE), `DOT` (DOTCOM POSTAGE), `M` (Manual), `BANK
CHARGES`, `AMAZONFEE`.

Fix: move them out of the item data (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for kind in [TableKind::Catalog, TableKind::Events] {
            let Some(t) = ctx.table(kind) else { continue };
            if !t.has(Role::ItemId) {
                continue;
            }
            let title = if t.has(Role::Title) { "title" } else { "NULL" };
            let mut show = vec!["item_id".to_string()];
            if t.has(Role::Title) {
                show.push("title".into());
            }
            out.push(ProbeSpec::rows(
                t,
                Some(Role::ItemId),
                format!("shelf_non_product(item_id, {title})"),
                show,
                "{n} {row is a fee, postage or adjustment line|rows are fees, postage or adjustments} rather than products",
                self.severity(),
            ));
        }
        out
    }
}
