use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// NU005
pub struct ImplausibleQuantity;

impl Check for ImplausibleQuantity {
    meta!(
        "NU005",
        "implausible-quantity",
        Warning,
        Some("DropRows"),
        "\
implausible-quantity (NU005)

What: finds absolute quantities above `max_quantity` (default 10,000) on one line.

Why: one mistyped line (an extra zero) can outweigh months of real demand in popularity and
forecasting features.

Example: Online Retail's single order of 80,995 paper birdies (cancelled minutes later).

Fix: verify and drop or cap (DropRows). Configure with `[checks.NU005] max_quantity = …`."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let max = ctx
            .params
            .f64(self.code(), self.name(), "max_quantity", 10_000.0);
        per_role(
            ctx,
            &[Role::Quantity],
            self.severity(),
            |_, r| Some(format!("abs({r}) > {max}")),
            |t, r| {
                format!(
                    "{{n}} {{row has|rows have}} a quantity above {max} in absolute value (column {})",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
