//! `shelf lift ctr`: logistic regression and a factorization machine trained on the base
//! impression log and on each variant, every one scored on the **base's test rows**, so the
//! deltas are paired over the same impressions.
//!
//! - Label: the `click` role (0 or 1; other values are counted and skipped).
//! - Features: every column of the log except the click, the propensity, the timestamp
//!   (replaced by hour of day and day of week) and columns whose every value is distinct
//!   (row numbers, request ids: no weight can be learnt for them). Ids, positions, hour and
//!   day are categorical; other columns are numeric when more than half of their values parse
//!   as numbers (bucketed, Criteo style), else categorical; all hashed into 2^20 ids.
//! - Split: 80 / 10 / 10 (`--test-share` changes the test part) by a seeded hash of the row's
//!   feature values, so a row the variant kept lands in the same split as in the base whatever
//!   rows were added or removed.
//! - Position (Open Bandit): a feature in training; predictions for the greedy policy set it to
//!   the first position, so the model ranks items, not slots.
//! - IPS (with item and propensity roles): the click rate the model's greedy policy would get,
//!   estimated on the base's test rows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use serde_json::json;
use shelf_checks::columns::{floats, optional_texts};
use shelf_core::{Role, ShelfError, ShelfResult};
use shelf_lift::ctr::{
    Ctr, Examples, Feature, FeatureHasher, Fm, FmOptions, GreedyPolicy, Logistic, PositionBias,
    Split, Splitter, TrainOptions, auc_bootstrap, log_losses,
};
use shelf_lift::stats::Bootstrap;
use shelf_report::{LiftReport, MetricDelta, ModelScores, Order};

use super::{EventLogs, block_on, has_role, require_role, select};
use crate::audit::Progress;
use crate::tables::ResolvedTable;

#[derive(Debug, Clone, Default)]
pub struct CtrSpec {
    pub logs: EventLogs,
    pub train: TrainOptions,
    pub fm: FmOptions,
    pub splitter: Splitter,
    pub bootstrap: Bootstrap,
}

/// One version's log as text columns.
struct Log {
    name: String,
    path: PathBuf,
    /// (column, values) of every feature column.
    columns: Vec<(String, Vec<Option<String>>)>,
    clicks: Vec<Option<bool>>,
    propensity: Option<Vec<Option<f64>>>,
    rows: u64,
    skipped: BTreeMap<String, u64>,
    ignored: Vec<String>,
    item_column: Option<String>,
    position_column: Option<String>,
    /// Columns that are categories whatever their values look like: ids, positions, hour and
    /// day of week (item 14 is not "more" than item 13).
    categorical: HashSet<String>,
}

