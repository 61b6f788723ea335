use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// NU001
pub struct ZeroPrice;

impl Check for ZeroPrice {
    meta!(
        "NU001",
        "zero-price",
        Warning,
        Some("FillMissing"),
        "\
zero-price (NU001)

What: finds prices equal to 0.

Why: a zero price is usually a missing price written as 0 (or a free sample, a write-off);
either way it breaks revenue metrics, price features and price-outlier statistics.

Example: Online Retail has 2,515 order lines with UnitPrice 0.

Fix: treat as missing and fill from the catalog (FillMissing), or drop from training data."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        per_role(
            ctx,
            &[Role::Price],
            self.severity(),
            |_, r| Some(format!("{r} = 0")),
            |t, r| {
                format!(
                    "{{n}} {{row has|rows have}} a price of 0 (column {})",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
