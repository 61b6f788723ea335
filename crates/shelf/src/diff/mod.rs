//! `shelf diff`: how two versions of the same tables differ — per column distribution
//! distances with a verdict, appeared and vanished categories and keys, role mapping changes,
//! and which of the audit's counts moved.
//!
//! Both versions are read exactly as `shelf audit` reads them (config, preset, inference),
//! audited each in its own session, then registered side by side in one session as
//! `old_<kind>` and `new_<kind>` role views, where every comparison is one SQL grouping over
//! both (see `profile.rs`). Verdicts use PSI with the standard bands (`distance.rs`), guarded
//! against sampling noise on small tables (`columns.rs`).

mod columns;
pub mod distance;
mod profile;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use shelf_core::{CheckRun, Role, RoleType, ShelfError, ShelfResult, TableKind};
use shelf_io::presets;
use shelf_report::{
    AuditReport, DiffReport, Drift, DriftCounts, FindingCount, FindingMove, FindingsDiff, KeyDiff,
    MappingDiff, Measure, OldNew, RoleChange, RoleColumn, TableDiff, Thresholds,
};

use crate::audit::{Progress, audit_tables, inputs, prepare, register, session, stage_inputs};
use crate::tables::ResolvedTable;
use crate::{AuditSpec, Config};

