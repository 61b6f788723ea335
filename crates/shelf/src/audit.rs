//! The audit pipeline: stage tables → register them and their role views in one DataFusion
//! session → run the checks → compute charts → an [`AuditReport`].

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use shelf_checks::checks::user_rule::UserRule;
use shelf_checks::{Check, Ctx, Params};
use shelf_core::lm::Embedder;
use shelf_core::{Severity, SeverityCounts, ShelfError, ShelfResult, TableKind};
use shelf_report::AuditReport;

use crate::config::{Config, DEFAULT_MEMORY_LIMIT_MB};
use crate::tables::{ResolvedTable, resolve};

/// What to audit.
#[derive(Debug, Clone, Default)]
pub struct AuditSpec {
    /// Table kind → input path (overrides `[tables.<kind>] path`).
    pub tables: Vec<(TableKind, PathBuf)>,
    pub preset: Option<String>,
    pub encoding: Option<String>,
    pub config: Config,
}

/// Progress callback: a short line about the step being run.
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

fn df_err(what: &str, e: impl std::fmt::Display) -> ShelfError {
    ShelfError::engine(what, e)
}

/// Engine threads: `[run] threads`, else every core — one number for both the tokio workers
/// and the session's partitions (they used to default to 2 and to every core respectively).
fn threads(config: &Config) -> usize {
    config
        .run
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1)
}

/// A DataFusion session with shelf's UDFs, a memory limit (beyond which sorts and aggregates
/// spill to disk) and the configured thread count.
pub fn session(config: &Config) -> ShelfResult<SessionContext> {
    let threads = threads(config);
    let memory = config
        .run
        .memory_limit_mb
        .unwrap_or(DEFAULT_MEMORY_LIMIT_MB)
        * 1024
        * 1024;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(memory)))
        .build_arc()
        .map_err(|e| df_err("engine runtime", e))?;
    let cfg = SessionConfig::new()
        .with_target_partitions(threads)
        .with_batch_size(8192);
    let ctx = SessionContext::new_with_config_rt(cfg, runtime);
    shelf_checks::udf::register_all(&ctx);
    Ok(ctx)
}

/// Resolves "now" (config or clock) in microseconds.
fn now_micros(config: &Config) -> ShelfResult<i64> {
    match &config.run.now {
        Some(s) => shelf_io::values::parse_time(s).ok_or_else(|| {
            ShelfError::user(format!(
                "[run] now = {s:?} is not a time; use RFC 3339, e.g. 2025-07-01T00:00:00Z"
            ))
        }),
        None => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64)),
    }
}

fn user_rules(config: &Config) -> ShelfResult<Vec<UserRule>> {
    config
        .rules
        .iter()
        .map(|r| {
            let table = TableKind::parse(&r.table).ok_or_else(|| {
                config.error_at(&format!("{:?}", r.name), format!("rule {:?}: unknown table {:?}; use catalog, events, queries, judgments or reviews", r.name, r.table))
            })?;
            let severity = Severity::parse(&r.severity)
                .ok_or_else(|| config.error_at(&format!("{:?}", r.name), format!("rule {:?}: severity {:?} must be info, warning or error", r.name, r.severity)))?;
            // Rule codes and names live as long as the process; leaking these few strings keeps
            // the Check trait's `&'static str` contract simple.
            let code: &'static str = Box::leak(format!("RU-{}", r.name).into_boxed_str());
            let name: &'static str = Box::leak(r.name.clone().into_boxed_str());
            Ok(UserRule { code, name, table, expect: r.expect.clone(), severity, message: r.message.clone() })
        })
        .collect()
}

fn params(config: &Config) -> ShelfResult<Params> {
    let mut p = Params::default();
    for (k, v) in &config.checks {
        if shelf_checks::find(k).is_none() && !config.rules.iter().any(|r| r.name == *k) {
            return Err(ShelfError::user(format!(
                "[checks.{k}]: no check has that code or name; `shelf checks` lists them"
            )));
        }
        let json = serde_json::to_value(v).map_err(|e| ShelfError::internal(e.to_string()))?;
        if let serde_json::Value::Object(m) = json {
            let key = shelf_checks::find(k).map_or_else(|| k.clone(), |c| c.code().to_string());
            p.by_check.insert(key, m);
        }
    }
    for r in &config.rules {
        if let Some(m) = r.mostly {
            p.by_check
                .entry(format!("RU-{}", r.name))
                .or_default()
                .insert("mostly".into(), m.into());
        }
    }
    Ok(p)
}

