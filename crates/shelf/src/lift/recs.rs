//! `shelf lift recs`: popularity, item-kNN and implicit ALS trained on the base event log and
//! on each variant (e.g. the same log with bots removed), each held out leave-last-out per
//! user, scored by Recall@20 and NDCG@20 on the users both versions hold out.
//!
//! - Interactions: (user, item) rows of the events table; the event type, when the table has
//!   one, sets the weight (purchase 5, cart or favourite 3, view or click 1); impressions and
//!   returns are not interactions and are counted, as are rows without a user or item and
//!   rows with a quantity of zero or less (cancellations).
//! - Users: the user id, else (anonymous rows) the session id.
//! - Time: the timestamp role, else the row order; rows with equal times keep file order.
//! - Pairing: users are matched by their own id across versions; a user held out in only one
//!   version is counted in `data`, not scored.
//! - Segments: users by how many distinct items they have in the base's training part.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::json;
use shelf_checks::columns::{floats, optional_texts, texts};
use shelf_core::{Role, ShelfError, ShelfResult};
use shelf_lift::recs::{
    Als, Evaluation, Event, EventKind, EventWeights, ItemKnn, Metric, Popularity, Recommender,
    Split, SplitRule, Stage, align, evaluate,
};
use shelf_lift::stats::Bootstrap;
use shelf_report::{LiftReport, Order, Segments};

use super::{EventLogs, StagedLog, block_on, deltas, has_role, model_scores, require_role, select};
use crate::audit::Progress;

/// Recommendations per user.
pub const K: usize = 20;

#[derive(Debug, Clone, Default)]
pub struct RecsSpec {
    pub logs: EventLogs,
    pub weights: EventWeights,
    pub als: Als,
    pub bootstrap: Bootstrap,
}

/// One version's log, mapped to dense indexes.
struct Log {
    name: String,
    path: PathBuf,
    users: Vec<String>,
    items: Vec<String>,
    events: Vec<Event>,
    rows: u64,
    skipped: BTreeMap<String, u64>,
}

/// One version's evaluation of every model, plus the split facts for `data`.
struct Scored {
    by_model: Vec<(String, Evaluation)>,
    /// Distinct training items per user index (the segments' activity).
    train_items: Vec<usize>,
    facts: serde_json::Value,
}

