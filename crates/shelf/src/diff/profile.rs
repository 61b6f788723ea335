//! The SQL side of `shelf diff`: per column, the counts of both versions in one grouped query
//! over `old_<kind>` UNION ALL `new_<kind>`, so a value's old and new counts land in the same
//! group without a join.
//!
//! Memory stays bounded whatever the size of the tables: a grouping spills under the session's
//! memory pool, and what comes back to Rust is small. Categories: the grouped counts are
//! written to a Parquet file in the work directory, and only the top K values, a few examples
//! and some totals are read back. Numbers: a mergeable log-scale sketch (DDSketch's bucket
//! index, `ceil(ln|v| / ln γ)` per sign) grouped in SQL, a few thousand buckets at most for
//! any range of doubles; within a bucket every value is within [`RELATIVE_ACCURACY`] of its
//! neighbours.

use std::path::Path;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use shelf_core::{ShelfError, ShelfResult};
use shelf_report::{OldNew, ValueCount, ValueSet};

/// Relative width of a sketch bucket: values in one bucket differ by at most this share.
pub const RELATIVE_ACCURACY: f64 = 0.01;
/// Examples of appeared and vanished values kept per column.
pub const EXAMPLES: usize = 5;

/// The two role views of one table kind.
#[derive(Debug, Clone)]
pub struct Pair {
    pub old: String,
    pub new: String,
}

fn df_err(what: &str, e: impl std::fmt::Display) -> ShelfError {
    ShelfError::engine(what, e)
}

async fn query(ctx: &SessionContext, what: &str, sql: &str) -> ShelfResult<Vec<RecordBatch>> {
    let df = ctx.sql(sql).await.map_err(|e| df_err(what, e))?;
    df.collect().await.map_err(|e| df_err(what, e))
}

pub fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Column `col` of every row, as f64 (null → None).
fn f64s(batches: &[RecordBatch], col: usize) -> ShelfResult<Vec<Option<f64>>> {
    let mut out = Vec::new();
    for b in batches {
        let a = cast(b.column(col), &DataType::Float64)
            .map_err(|e| ShelfError::internal(format!("diff: numeric column: {e}")))?;
        let p = a.as_primitive::<Float64Type>();
        out.extend((0..p.len()).map(|i| p.is_valid(i).then(|| p.value(i))));
    }
    Ok(out)
}

fn i64s(batches: &[RecordBatch], col: usize) -> ShelfResult<Vec<Option<i64>>> {
    let mut out = Vec::new();
    for b in batches {
        let a = cast(b.column(col), &DataType::Int64)
            .map_err(|e| ShelfError::internal(format!("diff: integer column: {e}")))?;
        let p = a.as_primitive::<Int64Type>();
        out.extend((0..p.len()).map(|i| p.is_valid(i).then(|| p.value(i))));
    }
    Ok(out)
}

fn u64s(batches: &[RecordBatch], col: usize) -> ShelfResult<Vec<u64>> {
    Ok(i64s(batches, col)?
        .into_iter()
        .map(|v| v.unwrap_or(0).max(0) as u64)
        .collect())
}

fn strings(batches: &[RecordBatch], col: usize) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column(col);
            (0..a.len()).map(move |i| {
                a.is_valid(i)
                    .then(|| arrow::util::display::array_value_to_string(a, i).unwrap_or_default())
            })
        })
        .collect()
}

/// `expr` over both views, each row tagged `o` = 1 (old) or `n` = 1 (new).
fn both(pair: &Pair, expr: &str, alias: &str) -> String {
    format!(
        "SELECT {expr} AS {alias}, 1 AS o, 0 AS n FROM {} UNION ALL SELECT {expr} AS {alias}, 0 AS o, 1 AS n FROM {}",
        ident(&pair.old),
        ident(&pair.new)
    )
}

/// A categorical column (or key) in both versions.
#[derive(Debug, Default)]
pub struct Categories {
    /// The top K values by old share + new share (ties by value): (value, old rows, new rows).
    pub top: Vec<(String, u64, u64)>,
    /// Rows with a value outside the top K.
    pub other: OldNew<u64>,
    pub null: OldNew<u64>,
    pub distinct: OldNew<u64>,
    /// Values in both versions.
    pub shared: u64,
    pub appeared: ValueSet,
    pub vanished: ValueSet,
}