/// Runs a whole audit. Blocking; drives DataFusion on its own runtime.
pub fn audit(spec: &AuditSpec, progress: Progress<'_>) -> ShelfResult<AuditReport> {
    // Non-relational work (product matching) runs on rayon's global pool with the same thread
    // count. The pool is built once per process; a later audit in the same process with
    // another count keeps the first one's.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads(&spec.config))
        .build_global();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads(&spec.config))
        .enable_all()
        .build()
        .map_err(|e| ShelfError::internal(format!("runtime: {e}")))?;
    rt.block_on(audit_async(spec, progress))
}

async fn audit_async(spec: &AuditSpec, progress: Progress<'_>) -> ShelfResult<AuditReport> {
    // Configuration errors are found before any data is read.
    let prepared = prepare(&spec.config)?;
    let work = work_dir()?;
    let tables = stage_inputs(spec, work.path(), progress)?;
    audit_tables(&spec.config, &prepared, &tables, progress).await
}

/// What an audit needs from the configuration besides the tables, validated up front.
pub struct Prepared {
    now: i64,
    params: Params,
    rules: Vec<UserRule>,
    /// `[lm] embedder`, loaded once per run (a diff audits two versions with it).
    embedder: Option<Arc<dyn Embedder>>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("now", &self.now)
            .field("params", &self.params)
            .field("rules", &self.rules.len())
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.id().to_string()),
            )
            .finish()
    }
}

/// Validates the run settings, check parameters and user rules of `config`, and loads the
/// configured embedder (a model that cannot load fails the run here, before any table is read).
pub fn prepare(config: &Config) -> ShelfResult<Prepared> {
    let embedder = embedder(config)?;
    Ok(Prepared {
        now: now_micros(config)?,
        params: params(config)?,
        rules: user_rules(config)?,
        embedder,
    })
}

/// The embedder `[lm] embedder` names, loaded (and wrapped in the on-disk cache), or `None`.
pub fn embedder(config: &Config) -> ShelfResult<Option<Arc<dyn Embedder>>> {
    Ok(match &config.lm.embedder {
        Some(name) => Some(Arc::from(shelf_lm::open_embedder(
            name,
            &crate::lm_options(config),
        )?)),
        None => None,
    })
}

/// A fresh work directory for staged tables, deleted when dropped.
pub fn work_dir() -> ShelfResult<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("shelf-work-")
        .tempdir()
        .map_err(|e| ShelfError::io(std::env::temp_dir(), "cannot create a work directory", e))
}

/// The tables of `spec`: CLI paths first, then config paths for kinds the CLI did not give.
pub fn inputs(spec: &AuditSpec) -> ShelfResult<Vec<(TableKind, PathBuf)>> {
    let mut inputs = spec.tables.clone();
    for (k, t) in &spec.config.tables {
        let kind = TableKind::parse(k).ok_or_else(|| ShelfError::user(format!("[tables.{k}]: unknown table kind; use catalog, events, queries, judgments or reviews")))?;
        if let Some(p) = &t.path
            && !inputs.iter().any(|(kk, _)| *kk == kind)
        {
            inputs.push((kind, p.clone()));
        }
    }
    if inputs.is_empty() {
        return Err(ShelfError::user(
            "no table to audit: give at least one of --catalog, --events, --queries, --judgments, --reviews (or paths in shelf.toml)",
        ));
    }
    Ok(inputs)
}

/// Reads, stages (into `work`) and resolves the roles of every table of `spec`.
pub fn stage_inputs(
    spec: &AuditSpec,
    work: &std::path::Path,
    progress: Progress<'_>,
) -> ShelfResult<Vec<ResolvedTable>> {
    let config = &spec.config;
    let mut tables = Vec::new();
    for (kind, path) in inputs(spec)? {
        progress(&format!("reading {kind} from {}", path.display()));
        let cfg = config
            .tables
            .get(kind.as_str())
            .cloned()
            .unwrap_or_default();
        tables.push(resolve(
            kind,
            &path,
            &cfg,
            spec.preset.as_deref(),
            spec.encoding.as_deref(),
            work,
        )?);
    }
    Ok(tables)
}

