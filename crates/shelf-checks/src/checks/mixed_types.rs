use shelf_core::{Role, RoleType};

use super::null_like;
use crate::plan::{Check, Ctx, ProbeSpec};

/// How many columns per table SC002 examines.
pub const MAX_COLUMNS: usize = 24;

/// SC002
pub struct MixedTypes;

impl Check for MixedTypes {
    meta!(
        "SC002",
        "mixed-types",
        Warning,
        Some("NormalizeValues"),
        "\
mixed-types (SC002)

What: in text columns that are not mapped to a text or id role (unmapped columns, labels such
as brand or country), finds the few non-numeric values in a column that is otherwise numeric
(at least 95% of present values are numbers). Examines the first 24 such columns per table.

Why: one stray word makes a whole column load as text in pandas, Spark or a warehouse, and
numeric features then vanish or fail.

Example: a `weight_g` column with `250`, `300` and one `approx. 1kg`.

Fix: normalise or null the stray values (NormalizeValues)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for t in ctx.tables {
            let excluded: Vec<&String> = t
                .roles
                .iter()
                .filter(|(r, _)| !matches!(r.role_type(), RoleType::Label) || **r == Role::Label)
                .flat_map(|(_, cols)| cols)
                .collect();
            let Some(schema_cols) = Some(&t.columns) else {
                continue;
            };
            // Two scans per column: wide attribute tables (Icecat has hundreds of `attr_*` columns)
            // are checked on their first MAX_COLUMNS candidates only, which the doc states.
            for c in schema_cols
                .iter()
                .filter(|c| !excluded.contains(c))
                .take(MAX_COLUMNS)
            {
                let q = format!("\"{}\"", c.replace('"', "\"\""));
                let present = format!("NOT shelf_is_blank({q}) AND NOT {}", null_like(t, &q));
                let present_r = format!(
                    "NOT shelf_is_blank(r.{q}) AND NOT {}",
                    null_like(t, &format!("r.{q}"))
                );
                let sql = format!(
                    "WITH s AS (SELECT count(*) FILTER (WHERE shelf_looks_numeric({q})) AS num, \
                     count(*) FILTER (WHERE {present}) AS present FROM \"{raw}\") \
                     SELECT r.__row_id AS row_id, shelf_text(r.{q}) AS value FROM \"{raw}\" r, s \
                     WHERE s.num >= 0.95 * s.present AND s.num < s.present \
                     AND NOT shelf_looks_numeric(r.{q}) AND {present_r}",
                    raw = t.raw(),
                );
                let mut spec = ProbeSpec::query(
                    t,
                    None,
                    sql,
                    format!(
                        "{{n}} {{value|values}} in column {c} {{is|are}} text in a column that is otherwise numeric"
                    ),
                    self.severity(),
                );
                spec.column = Some(c.clone());
                out.push(spec);
            }
        }
        out
    }
}
