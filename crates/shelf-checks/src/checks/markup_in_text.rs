use shelf_core::Role;

use super::{TEXT_ROLES, per_role};
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX001
pub struct MarkupInText;

impl Check for MarkupInText {
    meta!(
        "TX001",
        "markup-in-text",
        Warning,
        Some("StripMarkup"),
        "\
markup-in-text (TX001)

What: finds HTML tags (`<p>`, `<br/>`, `<b>`…) and entities (`&nbsp;`, `&amp;`) in titles,
descriptions, queries and review text. A bare `<` or `&` (`3 < 5`, `AT&T`) is not markup.

Why: markup ends up in search snippets, embeddings and generated text; `&nbsp;` splits
tokens so `size&nbsp;M` never matches \"size M\".

Example: an ESCI description starting `<b>Features</b><br>`.

Fix: strip tags and decode entities (StripMarkup)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let roles: Vec<Role> = TEXT_ROLES.iter().copied().chain([Role::Brand]).collect();
        per_role(
            ctx,
            &roles,
            self.severity(),
            |_, r| Some(format!("shelf_markup({r})")),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{contains|contain}} HTML tags or entities",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