/// Runs the comparison. Blocking.
pub fn ctr(spec: &CtrSpec, progress: Progress<'_>) -> ShelfResult<LiftReport> {
    let logs = block_on(read(spec, progress))?;
    let base = &logs[0];
    // Feature types are decided on the base, so every version hashes a column the same way.
    let numeric: HashSet<String> = base
        .columns
        .iter()
        .filter(|(c, v)| !base.categorical.contains(c) && mostly_numbers(v))
        .map(|(c, _)| c.clone())
        .collect();
    let hasher = FeatureHasher::default();
    let parts: Vec<Parts> = logs
        .iter()
        .map(|log| split_examples(log, &numeric, hasher, &spec.splitter))
        .collect();
    let (base_test, test_rows) = (&parts[0].test, &parts[0].test_rows);
    if base_test.labels().iter().filter(|c| **c).count() == 0
        || base_test.labels().iter().all(|c| *c)
    {
        return Err(ShelfError::user(format!(
            "{}: the test share ({} rows) has only one class of click, so AUC is undefined; the log needs more rows or clicks",
            base.path.display(),
            base_test.len()
        )));
    }
    let labels = base_test.labels().to_vec();

    // Train every model on every version, predict the base's test rows.
    let mut scores: Vec<(String, String, Vec<f64>)> = Vec::new();
    let policy = Policy::new(base, &numeric, hasher);
    let mut ips: Option<HashMap<(String, String), Vec<f64>>> =
        policy.as_ref().map(|_| HashMap::new());
    let mut data = serde_json::Map::new();
    for (
        log,
        Parts {
            train,
            validation: valid,
            ..
        },
    ) in logs.iter().zip(&parts)
    {
        progress(&format!(
            "{}: training on {} rows ({} for validation)",
            log.name,
            train.len(),
            valid.len()
        ));
        let (lr, lr_fit) = Logistic::fit(train, valid, &spec.train);
        let (fm, fm_fit) = Fm::fit(train, valid, &spec.train, &spec.fm);
        let models: [(&dyn Ctr, &shelf_lift::ctr::Fit); 2] = [(&lr, &lr_fit), (&fm, &fm_fit)];
        let mut fits = serde_json::Map::new();
        for (m, fit) in models {
            scores.push((log.name.clone(), m.name().to_string(), m.predict(base_test)));
            if let (Some(p), Some(ips)) = (&policy, ips.as_mut()) {
                ips.insert(
                    (log.name.clone(), m.name().to_string()),
                    p.values(m, base_test, test_rows),
                );
            }
            fits.insert(
                m.name().into(),
                json!({"epochs": fit.epochs, "best_epoch": fit.best_epoch, "seconds": fit.seconds}),
            );
        }
        data.insert(
            log.name.clone(),
            json!({
                "path": log.path.display().to_string(),
                "rows": log.rows,
                "skipped_rows": log.skipped,
                "train_rows": train.len(),
                "validation_rows": valid.len(),
                "train_clicks": train.labels().iter().filter(|c| **c).count(),
                "fits": fits,
            }),
        );
    }

    let models = ["lr".to_string(), "fm".to_string()];
    let mut metrics = vec!["auc".to_string(), "logloss".to_string()];
    if ips.is_some() {
        metrics.push("ips".into());
    }
    let mut report = LiftReport {
        task: "ctr".into(),
        shelf_version: env!("CARGO_PKG_VERSION").into(),
        order: Order {
            variants: logs.iter().map(|l| l.name.clone()).collect(),
            models: models.to_vec(),
            metrics,
        },
        ..LiftReport::default()
    };
    let b = &spec.bootstrap;
    let find = |v: &str, m: &str| {
        &scores
            .iter()
            .find(|(vv, mm, _)| vv == v && mm == m)
            .expect("scored")
            .2
    };
    for model in &models {
        let base_scores = find("base", model);
        let base_losses = log_losses(&labels, base_scores);
        for log in &logs {
            let s = find(&log.name, model);
            let cmp = auc_bootstrap(&labels, base_scores, s, b);
            let losses = log_losses(&labels, s);
            let loss = b.mean(&losses);
            let mut ms = ModelScores::default();
            ms.metrics.insert("auc".into(), cmp.b.value);
            ms.ci95.insert("auc".into(), cmp.b.ci95);
            ms.metrics.insert("logloss".into(), loss.value);
            ms.ci95.insert("logloss".into(), loss.ci95);
            ms.units.insert("impressions".into(), labels.len());
            let mut d = BTreeMap::new();
            d.insert(
                "auc".to_string(),
                MetricDelta {
                    delta: cmp.delta.delta,
                    ci95: cmp.delta.ci95,
                },
            );
            let ld = b.paired(&base_losses, &losses);
            d.insert(
                "logloss".to_string(),
                MetricDelta {
                    delta: ld.delta,
                    ci95: ld.ci95,
                },
            );
            if let Some(ips) = &ips {
                let (base_v, v) = (
                    &ips[&("base".to_string(), model.clone())],
                    &ips[&(log.name.clone(), model.clone())],
                );
                let e = b.mean(v);
                ms.metrics.insert("ips".into(), e.value);
                ms.ci95.insert("ips".into(), e.ci95);
                let id = b.paired(base_v, v);
                d.insert(
                    "ips".to_string(),
                    MetricDelta {
                        delta: id.delta,
                        ci95: id.ci95,
                    },
                );
            }
            report
                .variants
                .entry(log.name.clone())
                .or_default()
                .insert(model.clone(), ms);
            if log.name != "base" {
                report
                    .deltas
                    .entry(log.name.clone())
                    .or_default()
                    .insert(model.clone(), d);
            }
        }
    }
    let clicks = labels.iter().filter(|c| **c).count();
    let logged = ips.as_ref().map(|_| {
        let e = b.mean(
            &labels
                .iter()
                .map(|c| f64::from(u8::from(*c)))
                .collect::<Vec<_>>(),
        );
        json!({"click_rate": e.value, "ci95": e.ci95})
    });
    report.data = json!({
        "logs": data,
        "test": {"rows": labels.len(), "clicks": clicks, "from": "base", "logged_policy": logged},
        "features": base.columns.iter().map(|(c, _)| (c.clone(), json!(if numeric.contains(c) { "numeric" } else { "categorical" }))).collect::<serde_json::Map<_, _>>(),
        "ignored_columns": base.ignored,
    });
    report.settings = json!({
        "hash_bits": hasher.bits,
        "split": {"validation": spec.splitter.validation, "test": spec.splitter.test, "seed": spec.splitter.seed, "key": "the row's feature values"},
        "optimizer": {"name": "AdamW", "learning_rate": spec.train.learning_rate, "weight_decay": spec.train.weight_decay,
                      "batch_size": spec.train.batch_size, "max_epochs": spec.train.max_epochs, "patience": spec.train.patience, "seed": spec.train.seed},
        "fm": {"k": spec.fm.k, "dropout": spec.fm.dropout},
        "ips": ips.as_ref().map(|_| "greedy policy: the item with the highest predicted click rate at the first position; value = mean of 1[policy = logged item] · click / propensity"),
        "bootstrap": {"resamples": b.resamples, "seed": b.seed, "paired": true},
        "fewer_is_better": ["logloss"],
    });
    if clicks < 30 {
        report.data["warning"] = json!(format!(
            "only {clicks} clicks in the test share: intervals this wide say little; use a larger log"
        ));
    }
    Ok(report)
}

