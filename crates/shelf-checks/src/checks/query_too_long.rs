use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// QU003
pub struct QueryTooLong;

impl Check for QueryTooLong {
    meta!(
        "QU003",
        "query-too-long",
        Warning,
        Some("RewriteQueries"),
        "\
query-too-long (QU003)

What: finds queries longer than `max_chars` characters (default 100).

Why: real shoppers type a few words; very long \"queries\" are pasted descriptions, bots or
logging bugs, and they skew query-length statistics and evaluation.

Example: a 300-character query that is a whole product description.

Fix: drop or rewrite (RewriteQueries)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let max = ctx.params.f64(self.code(), self.name(), "max_chars", 100.0) as i64;
        per_role(
            ctx,
            &[Role::Query],
            self.severity(),
            |_, r| Some(format!("character_length({r}) > {max}")),
            |t, r| {
                format!(
                    "{{n}} {{query|queries}} in {} {{is|are}} longer than {max} characters",
                    t.column(r).unwrap_or_default()
                )
            },
        )
    }
}