/// Runs the comparison. Blocking.
pub fn recs(spec: &RecsSpec, progress: Progress<'_>) -> ShelfResult<LiftReport> {
    let logs = block_on(read(spec, progress))?;
    let mut scored: Vec<Scored> = Vec::new();
    for log in &logs {
        progress(&format!(
            "{}: {} users, {} items, {} interactions; training",
            log.name,
            log.users.len(),
            log.items.len(),
            log.events.len()
        ));
        scored.push(train(spec, log)?);
    }
    let base = &logs[0];
    // Segment of a user: distinct items in the base's training part.
    let activity: HashMap<&str, usize> = base
        .users
        .iter()
        .map(String::as_str)
        .zip(scored[0].train_items.iter().copied())
        .collect();
    let segment_of = |user: &str| segment(activity.get(user).copied().unwrap_or(0));
    let bootstrap = &spec.bootstrap;
    let models: Vec<String> = scored[0].by_model.iter().map(|(m, _)| m.clone()).collect();
    let mut report = LiftReport {
        task: "recs".into(),
        shelf_version: env!("CARGO_PKG_VERSION").into(),
        order: Order {
            variants: logs.iter().map(|l| l.name.clone()).collect(),
            models: models.clone(),
            metrics: vec![
                format!("recall@{K}"),
                format!("ndcg@{K}"),
                format!("coverage@{K}"),
            ],
        },
        segments: Segments {
            by: "user activity: distinct items in the base's training part".into(),
            names: SEGMENTS.iter().map(|s| s.to_string()).collect(),
            ..Segments::default()
        },
        ..LiftReport::default()
    };
    let (recall_key, ndcg_key) = (format!("recall@{K}"), format!("ndcg@{K}"));
    for (log, s) in logs.iter().zip(&scored) {
        for (model, e) in &s.by_model {
            let keyed = |seg: Option<&str>| -> Vec<(&str, Vec<f64>)> {
                [
                    (recall_key.as_str(), Metric::Recall),
                    (ndcg_key.as_str(), Metric::Ndcg),
                ]
                .into_iter()
                .map(|(key, m)| {
                    let v = e
                        .users
                        .iter()
                        .zip(e.values(m))
                        .filter(|(u, _)| {
                            seg.is_none_or(|s| segment_of(&log.users[**u as usize]) == s)
                        })
                        .map(|(_, v)| *v)
                        .collect();
                    (key, v)
                })
                .collect()
            };
            let mut all = model_scores(&refs(&keyed(None)), "users", bootstrap);
            all.metrics.insert(format!("coverage@{K}"), e.coverage);
            report
                .variants
                .entry(log.name.clone())
                .or_default()
                .insert(model.clone(), all);
            for seg in SEGMENTS {
                report
                    .segments
                    .variants
                    .entry(log.name.clone())
                    .or_default()
                    .entry(model.clone())
                    .or_default()
                    .insert(
                        seg.to_string(),
                        model_scores(&refs(&keyed(Some(seg))), "users", bootstrap),
                    );
            }
        }
    }
    // Paired deltas on the users both versions hold out.
    let mut pairing = serde_json::Map::new();
    for (log, s) in logs.iter().zip(&scored).skip(1) {
        for ((model, a), (_, b)) in scored[0].by_model.iter().zip(&s.by_model) {
            let pair = |m: Metric| {
                align(
                    a,
                    |u| base.users[u as usize].clone(),
                    b,
                    |u| log.users[u as usize].clone(),
                    m,
                )
            };
            let (r, n) = (pair(Metric::Recall), pair(Metric::Ndcg));
            pairing.insert(
                log.name.clone(),
                json!({"users_paired": r.users.len(), "held_out_only_in_base": r.only_a, "held_out_only_in_variant": r.only_b}),
            );
            let pick = |seg: Option<&str>| {
                let keep: Vec<bool> = r
                    .users
                    .iter()
                    .map(|u| seg.is_none_or(|s| segment_of(u) == s))
                    .collect();
                let f = |v: &[f64]| -> Vec<f64> {
                    v.iter()
                        .zip(&keep)
                        .filter(|(_, k)| **k)
                        .map(|(x, _)| *x)
                        .collect()
                };
                (
                    vec![(recall_key.as_str(), f(&r.a)), (ndcg_key.as_str(), f(&n.a))],
                    vec![(recall_key.as_str(), f(&r.b)), (ndcg_key.as_str(), f(&n.b))],
                )
            };
            let (xa, xb) = pick(None);
            report
                .deltas
                .entry(log.name.clone())
                .or_default()
                .insert(model.clone(), deltas(&refs(&xa), &refs(&xb), bootstrap));
            for seg in SEGMENTS {
                let (xa, xb) = pick(Some(seg));
                report
                    .segments
                    .deltas
                    .entry(log.name.clone())
                    .or_default()
                    .entry(model.clone())
                    .or_default()
                    .insert(seg.to_string(), deltas(&refs(&xa), &refs(&xb), bootstrap));
            }
        }
    }
    report.data = json!({
        "logs": logs.iter().zip(&scored).map(|(l, s)| (l.name.clone(), json!({
            "path": l.path.display().to_string(),
            "rows": l.rows,
            "skipped_rows": l.skipped,
            "users": l.users.len(),
            "items": l.items.len(),
            "interactions": l.events.len(),
            "split": s.facts,
        }))).collect::<serde_json::Map<_, _>>(),
        "pairing": pairing,
    });
    report.settings = json!({
        "k": K,
        "split": "leave-last-out per user: last distinct item → test, the one before → validation",
        "weights": {"view": spec.weights.view, "cart": spec.weights.cart, "purchase": spec.weights.purchase},
        "item_knn": {"neighbours": ItemKnn::default().neighbours, "shrink": ItemKnn::default().shrink},
        "als": {"factors": spec.als.factors, "regularization": spec.als.regularization, "alpha": spec.als.alpha,
                "max_iterations": spec.als.max_iterations, "patience": spec.als.patience, "seed": spec.als.seed,
                "early_stopping": format!("validation recall@{}", spec.als.k)},
        "coverage": "share of the training catalog in at least one user's top k (no interval, not paired)",
        "bootstrap": {"resamples": bootstrap.resamples, "seed": bootstrap.seed, "paired": true},
    });
    Ok(report)
}

