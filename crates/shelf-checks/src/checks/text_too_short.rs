use shelf_core::Role;

use super::{null_like, per_role};
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX004
pub struct TextTooShort;

impl Check for TextTooShort {
    meta!(
        "TX004",
        "text-too-short",
        Warning,
        Some("GenerateTitles"),
        "\
text-too-short (TX004)

What: finds product titles shorter than `min_chars` characters (default 3), ignoring blanks
and placeholders (reported by their own checks). A Chinese, Japanese or Korean character counts
as two: `茶杯` (teacup) is a title, `包` (bag) alone is too short.

Why: a two-character title gives search and embeddings nothing to work with.

Example: a title `A1` or `包`.

Fix: rewrite the title from the product's attributes (GenerateTitles). Configure with
`[checks.TX004] min_chars = 3`."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let min = ctx.params.f64(self.code(), self.name(), "min_chars", 3.0) as i64;
        per_role(
            ctx,
            &[Role::Title],
            self.severity(),
            |t, r| {
                Some(format!(
                    "shelf_text_width({r}) BETWEEN 1 AND {} AND NOT {} AND NOT shelf_test_value({r}) AND NOT shelf_placeholder_title({r})",
                    min - 1,
                    null_like(t, r.as_str())
                ))
            },
            |t, r| {
                format!(
                    "{{n}} {{title|titles}} in {} {{is|are}} shorter than {min} characters",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
