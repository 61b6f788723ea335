use shelf_core::Role;

use super::{TEXT_ROLES, per_role};
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX009
pub struct MixedScripts;

impl Check for MixedScripts {
    meta!(
        "TX009",
        "mixed-scripts",
        Warning,
        Some("NormalizeText"),
        "\
mixed-scripts (TX009)

What: finds words that mix Latin letters with Cyrillic or Greek look-alikes (`iPhоne` with a
Cyrillic `о`). Chinese next to Latin (`华为P40`) is normal and not flagged, nor are Ω and μ
written as units (`10kΩ`, `100μF`).

Why: look-alike letters make a listing invisible to exact and lexical search, and are a
common trick in counterfeit listings.

Example: `Nіke` with a Ukrainian `і`.

Fix: map look-alikes to their Latin letters (NormalizeText)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let roles: Vec<Role> = TEXT_ROLES.iter().copied().chain([Role::Brand]).collect();
        per_role(
            ctx,
            &roles,
            self.severity(),
            |_, r| Some(format!("shelf_mixed_scripts({r})")),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{mixes|mix}} Latin with Cyrillic or Greek look-alike letters in one word",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