fn refs<'a>(v: &'a [(&'a str, Vec<f64>)]) -> Vec<(&'a str, &'a [f64])> {
    v.iter().map(|(k, x)| (*k, x.as_slice())).collect()
}

const SEGMENTS: [&str; 3] = ["1-4 items", "5-19 items", "20+ items"];

fn segment(items: usize) -> &'static str {
    match items {
        0..=4 => SEGMENTS[0],
        5..=19 => SEGMENTS[1],
        _ => SEGMENTS[2],
    }
}

fn train(spec: &RecsSpec, log: &Log) -> ShelfResult<Scored> {
    let split = Split::new(
        log.users.len() as u32,
        log.items.len() as u32,
        &log.events,
        SplitRule::LeaveLastOut,
    );
    if split.test.is_empty() {
        return Err(ShelfError::user(format!(
            "{}: no user has 3 or more distinct items, so leave-last-out holds nothing out to score; the log needs repeat users",
            log.path.display()
        )));
    }
    let popularity = Popularity::fit(&split.train);
    let knn = ItemKnn::default().fit(&split.train);
    let als = spec.als.fit(&split);
    let models: [&dyn Recommender; 3] = [&popularity, &knn, &als.model];
    let by_model = models
        .iter()
        .map(|m| (m.name().to_string(), evaluate(*m, &split, Stage::Test, K)))
        .collect();
    Ok(Scored {
        by_model,
        train_items: (0..log.users.len() as u32)
            .map(|u| split.train.items_of(u).len())
            .collect(),
        facts: json!({
            "test_users": split.test.len(),
            "validation_users": split.validation.len(),
            "repeats_not_held_out": split.dropped_repeats,
            "cold_users_not_scored": split.dropped_cold_users,
            "als_best_iteration": als.best_iteration,
            "als_train_seconds": als.train_seconds,
        }),
    })
}

async fn read(spec: &RecsSpec, progress: Progress<'_>) -> ShelfResult<Vec<Log>> {
    let work = crate::audit::work_dir()?;
    let ctx = crate::audit::session(&spec.logs.config)?;
    let staged = spec
        .logs
        .stage(&ctx, work.path(), progress, |t| {
            if !has_role(t, Role::SessionId) {
                require_role(t, Role::UserId, "whose interaction it is (or a session_id)")?;
            }
            require_role(t, Role::ItemId, "which item was interacted with")
        })
        .await?;
    let mut logs = Vec::new();
    for StagedLog {
        name,
        table: t,
        view,
    } in staged
    {
        let mut cols = vec!["CAST(item_id AS VARCHAR) AS item_id".to_string()];
        if has_role(&t, Role::UserId) {
            cols.push("CAST(user_id AS VARCHAR) AS user_id".into());
        }
        if has_role(&t, Role::SessionId) {
            cols.push("CAST(session_id AS VARCHAR) AS session_id".into());
        }
        if has_role(&t, Role::Event) {
            cols.push("CAST(event AS VARCHAR) AS event".into());
        }
        if has_role(&t, Role::Quantity) {
            cols.push("CAST(quantity AS DOUBLE) AS quantity".into());
        }
        if has_role(&t, Role::Timestamp) {
            cols.push("CAST(CAST(timestamp AS BIGINT) AS DOUBLE) AS time".into());
        }
        let b = select(
            &ctx,
            &format!("SELECT {} FROM \"{view}\" ORDER BY row_id", cols.join(", ")),
            &format!("reading the {name} events"),
        )
        .await?;
        logs.push(to_log(&name, &t.input, &b, &spec.weights, &t.null_tokens)?);
    }
    Ok(logs)
}