/// Counts of `expr` (text) in both versions: the top `top_k` values, the rest pooled, the
/// values only one version has. `rows` are the two tables' row counts (they weigh the top K).
/// `tag` names the scratch table (unique per call) in `work`.
pub async fn categories(
    ctx: &SessionContext,
    pair: &Pair,
    expr: &str,
    rows: OldNew<u64>,
    top_k: usize,
    work: &Path,
    tag: &str,
) -> ShelfResult<Categories> {
    let what = format!("comparing {expr} in {} and {}", pair.old, pair.new);
    // 1. One grouping over both versions, written out so the questions below re-read a small
    //    file instead of grouping again.
    let grouped = format!(
        "SELECT v, sum(o) AS o, sum(n) AS n FROM ({}) GROUP BY v",
        both(pair, &format!("CAST({expr} AS VARCHAR)"), "v")
    );
    let dir = work.join(format!("diff-{tag}"));
    let table = format!("diff_{tag}");
    ctx.sql(&grouped)
        .await
        .map_err(|e| df_err(&what, e))?
        .write_parquet(
            dir.to_string_lossy().as_ref(),
            DataFrameWriteOptions::new(),
            None,
        )
        .await
        .map_err(|e| df_err(&what, e))?;
    ctx.register_parquet(
        &table,
        dir.to_string_lossy().as_ref(),
        ParquetReadOptions::default(),
    )
    .await
    .map_err(|e| df_err(&what, e))?;
    let result = read_categories(ctx, &table, &what, rows, top_k).await;
    let _ = ctx.deregister_table(&table);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn read_categories(
    ctx: &SessionContext,
    table: &str,
    what: &str,
    rows: OldNew<u64>,
    top_k: usize,
) -> ShelfResult<Categories> {
    let t = ident(table);
    // 2. Totals.
    let b = query(
        ctx,
        what,
        &format!(
            "SELECT \
               count(*) FILTER (WHERE v IS NOT NULL AND o > 0), \
               count(*) FILTER (WHERE v IS NOT NULL AND n > 0), \
               count(*) FILTER (WHERE v IS NOT NULL AND o > 0 AND n > 0), \
               count(*) FILTER (WHERE v IS NOT NULL AND o = 0), \
               coalesce(sum(n) FILTER (WHERE v IS NOT NULL AND o = 0), 0), \
               count(*) FILTER (WHERE v IS NOT NULL AND n = 0), \
               coalesce(sum(o) FILTER (WHERE v IS NOT NULL AND n = 0), 0), \
               coalesce(sum(o) FILTER (WHERE v IS NULL), 0), \
               coalesce(sum(n) FILTER (WHERE v IS NULL), 0), \
               coalesce(sum(o) FILTER (WHERE v IS NOT NULL), 0), \
               coalesce(sum(n) FILTER (WHERE v IS NOT NULL), 0) \
             FROM {t}"
        ),
    )
    .await?;
    let n: Vec<u64> = (0..11)
        .map(|c| u64s(&b, c).map(|v| v.first().copied().unwrap_or(0)))
        .collect::<ShelfResult<_>>()?;
    let mut out = Categories {
        distinct: OldNew {
            old: n[0],
            new: n[1],
        },
        shared: n[2],
        appeared: ValueSet {
            count: n[3],
            rows: n[4],
            examples: vec![],
        },
        vanished: ValueSet {
            count: n[5],
            rows: n[6],
            examples: vec![],
        },
        null: OldNew {
            old: n[7],
            new: n[8],
        },
        ..Categories::default()
    };
    let valued = OldNew {
        old: n[9],
        new: n[10],
    };
    // 3. The top K by combined share: each version weighs the same, whatever its size.
    if top_k > 0 {
        let (ro, rn) = (rows.old.max(1), rows.new.max(1));
        let b = query(
            ctx,
            what,
            &format!(
                "SELECT v, o, n FROM {t} WHERE v IS NOT NULL \
                 ORDER BY CAST(o AS DOUBLE) / {ro} + CAST(n AS DOUBLE) / {rn} DESC, v LIMIT {top_k}"
            ),
        )
        .await?;
        let (v, o, nn) = (strings(&b, 0), u64s(&b, 1)?, u64s(&b, 2)?);
        out.top = v
            .into_iter()
            .zip(o)
            .zip(nn)
            .map(|((v, o), n)| (v.unwrap_or_default(), o, n))
            .collect();
    }
    let (to, tn) = out
        .top
        .iter()
        .fold((0, 0), |(a, b), (_, o, n)| (a + o, b + n));
    out.other = OldNew {
        old: valued.old.saturating_sub(to),
        new: valued.new.saturating_sub(tn),
    };
    // 4. The biggest values only one version has.
    for (side, other) in [("n", "o"), ("o", "n")] {
        let b = query(
            ctx,
            what,
            &format!(
                "SELECT v, {side} FROM {t} WHERE v IS NOT NULL AND {other} = 0 \
                 ORDER BY {side} DESC, v LIMIT {EXAMPLES}"
            ),
        )
        .await?;
        let examples = strings(&b, 0)
            .into_iter()
            .zip(u64s(&b, 1)?)
            .map(|(v, rows)| ValueCount {
                value: v.unwrap_or_default(),
                rows,
            })
            .collect();
        if side == "n" {
            out.appeared.examples = examples;
        } else {
            out.vanished.examples = examples;
        }
    }
    Ok(out)
}

/// One bucket of the numeric sketch: the values in it (both versions) lie in `lo..=hi`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub lo: f64,
    pub hi: f64,
    pub old: u64,
    pub new: u64,
    /// Sums of the values per version (for means).
    pub old_sum: f64,
    pub new_sum: f64,
    /// Smallest and largest value per version (`None` where the version has none here).
    pub old_range: Option<(f64, f64)>,
    pub new_range: Option<(f64, f64)>,
}

