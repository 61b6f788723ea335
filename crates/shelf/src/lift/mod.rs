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
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use shelf_core::{Role, ShelfError, ShelfResult, TableKind};
use shelf_lift::stats::Bootstrap;
use shelf_report::{MetricDelta, ModelScores};

use crate::audit::Progress;
use crate::config::Config;
use crate::tables::{ResolvedTable, resolve_requiring};

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

/// The versions of one event log to compare, and how to read them (`lift recs`, `lift ctr`).
#[derive(Debug, Clone, Default)]
pub struct EventLogs {
    pub base: PathBuf,
    pub variants: Vec<Variant>,
    pub preset: Option<String>,
    pub encoding: Option<String>,
    /// Roles and table options under `[tables.events]`.
    pub config: Config,
}

/// One version of a log, staged, its roles resolved, registered as the view `view`.
pub(crate) struct StagedLog {
    pub name: String,
    pub table: ResolvedTable,
    pub view: String,
}

impl EventLogs {
    /// Stages the base and then each variant into `work`, lets `check` reject a version that
    /// lacks what the caller needs, and registers each as `events_<name>` in `ctx`.
    pub(crate) async fn stage(
        &self,
        ctx: &SessionContext,
        work: &Path,
        progress: Progress<'_>,
        check: impl Fn(&ResolvedTable) -> ShelfResult<()>,
    ) -> ShelfResult<Vec<StagedLog>> {
        check_unique(&self.variants)?;
        let cfg = self
            .config
            .tables
            .get("events")
            .cloned()
            .unwrap_or_default();
        let versions = std::iter::once(("base".to_string(), &self.base))
            .chain(self.variants.iter().map(|v| (v.name.clone(), &v.path)));
        let mut out = Vec::new();
        for (name, path) in versions {
            progress(&format!("reading events from {}", path.display()));
            // Each version stages into its own folder: staged files are named after their
            // kind, and every version stays registered until all are read.
            let dir = work.join(&name);
            std::fs::create_dir_all(&dir)
                .map_err(|e| ShelfError::io(&dir, "cannot create a work directory", e))?;
            // The caller's `check` says which roles it needs; the kind's usual item id is not
            // among them for click logs.
            let table = resolve_requiring(
                TableKind::Events,
                path,
                &cfg,
                self.preset.as_deref(),
                self.encoding.as_deref(),
                &dir,
                &[],
            )?;
            check(&table)?;
            let view = format!("events_{name}");
            crate::audit::register(ctx, &table, &format!("{view}_raw"), &view).await?;
            out.push(StagedLog { name, table, view });
        }
        Ok(out)
    }
}

/// Runs a lift command's reading on a small runtime of its own: the commands are blocking.
pub(crate) fn block_on<T>(
    fut: impl std::future::Future<Output = ShelfResult<T>>,
) -> ShelfResult<T> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ShelfError::internal(format!("runtime: {e}")))?
        .block_on(fut)
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
