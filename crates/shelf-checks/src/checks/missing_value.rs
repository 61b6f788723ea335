use shelf_core::{Role, Severity};

use super::{show, sparse};
use crate::plan::{Check, Ctx, ProbeSpec};

/// MV001
pub struct MissingValue;

impl Check for MissingValue {
    meta!(
        "MV001",
        "missing-value",
        Warning,
        Some("FillMissing"),
        "\
missing-value (MV001)

What: counts rows where a role that every row should have is null, empty or whitespace only
(per role, per table). Roles that are naturally sparse — the query of a non-search event, the
price of a page view — are not checked.

Why: a product without a title cannot be found; an event without a user cannot be attributed;
models trained on such rows learn from holes.

Example: Online Retail has 135,080 order lines without a CustomerID.

Fix: fill the value from another source (FillMissing), or drop the rows from training data."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for t in ctx.tables {
            for &role in t.roles.keys() {
                if sparse(t.kind, role) {
                    continue;
                }
                let severity = if role == Role::ItemId {
                    Severity::Error
                } else {
                    self.severity()
                };
                out.push(ProbeSpec::rows(
                    t,
                    Some(role),
                    format!("shelf_is_blank({})", t.raw_text(role)),
                    show(t, role),
                    format!(
                        "{{n}} of {{total}} rows ({{pct}}%) {{has|have}} no {} (column {})",
                        role,
                        t.column(role).unwrap_or_default()
                    ),
                    severity,
                ));
            }
        }
        out
    }
}
