use shelf_core::Role;

use crate::plan::{Check, Ctx, ProbeSpec};

/// NU006
pub struct PriceOutlierInCategory;

impl Check for PriceOutlierInCategory {
    meta!(
        "NU006",
        "price-outlier-in-category",
        Warning,
        Some("NormalizeValues"),
        "\
price-outlier-in-category (NU006)

What: within each category of at least 5 priced items, compares every positive price with the
category's median on a log scale, using the median absolute deviation (MAD) as the spread.
A price is an outlier when it is more than `min_ratio` (default 4×) away from the median and
its robust z-score |ln p − median| / (1.4826·MAD) exceeds `max_z` (default 3.5).

Why: prices off by 100× (cents vs units, a missing decimal point) are the most common price
defect; a robust per-category test finds them without flagging categories that are simply
expensive.

Example: headphones at ¥29,900 in a category whose median is ¥299.

Fix: correct the unit (NormalizeValues)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let min_ratio = ctx.params.f64(self.code(), self.name(), "min_ratio", 4.0);
        let max_z = ctx.params.f64(self.code(), self.name(), "max_z", 3.5);
        let mut out = Vec::new();
        for t in ctx.tables {
            if !(t.has(Role::Price) && t.has(Role::Category)) {
                continue;
            }
            let id = if t.has(Role::ItemId) {
                "p.item_id, "
            } else {
                ""
            };
            let id_inner = if t.has(Role::ItemId) { "item_id, " } else { "" };
            let sql = format!(
                "WITH p AS (SELECT row_id, {id_inner}category, price, ln(price) AS lp FROM \"{v}\" WHERE price > 0 AND category IS NOT NULL), \
                 m AS (SELECT category, median(lp) AS med FROM p GROUP BY category HAVING count(*) >= 5), \
                 d AS (SELECT p.category, median(abs(p.lp - m.med)) AS mad FROM p JOIN m ON p.category = m.category GROUP BY p.category) \
                 SELECT p.row_id, {id}p.category, p.price, round(exp(m.med), 2) AS category_median_price, \
                 round((p.lp - m.med) / (1.4826 * greatest(d.mad, 0.05)), 1) AS robust_z \
                 FROM p JOIN m ON p.category = m.category JOIN d ON p.category = d.category \
                 WHERE abs(p.lp - m.med) > ln({min_ratio}) AND abs(p.lp - m.med) / (1.4826 * greatest(d.mad, 0.05)) > {max_z}",
                v = t.view()
            );
            out.push(
                ProbeSpec::query(t, Some(Role::Price), sql, "{n} {price is|prices are} far from their category's typical price (robust z on log price)", self.severity())
                    .evidence("min_ratio", min_ratio.into())
                    .evidence("max_z", max_z.into()),
            );
        }
        out
    }
}
