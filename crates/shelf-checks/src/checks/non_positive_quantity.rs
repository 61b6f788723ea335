use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// NU004
pub struct NonPositiveQuantity;

/// SQL true for rows marked as a cancellation or return (by order id or event type).
pub(crate) fn cancellation_sql(t: &crate::plan::TableInfo) -> Option<String> {
    cancellation_sql_on(t, "")
}

/// [`cancellation_sql`] over columns qualified by `prefix` (`"e."`).
pub(crate) fn cancellation_sql_on(t: &crate::plan::TableInfo, prefix: &str) -> Option<String> {
    let mut parts = Vec::new();
    if t.has(Role::OrderId) {
        parts.push(format!(
            "coalesce(shelf_cancellation({prefix}order_id), false)"
        ));
    }
    if t.has(Role::Event) {
        parts.push(format!(
            "coalesce(shelf_cancellation({prefix}event), false)"
        ));
    }
    (!parts.is_empty()).then(|| format!("({})", parts.join(" OR ")))
}

impl Check for NonPositiveQuantity {
    meta!(
        "NU004",
        "non-positive-quantity",
        Warning,
        Some("DropRows"),
        "\
non-positive-quantity (NU004)

What: finds quantities of 0 or below on rows that are not marked as a cancellation or return
(those are reported by cancellation-line).

Why: a negative quantity without a return marker is a stock adjustment, a write-off or an
error; counted as a sale it subtracts from real demand.

Example: Online Retail has 1,336 negative-quantity lines without a `C` invoice — stock
corrections like \"damaged\" or \"check\".

Fix: move them out of the demand data (DropRows)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        per_role(
            ctx,
            &[Role::Quantity],
            self.severity(),
            |t, r| {
                let not_cancel = cancellation_sql(t)
                    .map(|c| format!(" AND NOT {c}"))
                    .unwrap_or_default();
                Some(format!("{r} <= 0{not_cancel}"))
            },
            |t, r| {
                format!(
                    "{{n}} {{row has|rows have}} a quantity of 0 or less without a cancellation or return marker (column {})",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
