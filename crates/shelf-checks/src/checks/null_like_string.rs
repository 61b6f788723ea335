use super::{null_like, show};
use crate::plan::{Check, Ctx, ProbeSpec};

/// MV002
pub struct NullLikeString;

impl Check for NullLikeString {
    meta!(
        "MV002",
        "null-like-string",
        Warning,
        Some("FillMissing"),
        "\
null-like-string (MV002)

What: finds values that are text standing in for \"no value\": `nan`, `NaN`, `null`, `None`,
`N/A`, `-`, `?`, `无`, `暂无`, `未知` (and tokens a preset declares, such as Diginetica's `NA`).

Why: they look present, so null checks and fill-rate metrics miss them; search indexes the
word \"nan\" as if it were a product name.

Example: Online Retail stores 1,454 missing descriptions as the string \"nan\".

Fix: treat them as missing (FillMissing), then fill or drop."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for t in ctx.tables {
            for &role in t.roles.keys() {
                let col = t.raw_text(role);
                out.push(ProbeSpec::rows(
                    t,
                    Some(role),
                    null_like(t, &col),
                    show(t, role),
                    format!("{{n}} of {{total}} rows ({{pct}}%) {{holds|hold}} the placeholder \"{{key}}\" instead of a {} (column {})", role, t.column(role).unwrap_or_default()),
                    self.severity(),
                )
                // One finding per placeholder spelling, so "nan" and "?" are counted apart.
                .keyed(format!("trim({col})")));
            }
        }
        out
    }
}
