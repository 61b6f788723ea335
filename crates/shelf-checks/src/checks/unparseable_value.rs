use super::{null_like, show, type_name};
use crate::plan::{Check, Ctx, ProbeSpec, is_parsed};

/// SC001
pub struct UnparseableValue;

impl Check for UnparseableValue {
    meta!(
        "SC001",
        "unparseable-value",
        Error,
        Some("NormalizeValues"),
        "\
unparseable-value (SC001)

What: finds values of typed roles that cannot be read as their type: prices that are not an
amount in any common shop format (`$1,299.00`, `1.299,00 €`, `¥88` all parse), numbers that
are not numbers, times in no known format, labels that are not a number or an ESCI letter.
Blank and placeholder values are left to missing-value and null-like-string.

Why: an unreadable price becomes null downstream without anyone noticing; ranking features
and revenue metrics silently lose those rows.

Example: a price column holding \"call for price\"; a timestamp \"yesterday\".

Fix: normalise the values (NormalizeValues) or map the column to a different role in
shelf.toml if it is not what shelf assumed."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for t in ctx.tables {
            for &role in t.roles.keys().filter(|r| is_parsed(**r)) {
                let raw = format!("{}_raw", role.as_str());
                out.push(ProbeSpec::rows(
                    t,
                    Some(role),
                    format!(
                        "{} IS NULL AND NOT shelf_is_blank({raw}) AND NOT {}",
                        role.as_str(),
                        null_like(t, &raw)
                    ),
                    show(t, role),
                    format!(
                        "{{n}} {{value|values}} in column {} cannot be read as a {}",
                        t.column(role).unwrap_or_default(),
                        type_name(role)
                    ),
                    self.severity(),
                ));
            }
        }
        out
    }
}