/// What the greedy policy needs, when the log has an item and a propensity: the candidate
/// items (every item of the base log), their hashed ids, and the reference position.
struct Policy<'a> {
    item_column: &'a str,
    items: &'a [Option<String>],
    propensity: &'a [Option<f64>],
    names: Vec<&'a str>,
    ids: Vec<u32>,
    position: PositionBias<'a>,
}

impl<'a> Policy<'a> {
    fn new(base: &'a Log, numeric: &HashSet<String>, hasher: FeatureHasher) -> Option<Self> {
        let (item_column, propensity) = (base.item_column.as_deref()?, base.propensity.as_deref()?);
        let items = &base.columns.iter().find(|(c, _)| c == item_column)?.1;
        let mut names: Vec<&str> = items.iter().flatten().map(String::as_str).collect();
        names.sort_unstable();
        names.dedup();
        let id = |col: &str, v: &str| hasher.id(col, feature_of(numeric.contains(col), Some(v)));
        let ids = names.iter().map(|v| id(item_column, v)).collect();
        let reference = base.position_column.as_deref().and_then(|p| {
            let values = &base.columns.iter().find(|(c, _)| c == p)?.1;
            let first = values.iter().flatten().min_by(|a, b| {
                let n = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::MAX);
                n(a).total_cmp(&n(b))
            })?;
            Some(PositionBias::Reference {
                field: p,
                id: id(p, first),
            })
        });
        Some(Self {
            item_column,
            items,
            propensity,
            names,
            ids,
            position: reference.unwrap_or(PositionBias::AsLogged),
        })
    }

    /// Per test row: click / propensity when the model's greedy choice is the logged item,
    /// else 0 (the terms of the IPS mean).
    fn values(&self, model: &dyn Ctr, test: &Examples, test_rows: &[usize]) -> Vec<f64> {
        let policy = GreedyPolicy {
            item_field: self.item_column,
            candidates: &self.ids,
            position: self.position,
        };
        let chosen = policy.choose(model, test);
        test_rows
            .iter()
            .zip(&chosen)
            .enumerate()
            .map(|(i, (&row, &c))| {
                let logged = self.items[row].as_deref().unwrap_or_default();
                let p = self.propensity[row].unwrap_or(f64::NAN);
                let click = f64::from(u8::from(test.label(i)));
                if self.names[c] == logged && p > 0.0 && p <= 1.0 {
                    click / p
                } else {
                    0.0
                }
            })
            .collect()
    }
}

fn mostly_numbers(values: &[Option<String>]) -> bool {
    let present: Vec<&String> = values.iter().flatten().filter(|v| !v.is_empty()).collect();
    !present.is_empty()
        && present
            .iter()
            .filter(|v| v.trim().parse::<f64>().is_ok())
            .count()
            * 2
            > present.len()
}

fn feature_of(numeric: bool, v: Option<&str>) -> Feature<'_> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Feature::Missing,
        Some(s) if numeric => s.parse::<f64>().map_or(Feature::Cat(s), Feature::Num),
        Some(s) => Feature::Cat(s),
    }
}

/// A log's rows with a click value, hashed once and dealt into the three splits.
struct Parts {
    train: Examples,
    validation: Examples,
    test: Examples,
    /// The log's row index of each test example.
    test_rows: Vec<usize>,
}

fn split_examples(
    log: &Log,
    numeric: &HashSet<String>,
    hasher: FeatureHasher,
    splitter: &Splitter,
) -> Parts {
    let mut parts = Parts {
        train: Examples::new(hasher),
        validation: Examples::new(hasher),
        test: Examples::new(hasher),
        test_rows: Vec::new(),
    };
    let mut key = Vec::new();
    for r in 0..log.clicks.len() {
        let Some(click) = log.clicks[r] else { continue };
        key.clear();
        for (_, v) in &log.columns {
            key.extend_from_slice(v[r].as_deref().unwrap_or("\u{1}").as_bytes());
            key.push(0x1f);
        }
        let features: Vec<(&str, Feature)> = log
            .columns
            .iter()
            .map(|(c, v)| (c.as_str(), feature_of(numeric.contains(c), v[r].as_deref())))
            .collect();
        let into = match splitter.assign(&key) {
            Split::Train => &mut parts.train,
            Split::Validation => &mut parts.validation,
            Split::Test => {
                parts.test_rows.push(r);
                &mut parts.test
            }
        };
        into.push(&features, click, None);
    }
    parts
}