/// An event type's kind, or `None` for rows that are no interaction (impressions, returns).
fn kind(event: &str) -> Option<EventKind> {
    let e = event.trim().to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| e.contains(w));
    if has(&["impression", "return", "refund"]) {
        None
    } else if has(&["purchase", "buy", "order", "transaction", "checkout"]) {
        Some(EventKind::Purchase)
    } else if has(&["cart", "fav", "wish", "basket"]) {
        Some(EventKind::Cart)
    } else {
        Some(EventKind::View)
    }
}

/// The rows of one version as interactions. A row without a user id (or with one of the
/// table's null tokens, Diginetica's `NA`) belongs to its session, when the log has one:
/// anonymous sessions are the shoppers of session-based logs.
fn to_log(
    name: &str,
    path: &Path,
    b: &arrow::array::RecordBatch,
    weights: &EventWeights,
    null_tokens: &[String],
) -> ShelfResult<Log> {
    let users = optional_texts(b, "user_id")?.unwrap_or_else(|| vec![None; b.num_rows()]);
    let sessions = optional_texts(b, "session_id")?;
    let items = texts(b, "item_id")?;
    let events = optional_texts(b, "event")?;
    let quantity = if b.column_by_name("quantity").is_some() {
        Some(floats(b, "quantity")?)
    } else {
        None
    };
    let time = if b.column_by_name("time").is_some() {
        Some(floats(b, "time")?)
    } else {
        None
    };
    let (mut user_ids, mut item_ids): (Vec<String>, Vec<String>) = Default::default();
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let (mut user_ix, mut item_ix): (HashMap<String, u32>, HashMap<String, u32>) =
        Default::default();
    let mut skip = |why: &str| *skipped.entry(why.to_string()).or_default() += 1;
    let mut out = Vec::new();
    for row in 0..b.num_rows() {
        let clean = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty() && !null_tokens.iter().any(|t| t == s))
                .map(str::to_string)
        };
        let user = clean(&users[row]).or_else(|| {
            let s = clean(sessions.as_ref()?.get(row)?)?;
            Some(format!("session {s}"))
        });
        let (Some(u), Some(i)) = (user, clean(&items[row])) else {
            skip(if clean(&items[row]).is_none() {
                "no item id"
            } else {
                "no user or session id"
            });
            continue;
        };
        if quantity
            .as_ref()
            .is_some_and(|q| q[row].is_some_and(|x| x <= 0.0))
        {
            skip("quantity zero or less (a cancellation or return)");
            continue;
        }
        let k = match events.as_ref().map(|e| e[row].as_deref()) {
            None => EventKind::View,
            Some(None) => {
                skip("no event type");
                continue;
            }
            Some(Some(e)) => match kind(e) {
                Some(k) => k,
                None => {
                    skip("impression or return (not an interaction)");
                    continue;
                }
            },
        };
        let t = match time.as_ref().map(|t| t[row]) {
            None => row as i64,
            Some(Some(x)) => x as i64,
            Some(None) => {
                skip("no timestamp");
                continue;
            }
        };
        let n = user_ix.len() as u32;
        let user = *user_ix.entry(u.clone()).or_insert_with(|| {
            user_ids.push(u);
            n
        });
        let n = item_ix.len() as u32;
        let item = *item_ix.entry(i.clone()).or_insert_with(|| {
            item_ids.push(i);
            n
        });
        out.push(Event {
            user,
            item,
            weight: weights.weight(k),
            time: t,
        });
    }
    // Events that share a time (lines of one invoice) are ordered as the file has them: times
    // become ranks of (time, row), so the split's "last item" is the last line, not whichever
    // item happens to have the highest index.
    let mut order: Vec<usize> = (0..out.len()).collect();
    order.sort_by_key(|&i| (out[i].time, i));
    for (rank, &i) in order.iter().enumerate() {
        out[i].time = rank as i64;
    }
    let log = Log {
        name: name.to_string(),
        path: path.to_path_buf(),
        users: user_ids,
        items: item_ids,
        events: out,
        rows: b.num_rows() as u64,
        skipped,
    };
    if log.events.is_empty() {
        return Err(ShelfError::user(format!(
            "{}: no row is an interaction with a user and an item ({:?}); check the role mapping with `shelf audit --events`",
            path.display(),
            log.skipped
        )));
    }
    Ok(log)
}
