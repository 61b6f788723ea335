use crate::plan::{Check, Ctx, ProbeSpec};

/// DU001
pub struct DuplicateRows;

impl Check for DuplicateRows {
    meta!(
        "DU001",
        "duplicate-rows",
        Warning,
        Some("DropDuplicateRows"),
        "\
duplicate-rows (DU001)

What: finds rows identical in every column to an earlier row of the same table (nulls equal
nulls). The earlier row is kept as the original; every later copy is reported.

Why: exact copies double-count sales and clicks, inflate popularity features and leak between
train and test splits.

Example: Online Retail has 5,268 order lines that repeat an earlier line exactly.

Fix: drop the later copies (DropDuplicateRows); the lineage keeps which original each one
repeated."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        ctx.tables
            .iter()
            .map(|t| {
                let cols: Vec<String> = t.columns.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                let cols = cols.join(", ");
                // Grouping 10 M rows by every column is the expensive part; grouping by one
                // 64-bit hash of the row first leaves only rows whose hash repeats, and the exact
                // grouping by every column runs on those (equal rows always hash equal).
                let sql = format!(
                    "WITH r AS (SELECT h FROM (SELECT shelf_key_hash({cols}) AS h FROM {raw}) GROUP BY h HAVING count(*) > 1), \
                     c AS (SELECT e.* FROM r JOIN {raw} e ON r.h = shelf_key_hash({e_cols})) \
                     SELECT row_id, first_row_id FROM (SELECT unnest(ids) AS row_id, first AS first_row_id FROM \
                     (SELECT array_agg(__row_id) AS ids, min(__row_id) AS first FROM c GROUP BY {cols} HAVING count(*) > 1)) \
                     WHERE row_id <> first_row_id",
                    e_cols = t.columns.iter().map(|c| format!("e.\"{}\"", c.replace('"', "\"\""))).collect::<Vec<_>>().join(", "),
                    raw = format!("\"{}\"", t.raw()),
                );
                ProbeSpec::query(t, None, sql, "{n} of {total} rows ({pct}%) {is an exact copy|are exact copies} of an earlier row", self.severity())
            })
            .collect()
    }
}