/// Registers a staged table as `<raw>` and its role view as `<view>` in `ctx`.
pub async fn register(
    ctx: &SessionContext,
    t: &ResolvedTable,
    raw: &str,
    view: &str,
) -> ShelfResult<()> {
    let kind = t.kind;
    ctx.register_parquet(
        raw,
        t.staged.path.to_string_lossy().as_ref(),
        ParquetReadOptions::default(),
    )
    .await
    .map_err(|e| df_err("registering a staged table", e))?;
    ctx.sql(&t.view_sql_named(view, raw))
        .await
        .map_err(|e| df_err(&format!("creating the {kind} view"), e))?;
    Ok(())
}

/// Runs every check on staged tables in a fresh session and builds the report.
pub async fn audit_tables(
    config: &Config,
    prepared: &Prepared,
    tables: &[ResolvedTable],
    progress: Progress<'_>,
) -> ShelfResult<AuditReport> {
    let Prepared {
        now,
        params,
        rules,
        embedder,
    } = prepared;
    let now = *now;
    let ctx = session(config)?;
    for t in tables {
        register(&ctx, t, &format!("{}_raw", t.kind), t.kind.as_str()).await?;
    }
    let infos: Vec<shelf_checks::TableInfo> = tables.iter().map(ResolvedTable::info).collect();

    // User rules are validated before anything runs, so a typo is a clear error, not a crash.
    for r in rules {
        if !infos.iter().any(|t| t.kind == r.table) {
            return Err(config.error_at(
                &format!("{:?}", r.name),
                format!(
                    "rule {:?} is for the {} table, which was not given",
                    r.name, r.table
                ),
            ));
        }
        let probe = format!("SELECT NOT ({}) FROM \"{}\" LIMIT 0", r.expect, r.table);
        let plan = ctx.sql(&probe).await;
        if let Err(e) = plan {
            let cols: Vec<String> = infos
                .iter()
                .find(|t| t.kind == r.table)
                .map(|t| t.roles.keys().map(|k| k.as_str().to_string()).collect())
                .unwrap_or_default();
            return Err(config.error_at(
                &format!("{:?}", r.name),
                format!(
                    "rule {:?}: `expect = {:?}` is not valid SQL over the {} table's roles ({}); available roles: {}",
                    r.name,
                    r.expect,
                    r.table,
                    first_line(&e.to_string()),
                    cols.join(", ")
                ),
            ));
        }
    }

    let mut checks: Vec<&dyn Check> = shelf_checks::CHECKS.to_vec();
    checks.extend(rules.iter().map(|r| r as &dyn Check));
    let cctx = Ctx {
        tables: &infos,
        params,
        now_micros: now,
        embedder: embedder.clone(),
    };
    let out = shelf_checks::run_checks(&ctx, &checks, &cctx, progress).await?;

    progress("drawing charts");
    let charts = crate::charts::charts(&ctx, &infos, &out.rows_by_day).await?;
    let mut notes = Vec::new();
    for t in tables {
        if let Some(p) = t.preset {
            notes.push(format!(
                "{}: read with preset {} ({}).",
                t.kind, p.name, p.about
            ));
        }
        if !t.inferred.is_empty() {
            notes.push(format!(
                "{}: roles inferred from column names and values — {}. If any is wrong, set it in shelf.toml under [tables.{}.roles].",
                t.kind,
                t.inferred.join("; "),
                t.kind
            ));
        }
        if t.staged.undecodable > 0 {
            notes.push(format!(
                "{}: {} bytes could not be decoded as {} and were replaced by U+FFFD; pass --encoding if the encoding is wrong.",
                t.kind, t.staged.undecodable, t.staged.encoding
            ));
        }
        if t.kind == TableKind::Judgments && t.label_scale.is_none() {
            notes.push("judgments: no label scale declared, so label-out-of-scale (JU003) did not run; set label_scale = [lo, hi] under [tables.judgments].".into());
        }
    }
    let ran: std::collections::BTreeSet<&str> =
        out.checks.iter().map(|c| c.code.as_str()).collect();
    let skipped: Vec<String> = checks
        .iter()
        .filter(|c| !ran.contains(c.code()) && params.enabled(c.code(), c.name()))
        .map(|c| format!("{} {}", c.code(), c.name()))
        .collect();
    if !skipped.is_empty() {
        notes.push(format!(
            "not applicable to these tables (a table or role they need is missing): {}.",
            skipped.join(", ")
        ));
    }
    Ok(AuditReport {
        shelf_version: env!("CARGO_PKG_VERSION").to_string(),
        tables: tables.iter().map(ResolvedTable::summary).collect(),
        counts: SeverityCounts::of(&out.findings),
        checks: out.checks,
        findings: out.findings,
        charts,
        notes,
        duplicate_pairs: out.duplicate_pairs,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}
