//! `shelf lift`: train or index the same reference models on a base data version and on each
//! variant (same ids, different data), score them on the same evaluation units, and report
//! each variant's paired delta with a bootstrap interval.
//!
//! - [`search`]: BM25 / dense / hybrid over catalog versions, scored on judgments.
//! - [`ctr`]: logistic regression / factorization machine over impression-log versions,
//!   scored on the base's test impressions.
//! - [`recs`]: popularity / item-kNN / ALS over event-log versions, scored per user.

pub mod ctr;
pub mod recs;
pub mod search;

use std::collections::BTreeMap;
use std::path::PathBuf;

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use shelf_core::{Role, ShelfError, ShelfResult};
use shelf_lift::stats::Bootstrap;
use shelf_report::{MetricDelta, ModelScores};

use crate::tables::ResolvedTable;

pub use ctr::{CtrSpec, ctr};
pub use recs::{RecsSpec, recs};
pub use search::{SearchLift, SearchSpec, search};

/// A data version to compare with the base: a name for outputs and the file that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub name: String,
    pub path: PathBuf,
}

impl Variant {
    /// Parses `NAME=PATH`. Names become file names (`runs/<name>.<model>.trec`) and JSON keys,
    /// so they are letters, digits, `-`, `_` and `.`, and never `base`.
    pub fn parse(s: &str) -> ShelfResult<Self> {
        let Some((name, path)) = s.split_once('=') else {
            return Err(ShelfError::user(format!(
                "--variant {s:?}: write it as NAME=PATH, e.g. --variant dedup=out/catalog.parquet"
            )));
        };
        let ok = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !ok || name == "base" {
            return Err(ShelfError::user(format!(
                "--variant {s:?}: the name {name:?} must be letters, digits, '-', '_' or '.', and not \"base\" (the unmodified data)"
            )));
        }
        if path.is_empty() {
            return Err(ShelfError::user(format!(
                "--variant {s:?}: no path after '='"
            )));
        }
        Ok(Self {
            name: name.to_string(),
            path: PathBuf::from(path),
        })
    }
}

/// Rejects two variants with one name.
pub(crate) fn check_unique(variants: &[Variant]) -> ShelfResult<()> {
    for (i, v) in variants.iter().enumerate() {
        if variants[..i].iter().any(|w| w.name == v.name) {
            return Err(ShelfError::user(format!(
                "--variant {}: the name is given twice; give each variant its own name",
                v.name
            )));
        }
    }
    Ok(())
}

/// The whole result of a role view query, as one batch.
pub(crate) async fn select(
    ctx: &SessionContext,
    sql: &str,
    what: &str,
) -> ShelfResult<RecordBatch> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| ShelfError::engine(what, e))?;
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    let batches = df
        .collect()
        .await
        .map_err(|e| ShelfError::engine(what, e))?;
    arrow::compute::concat_batches(&schema, &batches).map_err(|e| ShelfError::engine(what, e))
}

/// Fails with a message that says how to map `role` when `table` lacks it.
pub(crate) fn require_role(t: &ResolvedTable, role: Role, why: &str) -> ShelfResult<()> {
    if t.bindings.iter().any(|(b, _)| b.role == role) {
        return Ok(());
    }
    Err(ShelfError::user(format!(
        "{}: no column has the role {r} ({why}). Columns: {}. Map one in shelf.toml under [tables.{k}.roles], e.g. {r} = \"{}\"",
        t.input.display(),
        t.staged.columns.join(", "),
        t.staged.columns.first().map_or("column", String::as_str),
        r = role.as_str(),
        k = t.kind,
    )))
}

pub(crate) fn has_role(t: &ResolvedTable, role: Role) -> bool {
    t.bindings.iter().any(|(b, _)| b.role == role)
}

/// Means, intervals and the unit count of per-unit metric values.
pub(crate) fn model_scores(
    by_metric: &[(&str, &[f64])],
    unit: &str,
    bootstrap: &Bootstrap,
) -> ModelScores {
    let mut s = ModelScores::default();
    for (key, values) in by_metric {
        let e = bootstrap.mean(values);
        s.metrics.insert(key.to_string(), e.value);
        s.ci95.insert(key.to_string(), e.ci95);
        s.units.insert(unit.to_string(), values.len());
    }
    if by_metric.is_empty() {
        s.units.insert(unit.to_string(), 0);
    }
    s
}

/// Paired deltas of `b` over `a`, metric by metric.
pub(crate) fn deltas(
    a: &[(&str, &[f64])],
    b: &[(&str, &[f64])],
    bootstrap: &Bootstrap,
) -> BTreeMap<String, MetricDelta> {
    a.iter()
        .zip(b)
        .map(|((key, x), (_, y))| {
            let d = bootstrap.paired(x, y);
            (
                key.to_string(),
                MetricDelta {
                    delta: d.delta,
                    ci95: d.ci95,
                },
            )
        })
        .collect()
}
