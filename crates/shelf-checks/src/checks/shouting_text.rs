use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, Judge, ProbeSpec};

/// TX006
pub struct ShoutingText;

impl Check for ShoutingText {
    meta!(
        "TX006",
        "all-caps-text",
        Warning,
        Some("NormalizeCase"),
        "\
all-caps-text (TX006)

What: finds titles and descriptions written entirely in capitals (at least 8 letters, none
lower case). When more than 30% of a column is like that, it is the column's convention, and
one info finding says so instead.

Why: ALL CAPS titles read as spam, and case-sensitive matching and some tokenizers treat them
as different words.

Example: `WHITE HANGING HEART T-LIGHT HOLDER` in a catalog of mixed-case titles.

Fix: convert to title case for display (NormalizeCase)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        per_role(
            ctx,
            &[Role::Title, Role::Description],
            self.severity(),
            |_, r| Some(format!("shelf_all_caps({r})")),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{is|are}} written in ALL CAPS",
                    t.column(r).unwrap_or_default()
                )
            },
        )
        .into_iter()
        .map(|s| s.judge(Judge::HouseStyle { share: 0.3 }))
        .collect()
    }
}
