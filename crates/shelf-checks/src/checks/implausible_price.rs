use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// NU003
pub struct ImplausiblePrice;

impl Check for ImplausiblePrice {
    meta!(
        "NU003",
        "implausible-price",
        Warning,
        Some("NormalizeValues"),
        "\
implausible-price (NU003)

What: finds prices above `max_price` (default 1,000,000 in the data's own currency unit).

Why: such prices are almost always unit errors (cents stored as units, a phone number in the
price field) and wreck averages and price filters.

Example: a T-shirt priced 29,900,000.

Fix: correct the unit (NormalizeValues). Configure with `[checks.NU003] max_price = …`."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let max = ctx.params.f64(self.code(), self.name(), "max_price", 1e6);
        per_role(
            ctx,
            &[Role::Price],
            self.severity(),
            |_, r| Some(format!("{r} > {max}")),
            |t, r| {
                format!(
                    "{{n}} {{row has|rows have}} a price above {max} (column {})",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