/// One version: what the user named, and how to read it (as for `shelf audit`).
#[derive(Debug, Clone)]
pub struct Version {
    /// The path as given (a `shelf.toml` or a data file), for messages and the report.
    pub source: PathBuf,
    pub spec: AuditSpec,
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct DiffSpec {
    pub old: Version,
    pub new: Version,
    /// Compare only this kind (both versions must have it); else every kind, which must be
    /// the same in both.
    pub kind: Option<TableKind>,
    /// Run the audit on both versions and compare its counts.
    pub audit: bool,
}

impl Version {
    /// A version given as a path: a `shelf.toml` (its tables, as `shelf audit --config`
    /// reads them), or one data file of `kind` read with `config`'s table options, `preset`
    /// and `encoding`. Without `kind`, a data file's kind is taken from `--preset`, from the
    /// one table `config` describes, or from the preset that recognises its columns.
    pub fn from_path(
        path: &Path,
        kind: Option<TableKind>,
        preset: Option<&str>,
        encoding: Option<&str>,
        config: Option<&Path>,
    ) -> ShelfResult<Version> {
        if !path.exists() {
            return Err(ShelfError::user(format!(
                "{} does not exist; give a data file or a shelf.toml for each version",
                path.display()
            )));
        }
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let spec = if is_toml {
            AuditSpec {
                tables: vec![],
                preset: preset.map(str::to_string),
                encoding: encoding.map(str::to_string),
                config: Config::load(path)?,
            }
        } else {
            let mut config = match config {
                Some(p) => Config::load(p)?,
                None => Config::default(),
            };
            // The config says how to read the file; which files to read is OLD and NEW.
            for t in config.tables.values_mut() {
                t.path = None;
            }
            let kind = match kind {
                Some(k) => k,
                None => detect_kind(path, preset, encoding, &config)?,
            };
            AuditSpec {
                tables: vec![(kind, path.to_path_buf())],
                preset: preset.map(str::to_string),
                encoding: encoding.map(str::to_string),
                config,
            }
        };
        Ok(Version {
            source: path.to_path_buf(),
            spec,
        })
    }
}

/// The kind of a data file given without `--kind`.
fn detect_kind(
    path: &Path,
    preset: Option<&str>,
    encoding: Option<&str>,
    config: &Config,
) -> ShelfResult<TableKind> {
    let one = |kinds: BTreeSet<TableKind>| (kinds.len() == 1).then(|| kinds.into_iter().next());
    if let Some(name) = preset
        && let Some(Some(k)) = one(presets::by_name(name).iter().map(|p| p.kind).collect())
    {
        return Ok(k);
    }
    if let Some(Some(k)) = one(config
        .tables
        .keys()
        .filter_map(|k| TableKind::parse(k))
        .collect())
    {
        return Ok(k);
    }
    // Read the file once to see which preset recognises it.
    let work = crate::audit::work_dir()?;
    let opts = shelf_io::ReadOptions {
        encoding: encoding.map(str::to_string),
        ..shelf_io::ReadOptions::default()
    };
    let staged = shelf_io::stage_table(path, &opts, work.path(), "detect")?;
    let first_row = crate::tables::first_row(&staged)?;
    let matched: Vec<&presets::Preset> = presets::PRESETS
        .iter()
        .filter(|p| p.matches(&staged.columns, &first_row))
        .collect();
    match one(matched.iter().map(|p| p.kind).collect()) {
        Some(Some(k)) => Ok(k),
        _ => Err(ShelfError::user(format!(
            "{}: cannot tell which kind of table this is ({}); pass --kind catalog, events, queries, judgments or reviews",
            path.display(),
            if matched.is_empty() {
                format!(
                    "no preset recognises its columns {}",
                    staged.columns.join(", ")
                )
            } else {
                format!(
                    "it looks like {}",
                    matched
                        .iter()
                        .map(|p| format!("{} ({})", p.kind, p.name))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            }
        ))),
    }
}

/// Runs a whole diff. Blocking; drives DataFusion on its own runtime.
pub fn diff(spec: &DiffSpec, progress: Progress<'_>) -> ShelfResult<DiffReport> {
    let threads = spec
        .new
        .spec
        .config
        .run
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| ShelfError::internal(format!("runtime: {e}")))?;
    rt.block_on(diff_async(spec, progress))
}

fn kinds_of(side: &Version) -> ShelfResult<BTreeSet<TableKind>> {
    Ok(inputs(&side.spec)?.into_iter().map(|(k, _)| k).collect())
}

fn kind_list(kinds: &BTreeSet<TableKind>) -> String {
    kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The kinds to compare: `--kind`, or every kind, which must be the same in both versions.
fn kinds_to_compare(spec: &DiffSpec) -> ShelfResult<Vec<TableKind>> {
    let (old, new) = (kinds_of(&spec.old)?, kinds_of(&spec.new)?);
    let describe = |side: &Version, kinds: &BTreeSet<TableKind>| {
        format!(
            "{} has {} {}",
            side.source.display(),
            if kinds.len() == 1 { "table" } else { "tables" },
            kind_list(kinds)
        )
    };
    if let Some(k) = spec.kind {
        for (side, kinds) in [(&spec.old, &old), (&spec.new, &new)] {
            if !kinds.contains(&k) {
                return Err(ShelfError::user(format!(
                    "--kind {k}: {} and no {k} table; shelf diff compares two versions of the same table",
                    describe(side, kinds)
                )));
            }
        }
        return Ok(vec![k]);
    }
    if old != new {
        return Err(ShelfError::user(format!(
            "the two versions are not the same kind of table: old {} but new {}; shelf diff compares two versions of the same table{}",
            describe(&spec.old, &old),
            describe(&spec.new, &new),
            match old.intersection(&new).next() {
                Some(k) => format!(" (pass --kind {k} to compare only that table)"),
                None => String::new(),
            }
        )));
    }
    Ok(old.into_iter().collect())
}

/// `spec` restricted to `kinds` (tables, their config sections and rules).
fn restricted(spec: &AuditSpec, kinds: &[TableKind]) -> AuditSpec {
    let mut s = spec.clone();
    s.tables.retain(|(k, _)| kinds.contains(k));
    s.config
        .tables
        .retain(|k, _| TableKind::parse(k).is_some_and(|k| kinds.contains(&k)));
    s.config
        .rules
        .retain(|r| TableKind::parse(&r.table).is_some_and(|k| kinds.contains(&k)));
    s
}

async fn diff_async(spec: &DiffSpec, progress: Progress<'_>) -> ShelfResult<DiffReport> {
    let kinds = kinds_to_compare(spec)?;
    let old_spec = restricted(&spec.old.spec, &kinds);
    let new_spec = restricted(&spec.new.spec, &kinds);
    // Configuration errors first, before any data is read.
    let prepared = if spec.audit {
        Some((prepare(&old_spec.config)?, prepare(&new_spec.config)?))
    } else {
        None
    };
    let (old_work, new_work) = (crate::audit::work_dir()?, crate::audit::work_dir()?);
    progress("reading the old version");
    let old_tables = stage_inputs(&old_spec, old_work.path(), progress)?;
    progress("reading the new version");
    let new_tables = stage_inputs(&new_spec, new_work.path(), progress)?;

    let findings = match &prepared {
        Some((po, pn)) => {
            progress("auditing the old version");
            let old_report = audit_tables(&old_spec.config, po, &old_tables, progress).await?;
            progress("auditing the new version");
            let new_report = audit_tables(&new_spec.config, pn, &new_tables, progress).await?;
            Some(findings_diff(&old_report, &new_report))
        }
        None => None,
    };

    let ctx = session(&new_spec.config)?;
    let mut tables = Vec::new();
    for kind in &kinds {
        let (Some(old), Some(new)) = (
            old_tables.iter().find(|t| t.kind == *kind),
            new_tables.iter().find(|t| t.kind == *kind),
        ) else {
            return Err(ShelfError::internal(format!(
                "the {kind} table was not read on both sides"
            )));
        };
        let pair = profile::Pair {
            old: format!("old_{kind}"),
            new: format!("new_{kind}"),
        };
        register(&ctx, old, &format!("old_{kind}_raw"), &pair.old).await?;
        register(&ctx, new, &format!("new_{kind}_raw"), &pair.new).await?;
        tables.push(table_diff(&ctx, &pair, old, new, new_work.path(), progress).await?);
    }

    let mut counts = DriftCounts::default();
    for c in tables.iter().flat_map(|t| &t.columns) {
        match c.drift {
            Drift::Major => counts.major += 1,
            Drift::Notable => counts.notable += 1,
            Drift::None => counts.none += 1,
        }
    }
    let mut notes = vec![
        "Timestamps are compared by hour of day (UTC): the range of times moves between versions by nature; time_range gives each version's first and last time.".to_string(),
    ];
    if !spec.audit {
        notes
            .push("The audit was skipped (--no-audit), so finding counts are not compared.".into());
    }
    Ok(DiffReport {
        shelf_version: env!("CARGO_PKG_VERSION").to_string(),
        old: side_summary(&spec.old, &old_tables),
        new: side_summary(&spec.new, &new_tables),
        thresholds: Thresholds {
            psi_notable: distance::PSI_NOTABLE,
            psi_major: distance::PSI_MAJOR,
            psi_epsilon: distance::PSI_EPSILON,
            top_k: columns::TOP_K,
            numeric_bins: columns::NUMERIC_BINS,
            sketch_relative_accuracy: profile::RELATIVE_ACCURACY,
            noise_factor: columns::NOISE_FACTOR,
        },
        counts,
        tables,
        findings,
        notes,
    })
}

fn side_summary(side: &Version, tables: &[ResolvedTable]) -> shelf_report::DiffSide {
    shelf_report::DiffSide {
        source: side.source.display().to_string(),
        tables: tables.iter().map(ResolvedTable::summary).collect(),
    }
}

/// Role → its column(s) as the report names them.
fn role_columns(t: &ResolvedTable) -> BTreeMap<Role, String> {
    t.bindings
        .iter()
        .map(|(b, _)| (b.role, b.column.clone()))
        .collect()
}

fn mapping_diff(old: &ResolvedTable, new: &ResolvedTable) -> MappingDiff {
    let (o, n) = (role_columns(old), role_columns(new));
    let mut m = MappingDiff::default();
    for (role, oc) in &o {
        match n.get(role) {
            Some(nc) if nc != oc => m.roles_changed.push(RoleChange {
                role: role.to_string(),
                old: oc.clone(),
                new: nc.clone(),
            }),
            Some(_) => {}
            None => m.roles_removed.push(RoleColumn {
                role: role.to_string(),
                column: oc.clone(),
            }),
        }
    }
    for (role, nc) in &n {
        if !o.contains_key(role) {
            m.roles_added.push(RoleColumn {
                role: role.to_string(),
                column: nc.clone(),
            });
        }
    }
    let (oc, nc) = (&old.staged.columns, &new.staged.columns);
    m.columns_added = nc.iter().filter(|c| !oc.contains(c)).cloned().collect();
    m.columns_removed = oc.iter().filter(|c| !nc.contains(c)).cloned().collect();
    m
}

/// How a role's values are compared, or `None` for ids (compared as keys).
fn measure_of(role: Role) -> Option<Measure> {
    match role.role_type() {
        RoleType::Id => None,
        RoleType::Time => Some(Measure::HourOfDay),
        // Query strings repeat (popular queries): their mix is what moves.
        RoleType::Text if role == Role::Query => Some(Measure::Categories),
        RoleType::Text => Some(Measure::Length),
        RoleType::Label | RoleType::Category => Some(Measure::Categories),
        RoleType::Money | RoleType::Number => Some(Measure::Values),
    }
}

async fn table_diff(
    ctx: &datafusion::prelude::SessionContext,
    pair: &profile::Pair,
    old: &ResolvedTable,
    new: &ResolvedTable,
    work: &Path,
    progress: Progress<'_>,
) -> ShelfResult<TableDiff> {
    let kind = old.kind;
    let rows = OldNew {
        old: old.staged.rows,
        new: new.staged.rows,
    };
    let (oc, nc) = (role_columns(old), role_columns(new));
    let mut columns = Vec::new();
    let mut keys = Vec::new();
    for (role, old_col) in &oc {
        let Some(new_col) = nc.get(role) else {
            continue;
        };
        progress(&format!("comparing {kind} {role}"));
        let column = OldNew {
            old: old_col.clone(),
            new: new_col.clone(),
        };
        let r = profile::ident(role.as_str());
        let tag = format!("{kind}_{role}");
        match measure_of(*role) {
            None => {
                let c = profile::categories(ctx, pair, &r, rows, 0, work, &tag).await?;
                keys.push(KeyDiff {
                    role: role.to_string(),
                    column,
                    null_rate: OldNew {
                        old: share(c.null.old, rows.old),
                        new: share(c.null.new, rows.new),
                    },
                    distinct: c.distinct,
                    shared: c.shared,
                    appeared: c.appeared,
                    vanished: c.vanished,
                });
            }
            Some(m @ Measure::Categories) => {
                let c =
                    profile::categories(ctx, pair, &r, rows, columns::TOP_K, work, &tag).await?;
                columns.push(columns::categorical(
                    role.as_str(),
                    column,
                    m,
                    &c,
                    rows,
                    false,
                ));
            }
            Some(m @ Measure::HourOfDay) => {
                let hour = format!(
                    "lpad(CAST(CAST(date_part('hour', {r}) AS BIGINT) AS VARCHAR), 2, '0')"
                );
                let c = profile::categories(ctx, pair, &hour, rows, 24, work, &tag).await?;
                let mut d = columns::categorical(role.as_str(), column, m, &c, rows, true);
                // Hours are a fixed set: which appeared or vanished says nothing new.
                d.categories = None;
                d.time_range = Some(OldNew {
                    old: profile::time_range(ctx, &pair.old, role.as_str()).await?,
                    new: profile::time_range(ctx, &pair.new, role.as_str()).await?,
                });
                columns.push(d);
            }
            Some(m @ Measure::Values) => {
                let s = profile::sketch(ctx, pair, &r).await?;
                columns.push(columns::numeric(role.as_str(), column, m, &s, rows));
            }
            Some(m @ Measure::Length) => {
                let s = profile::sketch(ctx, pair, &format!("character_length({r})")).await?;
                columns.push(columns::numeric(role.as_str(), column, m, &s, rows));
            }
        }
    }
    Ok(TableDiff {
        kind,
        rows,
        drift: columns.iter().map(|c| c.drift).max().unwrap_or(Drift::None),
        mapping: mapping_diff(old, new),
        columns,
        keys,
    })
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

type RunKey = (String, String, Option<String>);

fn runs_by_key(r: &AuditReport) -> BTreeMap<RunKey, &CheckRun> {
    r.checks
        .iter()
        .map(|c| ((c.code.clone(), c.table.clone(), c.column.clone()), c))
        .collect()
}

fn count(r: &AuditReport, c: &CheckRun) -> Option<FindingCount> {
    let rows = r
        .tables
        .iter()
        .find(|t| t.kind.as_str() == c.table)
        .map_or(0, |t| t.rows);
    (c.findings > 0).then(|| FindingCount {
        findings: c.findings,
        rows_affected: c.rows_affected,
        rate: share(c.rows_affected, rows),
    })
}

/// Every check run (code, table, column) whose findings or affected rows differ.
fn findings_diff(old: &AuditReport, new: &AuditReport) -> FindingsDiff {
    let (o, n) = (runs_by_key(old), runs_by_key(new));
    let keys: BTreeSet<&RunKey> = o.keys().chain(n.keys()).collect();
    let mut moved = Vec::new();
    let mut unchanged = 0;
    for key in keys {
        let (oc, nc) = (o.get(key), n.get(key));
        let (a, b) = (
            oc.and_then(|c| count(old, c)),
            nc.and_then(|c| count(new, c)),
        );
        let change = match (a, b) {
            (None, None) => None,
            (None, Some(_)) => Some("appeared"),
            (Some(_), None) => Some("disappeared"),
            (Some(a), Some(b))
                if a.findings == b.findings && a.rows_affected == b.rows_affected =>
            {
                None
            }
            (Some(a), Some(b)) => Some(
                if b.rate > a.rate || (b.rate == a.rate && b.rows_affected > a.rows_affected) {
                    "up"
                } else {
                    "down"
                },
            ),
        };
        let Some(change) = change else {
            unchanged += 1;
            continue;
        };
        let any = nc.or(oc).copied().expect("one side has the run");
        moved.push(FindingMove {
            code: key.0.clone(),
            name: any.name.clone(),
            table: key.1.clone(),
            column: key.2.clone(),
            severity: oc
                .map(|c| c.severity)
                .into_iter()
                .chain(nc.map(|c| c.severity))
                .max()
                .unwrap_or(any.severity),
            change: change.to_string(),
            old: a,
            new: b,
        });
    }
    moved.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then_with(|| x.code.cmp(&y.code))
            .then_with(|| x.table.cmp(&y.table))
            .then_with(|| x.column.cmp(&y.column))
    });
    FindingsDiff { moved, unchanged }
}
