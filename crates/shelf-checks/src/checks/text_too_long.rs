use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX005
pub struct TextTooLong;

impl Check for TextTooLong {
    meta!(
        "TX005",
        "text-too-long",
        Warning,
        Some("TruncateText"),
        "\
text-too-long (TX005)

What: finds titles longer than `max_title_chars` (default 256), descriptions longer than
`max_description_chars` (default 20000) and review texts longer than `max_text_chars`
(default 10000), in characters (a Chinese character counts one).

Why: overlong titles are usually several fields pasted together or keyword lists; they are
truncated in every UI and dominate BM25 scores.

Example: a 400-character title listing every compatible phone model.

Fix: move the extra text to the description or attributes (TruncateText)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let p = |k: &str, d: f64| ctx.params.f64(self.code(), self.name(), k, d) as i64;
        let (title, desc, text) = (
            p("max_title_chars", 256.0),
            p("max_description_chars", 20000.0),
            p("max_text_chars", 10000.0),
        );
        let limit = move |r: Role| match r {
            Role::Title => title,
            Role::Description => desc,
            _ => text,
        };
        per_role(
            ctx,
            &[Role::Title, Role::Description, Role::Text],
            self.severity(),
            |_, r| Some(format!("character_length({r}) > {}", limit(r))),
            |t, r| {
                format!(
                    "{{n}} {{value|values}} in {} ({r}) {{is|are}} longer than {} characters",
                    t.column(r).unwrap_or_default(),
                    limit(r)
                )
            },
        )
    }
}
