use shelf_core::Role;

use super::{TEXT_ROLES, per_role};
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX002
pub struct Mojibake;

impl Check for Mojibake {
    meta!(
        "TX002",
        "mojibake",
        Error,
        Some("FixEncoding"),
        "\
mojibake (TX002)

What: finds text decoded with the wrong encoding somewhere upstream: UTF-8 read as
Windows-1252 (`CafÃ©`, `Itâ€™s`), GBK read as latin-1 (`Á¬ÒÂÈ¹` for 连衣裙), or the
replacement character U+FFFD left by a lossy conversion. Accented text that is correct
(`Crème brûlée`, `Müller`) is not flagged.

Why: the product cannot be found by its real name, and the garbage spreads to every system
that copies the catalog.

Example: a title `Ã©clair` that should read `éclair`.

Fix: re-encode the damaged values (FixEncoding: encode as the wrong charset, decode as the
right one); if the whole file is affected, read it with --encoding."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let roles: Vec<Role> = TEXT_ROLES
            .iter()
            .copied()
            .chain([Role::Brand, Role::Category])
            .collect();
        per_role(
            ctx,
            &roles,
            self.severity(),
            |_, r| Some(format!("shelf_mojibake({r})")),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{is|are}} garbled by a wrong text encoding",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