async fn read(spec: &CtrSpec, progress: Progress<'_>) -> ShelfResult<Vec<Log>> {
    let work = crate::audit::work_dir()?;
    let ctx = crate::audit::session(&spec.logs.config)?;
    let staged = spec
        .logs
        .stage(&ctx, work.path(), progress, |t| {
            require_role(t, Role::Click, "whether the impression was clicked, 0 or 1")
        })
        .await?;
    let mut logs = Vec::new();
    for s in &staged {
        logs.push(read_log(&ctx, &s.table, &s.name, &s.view).await?);
    }
    Ok(logs)
}

fn bound(t: &ResolvedTable, role: Role) -> Option<String> {
    t.bindings
        .iter()
        .find(|(b, _)| b.role == role)
        .and_then(|(_, c)| c.first().cloned())
}

async fn read_log(
    ctx: &datafusion::prelude::SessionContext,
    t: &ResolvedTable,
    name: &str,
    view: &str,
) -> ShelfResult<Log> {
    let q = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let dropped: Vec<String> = [Role::Click, Role::Propensity, Role::Timestamp]
        .iter()
        .filter_map(|r| bound(t, *r))
        .collect();
    let candidates: Vec<&String> = t
        .staged
        .columns
        .iter()
        .filter(|c| !dropped.contains(c))
        .collect();
    let mut cols: Vec<String> = candidates
        .iter()
        .map(|c| format!("CAST({} AS VARCHAR) AS {}", q(c), q(c)))
        .collect();
    cols.push("__row_id".into());
    let raw = select(
        ctx,
        &format!(
            "SELECT {} FROM {} ORDER BY __row_id",
            cols.join(", "),
            q(&format!("{view}_raw"))
        ),
        "reading the events",
    )
    .await?;
    let mut extra = vec!["CAST(click AS DOUBLE) AS click".to_string()];
    if has_role(t, Role::Propensity) {
        extra.push("CAST(propensity AS DOUBLE) AS propensity".into());
    }
    if has_role(t, Role::Timestamp) {
        extra.push("CAST(date_part('hour', timestamp) AS VARCHAR) AS hour, CAST(date_part('dow', timestamp) AS VARCHAR) AS weekday".into());
    }
    let roles = select(
        ctx,
        &format!(
            "SELECT {} FROM {} ORDER BY row_id",
            extra.join(", "),
            q(view)
        ),
        "reading the events",
    )
    .await?;
    let rows = raw.num_rows();
    let mut columns = Vec::new();
    let mut ignored = Vec::new();
    for c in candidates {
        let values = optional_texts(&raw, c)?.unwrap_or_default();
        let distinct: HashSet<&str> = values.iter().flatten().map(String::as_str).collect();
        if c.is_empty() || c.starts_with("Unnamed") || (rows > 100 && distinct.len() == rows) {
            ignored.push(c.clone());
            continue;
        }
        columns.push((c.clone(), values));
    }
    for time_feature in ["hour", "weekday"] {
        if let Some(v) = optional_texts(&roles, time_feature)? {
            columns.push((time_feature.to_string(), v));
        }
    }
    let mut skipped = BTreeMap::new();
    let clicks: Vec<Option<bool>> = floats(&roles, "click")?
        .into_iter()
        .map(|c| match c {
            Some(x) if x == 0.0 || x == 1.0 => Some(x == 1.0),
            Some(_) => {
                *skipped
                    .entry("click not 0 or 1".to_string())
                    .or_insert(0u64) += 1;
                None
            }
            None => {
                *skipped.entry("no click value".to_string()).or_insert(0u64) += 1;
                None
            }
        })
        .collect();
    let propensity = if has_role(t, Role::Propensity) {
        Some(floats(&roles, "propensity")?)
    } else {
        None
    };
    let categorical = [
        Role::ItemId,
        Role::UserId,
        Role::SessionId,
        Role::QueryId,
        Role::OrderId,
        Role::Position,
    ]
    .iter()
    .filter_map(|r| bound(t, *r))
    .chain(["hour".to_string(), "weekday".to_string()])
    .collect();
    Ok(Log {
        name: name.to_string(),
        path: t.input.clone(),
        columns,
        clicks,
        propensity,
        rows: rows as u64,
        skipped,
        ignored,
        item_column: bound(t, Role::ItemId),
        position_column: bound(t, Role::Position),
        categorical,
    })
}
