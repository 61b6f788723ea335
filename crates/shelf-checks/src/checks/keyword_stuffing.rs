use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX007
pub struct KeywordStuffing;

impl Check for KeywordStuffing {
    meta!(
        "TX007",
        "keyword-stuffing",
        Warning,
        Some("GenerateTitles"),
        "\
keyword-stuffing (TX007)

What: finds titles where one word (2+ characters, not a number, not a unit or quantity such
as `Gm` or `200g`) appears `min_repeats` times or more (default 4). In Chinese, written
without spaces, any 2–4 character sequence repeated that often counts as a word
(`连衣裙女装连衣裙夏季连衣裙雪纺连衣裙`).

Why: sellers repeat keywords to game lexical search; it degrades relevance for everyone and
marks the listing as low quality.

Example: `cheap shoes cheap shoes cheap shoes cheap shoes`.

Fix: rewrite the title (GenerateTitles)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let k = ctx.params.f64(self.code(), self.name(), "min_repeats", 4.0) as i64;
        per_role(
            ctx,
            &[Role::Title],
            self.severity(),
            |_, r| Some(format!("shelf_token_repeats({r}) >= {k}")),
            |t, _| {
                format!(
                    "{{n}} {{title|titles}} in {} {{repeats|repeat}} one word {k} or more times",
                    t.column(Role::Title).unwrap_or_default()
                )
            },
        )
    }
}
