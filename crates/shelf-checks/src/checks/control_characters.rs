use shelf_core::Role;

use super::{TEXT_ROLES, per_role};
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX003
pub struct ControlCharacters;

impl Check for ControlCharacters {
    meta!(
        "TX003",
        "control-characters",
        Warning,
        Some("NormalizeText"),
        "\
control-characters (TX003)

What: finds control characters other than tab and line breaks (NUL, bell, escape…) and
invisible marks in text and ids: zero-width space, word joiner, soft hyphen, a stray
byte-order mark, bidirectional marks. The zero-width joiner inside emoji is allowed.

Why: they break CSV exports, terminal output and exact matching: `iPhone\\u200b12` looks like
`iPhone12` but never equals it.

Example: a title copied from a web page with a zero-width space inside.

Fix: remove them (NormalizeText)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let roles: Vec<Role> = TEXT_ROLES
            .iter()
            .copied()
            .chain([Role::Brand, Role::Category, Role::ItemId, Role::UserId])
            .collect();
        per_role(
            ctx,
            &roles,
            self.severity(),
            |_, r| Some(format!("shelf_control_chars({r})")),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{contains|contain}} control or invisible characters",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
