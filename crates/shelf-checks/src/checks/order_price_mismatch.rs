use shelf_core::{Role, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// NU007
pub struct OrderPriceMismatch;

impl Check for OrderPriceMismatch {
    meta!(
        "NU007",
        "order-price-mismatch",
        Warning,
        None,
        "\
order-price-mismatch (NU007)

What: compares the price on each event (order line) with the item's catalog price (the median
when the catalog lists the item more than once) and flags differences above `max_diff`
(default 50%) of the catalog price.

Why: either the catalog is stale or the order line is wrong; price features and revenue
attribution disagree with what customers paid.

Example: an order line at ¥8.80 for an item the catalog prices at ¥88.

Fix: investigate the source of truth; update the catalog or the order data."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let (Some(e), Some(c)) = (ctx.table(TableKind::Events), ctx.table(TableKind::Catalog))
        else {
            return vec![];
        };
        if !(e.has(Role::Price) && e.has(Role::ItemId) && c.has(Role::Price) && c.has(Role::ItemId))
        {
            return vec![];
        }
        let max = ctx.params.f64(self.code(), self.name(), "max_diff", 0.5);
        let sql = format!(
            "SELECT e.row_id, e.item_id, e.price AS order_price, c.price AS catalog_price FROM events e \
             JOIN (SELECT item_id, median(price) AS price FROM catalog WHERE price > 0 GROUP BY item_id) c ON e.item_id = c.item_id \
             WHERE e.price > 0 AND abs(e.price - c.price) > {max} * c.price"
        );
        vec![ProbeSpec::query(
            e,
            Some(Role::Price),
            sql,
            format!(
                "{{n}} event {{price differs|prices differ}} from the catalog price by more than {:.0}%",
                max * 100.0
            ),
            self.severity(),
        )]
    }
}
