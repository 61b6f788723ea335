use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// NU002
pub struct NegativePrice;

impl Check for NegativePrice {
    meta!(
        "NU002",
        "negative-price",
        Error,
        Some("DropRows"),
        "\
negative-price (NU002)

What: finds negative prices.

Why: a price cannot be negative; these are accounting adjustments (bad debt, refunds) booked
as product lines, and they poison revenue and price features.

Example: Online Retail has 2 lines \"Adjust bad debt\" with UnitPrice −11,062.06.

Fix: move adjustments out of the item data (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        per_role(
            ctx,
            &[Role::Price],
            self.severity(),
            |_, r| Some(format!("{r} < 0")),
            |t, r| {
                format!(
                    "{{n}} {{row has|rows have}} a negative price (column {})",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