impl Bucket {
    /// The value a bucket stands for.
    pub fn at(&self) -> f64 {
        (self.lo + self.hi) / 2.0
    }
}

/// A numeric column in both versions: sketch buckets in ascending order of value, and the
/// rows without a (finite) value.
#[derive(Debug, Default)]
pub struct Sketch {
    pub buckets: Vec<Bucket>,
    pub null: OldNew<u64>,
}

/// The sketch of `expr` (a number) in both versions: one grouped query.
pub async fn sketch(ctx: &SessionContext, pair: &Pair, expr: &str) -> ShelfResult<Sketch> {
    let what = format!("comparing {expr} in {} and {}", pair.old, pair.new);
    let ln_gamma = gamma().ln();
    // Non-finite values have no bucket: they count with the nulls (`s` is null for them).
    let sql = format!(
        "SELECT s, k, sum(o), sum(n), min(x), max(x), \
                coalesce(sum(CASE WHEN o = 1 THEN x END), 0), coalesce(sum(CASE WHEN n = 1 THEN x END), 0), \
                min(CASE WHEN o = 1 THEN x END), max(CASE WHEN o = 1 THEN x END), \
                min(CASE WHEN n = 1 THEN x END), max(CASE WHEN n = 1 THEN x END) \
         FROM (SELECT x, o, n, \
                 CASE WHEN abs(x) >= 1e300 THEN NULL WHEN x > 0 THEN 1 WHEN x < 0 THEN -1 WHEN x = 0 THEN 0 END AS s, \
                 CASE WHEN x > 0 AND x < 1e300 THEN CAST(ceil(ln(x) / {ln_gamma}) AS BIGINT) \
                      WHEN x < 0 AND x > -1e300 THEN CAST(ceil(ln(-x) / {ln_gamma}) AS BIGINT) \
                      ELSE 0 END AS k \
               FROM ({})) \
         GROUP BY s, k",
        both(pair, &format!("CAST({expr} AS DOUBLE)"), "x")
    );
    let b = query(ctx, &what, &sql).await?;
    let (s, k) = (i64s(&b, 0)?, i64s(&b, 1)?);
    let (o, n) = (u64s(&b, 2)?, u64s(&b, 3)?);
    let (lo, hi) = (f64s(&b, 4)?, f64s(&b, 5)?);
    let (so, sn) = (f64s(&b, 6)?, f64s(&b, 7)?);
    let (olo, ohi, nlo, nhi) = (f64s(&b, 8)?, f64s(&b, 9)?, f64s(&b, 10)?, f64s(&b, 11)?);
    let range = |lo: Option<f64>, hi: Option<f64>| lo.zip(hi);
    let mut out = Sketch::default();
    let mut keyed = Vec::new();
    for i in 0..s.len() {
        match (s[i], lo[i], hi[i]) {
            (Some(sign), Some(lo), Some(hi)) => keyed.push((
                // Ascending value: negatives by descending magnitude, then zero, then positives.
                (
                    sign,
                    if sign < 0 {
                        -k[i].unwrap_or(0)
                    } else {
                        k[i].unwrap_or(0)
                    },
                ),
                Bucket {
                    lo,
                    hi,
                    old: o[i],
                    new: n[i],
                    old_sum: so[i].unwrap_or(0.0),
                    new_sum: sn[i].unwrap_or(0.0),
                    old_range: range(olo[i], ohi[i]),
                    new_range: range(nlo[i], nhi[i]),
                },
            )),
            _ => {
                out.null.old += o[i];
                out.null.new += n[i];
            }
        }
    }
    keyed.sort_by_key(|(key, _)| *key);
    out.buckets = keyed.into_iter().map(|(_, b)| b).collect();
    Ok(out)
}

/// γ with (γ − 1) / (γ + 1) = the relative accuracy (DDSketch's definition).
pub fn gamma() -> f64 {
    (1.0 + RELATIVE_ACCURACY) / (1.0 - RELATIVE_ACCURACY)
}

/// First and last value of a timestamp column in one view, as RFC 3339 (UTC).
pub async fn time_range(
    ctx: &SessionContext,
    view: &str,
    role: &str,
) -> ShelfResult<Option<[String; 2]>> {
    let what = format!("reading the range of {role} in {view}");
    let b = query(
        ctx,
        &what,
        &format!(
            "SELECT CAST(min({r}) AS BIGINT), CAST(max({r}) AS BIGINT) FROM {}",
            ident(view),
            r = ident(role)
        ),
    )
    .await?;
    let (lo, hi) = (i64s(&b, 0)?, i64s(&b, 1)?);
    Ok(
        match (lo.first().copied().flatten(), hi.first().copied().flatten()) {
            (Some(lo), Some(hi)) => Some([rfc3339(lo), rfc3339(hi)]),
            _ => None,
        },
    )
}

fn rfc3339(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| micros.to_string())
}
