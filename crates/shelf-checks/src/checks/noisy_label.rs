use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, UInt64Type};
use serde_json::{Map, Value, json};
use shelf_core::lm::{Embedder, TextKind, dot};
use shelf_core::{Role, ShelfError, ShelfResult, TableKind};
use shelf_io::presets::LabelScale;

use crate::plan::{Analysis, Analyzer, Check, Ctx, Outcome, ProbeSpec};
use crate::relevance::{self, Classes, Judgment, NoiseParams, Review, Suspect, features};

/// JU004
pub struct NoisyLabel;

const CODE: &str = "JU004";
const NAME: &str = "noisy-label";
/// Suspects shown in the evidence.
const SHOWN: usize = 20;
/// Fewer judgments than this (with text) train no model by default.
const MIN_JUDGMENTS: f64 = 200.0;

impl Check for NoisyLabel {
    meta!(
        "JU004",
        "noisy-label",
        // A model's suspicion, for review: on Home Depot's own labels most top suspects are
        // accessories whose title has every query word (a cover for the grill), see bench/README.md.
        Info,
        Some("RelabelJudgments"),
        "\
noisy-label (JU004)

What: finds judgments whose label the query and the item's title strongly contradict: labelled
highly relevant while the title has nothing of the query, or irrelevant while the title is
the query. Each judgment gets text features — BM25 of the title for the query (IDF from the
table's own titles), the share of query terms in the title (IDF-weighted too), exact phrase,
the query's last word, character-bigram Jaccard and containment (so Chinese and run-together
words compare), numbers of the query missing from the title — and, because labels are
relative to their query, its BM25 rank within the query and its distance from the query's
mean. A multinomial logistic regression on these is trained 5-fold with folds drawn by query
(no query is scored by a model that saw its labels) and predicts every judgment's class out of
fold. Confident learning (Northcutt et al., 2021) sets a threshold per class, the mean
probability the model gives that class on judgments labelled with it; a judgment is a suspect
when the model is confident of a class far from its label's: the opposite third of a
fractional scale (Home Depot's 1–3 means: under 1.67 against over 2.33), two steps on ESCI
(E against C or I, S against I), either class of a binary scale. Suspects are ranked by how
much more probable the far class is than the label's; the evidence shows the strongest with
the features and probabilities in words. Labels keep their values as classes on small integer
scales (0–3, E/S/C/I); other scales are cut into thirds of the declared (else observed)
range. The title comes from the judgments (a title role) or from the catalog by item id.
Needs query text and a label; below `min_judgments` judgments with text it reports nothing.

Why: a label that says the opposite of what the item is distorts every offline metric
computed from it and teaches a learned ranker the wrong thing; on crowd-sourced judgments a
few percent are slips (a wrong row, a swapped scale) that no aggregate shows.

Example: `gas grill` → `Weber Genesis 3-Burner Gas Grill`, labelled 0 on a 0–3 scale: the
title contains the whole query as a phrase and ranks first of the query's 7 judged items by
BM25; the model gives 0.90 to '3 (highest)' and 0.09 to '0 (lowest)'.

Settings ([checks.noisy-label]): min_judgments (200), folds (5), seed (1, the fold shuffle),
min_margin (0: how much more probable the far class must be than the label's), l2 (0.001, the
model's weight penalty).

Severity info: the model sees titles only, so an accessory whose title has every query word
(`gas grill` → `Gas Grill Cover`) can look relevant to it; read the reasons before acting.

Fix: send the suspects back for judgment (RelabelJudgments); the model's opinion is evidence,
not a correction."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(TableKind::Judgments) else {
            return vec![];
        };
        if !(t.has(Role::Query) && t.has(Role::Label)) {
            return vec![];
        }
        let catalog = ctx
            .table(TableKind::Catalog)
            .filter(|c| c.has(Role::ItemId) && c.has(Role::Title) && t.has(Role::ItemId));
        let (title, join) = match (t.has(Role::Title), catalog.is_some()) {
            (false, false) => return vec![],
            (true, false) => ("j.title".to_string(), String::new()),
            (own, true) => (
                if own {
                    "coalesce(j.title, c.title)".to_string()
                } else {
                    "c.title".to_string()
                },
                // One title per item id, whatever the catalog repeats.
                " LEFT JOIN (SELECT item_id, min(title) AS title FROM catalog WHERE title IS NOT NULL \
                 GROUP BY item_id) c ON j.item_id = c.item_id"
                    .to_string(),
            ),
        };
        let key = if t.has(Role::QueryId) {
            "j.query_id"
        } else {
            "j.query"
        };
        let item = if t.has(Role::ItemId) {
            ", j.item_id"
        } else {
            ""
        };
        let sql = format!(
            "SELECT j.row_id, CAST({key} AS VARCHAR) AS query_key, j.query, {title} AS title, j.label, \
             CAST(j.label_raw AS VARCHAR) AS label_raw{item} FROM judgments j{join} \
             WHERE j.label IS NOT NULL AND j.query IS NOT NULL ORDER BY j.row_id"
        );
        let p = |key: &str, default: f64| ctx.params.f64(CODE, NAME, key, default);
        let defaults = NoiseParams::default();
        let analyzer = NoisyLabels {
            params: NoiseParams {
                folds: p("folds", defaults.folds as f64).max(2.0) as usize,
                seed: p("seed", defaults.seed as f64) as u64,
                l2: p("l2", defaults.l2),
                min_margin: p("min_margin", defaults.min_margin),
            },
            min_judgments: p("min_judgments", MIN_JUDGMENTS).max(1.0) as usize,
            scale: t.label_scale,
            embedder: ctx.embedder.clone(),
        };
        vec![ProbeSpec::analyze(
            t,
            Some(Role::Label),
            sql,
            Arc::new(analyzer),
            "{n} {judgment carries a label|judgments carry labels} that the query and title strongly contradict",
            self.severity(),
        )]
    }
}

/// The out-of-fold model and confident learning over one judgments table.
struct NoisyLabels {
    params: NoiseParams,
    min_judgments: usize,
    scale: Option<LabelScale>,
    /// The run's embedder: the cosine of query and title becomes two more features.
    embedder: Option<Arc<dyn Embedder>>,
}

impl std::fmt::Debug for NoisyLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoisyLabels")
            .field("params", &self.params)
            .field("min_judgments", &self.min_judgments)
            .field("scale", &self.scale)
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.id().to_string()),
            )
            .finish()
    }
}

/// The cosine of each row's query (embedded as a query) and title (as a passage); every
/// distinct text is embedded once. All `None` without an embedder.
fn meaning(embedder: Option<&dyn Embedder>, rows: &[Row]) -> ShelfResult<Vec<Option<f64>>> {
    let Some(e) = embedder else {
        return Ok(vec![None; rows.len()]);
    };
    fn index(texts: Vec<&str>) -> (Vec<&str>, Vec<usize>) {
        let mut distinct = texts.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let at: Vec<usize> = texts
            .iter()
            .map(|t| distinct.binary_search(t).expect("present"))
            .collect();
        (distinct, at)
    }
    let (queries, q_at) = index(rows.iter().map(|r| r.query.as_str()).collect());
    let (titles, t_at) = index(rows.iter().map(|r| r.title.as_str()).collect());
    let q = e.embed(&queries, TextKind::Query)?;
    let t = e.embed(&titles, TextKind::Passage)?;
    Ok(q_at
        .iter()
        .zip(&t_at)
        .map(|(&qi, &ti)| Some(f64::from(dot(q.row(qi), t.row(ti)))))
        .collect())
}

/// A judgment with text, as read from the probe's result.
struct Row {
    row_id: u64,
    query_key: String,
    query: String,
    title: String,
    label: f64,
    label_raw: String,
    item_id: Option<String>,
}

fn col_err(e: impl std::fmt::Display) -> ShelfError {
    ShelfError::internal(format!("noisy-label input: {e}"))
}

fn read(batches: &[RecordBatch]) -> ShelfResult<Vec<Row>> {
    let mut rows = Vec::new();
    for b in batches {
        let text = |name: &str| -> ShelfResult<Option<Vec<Option<String>>>> {
            let Some(c) = b.column_by_name(name) else {
                return Ok(None);
            };
            let c = cast(c, &DataType::Utf8).map_err(col_err)?;
            Ok(Some(
                c.as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect(),
            ))
        };
        let need = |name: &str| text(name)?.ok_or_else(|| col_err(format!("no {name}")));
        let row_id = cast(
            b.column_by_name("row_id")
                .ok_or_else(|| col_err("no row_id"))?,
            &DataType::UInt64,
        )
        .map_err(col_err)?;
        let label = cast(
            b.column_by_name("label")
                .ok_or_else(|| col_err("no label"))?,
            &DataType::Float64,
        )
        .map_err(col_err)?;
        let (label, row_id) = (
            label.as_primitive::<Float64Type>(),
            row_id.as_primitive::<UInt64Type>(),
        );
        let (keys, queries, titles, raws) = (
            need("query_key")?,
            need("query")?,
            need("title")?,
            need("label_raw")?,
        );
        let items = text("item_id")?;
        for r in 0..b.num_rows() {
            let (Some(query), Some(title)) = (&queries[r], &titles[r]) else {
                continue;
            };
            if query.trim().is_empty() || title.trim().is_empty() || !label.is_valid(r) {
                continue;
            }
            rows.push(Row {
                row_id: row_id.value(r),
                query_key: keys[r].clone().unwrap_or_else(|| query.clone()),
                query: query.clone(),
                title: title.clone(),
                label: label.value(r),
                label_raw: raws[r].clone().unwrap_or_default(),
                item_id: items.as_ref().and_then(|i| i[r].clone()),
            });
        }
    }
    Ok(rows)
}

impl Analyzer for NoisyLabels {
    fn key(&self) -> String {
        format!(
            "noisy-label {:?} {} {:?} {:?}",
            self.params,
            self.min_judgments,
            self.scale,
            self.embedder.as_ref().map(|e| e.id().to_string())
        )
    }

    fn analyze(&self, batches: &[RecordBatch]) -> ShelfResult<Analysis> {
        let rows = read(batches)?;
        if rows.len() < self.min_judgments {
            return Ok(Analysis::default());
        }
        let labels: Vec<f64> = rows.iter().map(|r| r.label).collect();
        let Some(classes) = Classes::for_scale(self.scale, &labels) else {
            return Ok(Analysis::default());
        };
        let mut keys: Vec<&str> = rows.iter().map(|r| r.query_key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.len() < self.params.folds.max(2) {
            return Ok(Analysis::default());
        }
        let judgments: Vec<Judgment<'_>> = rows
            .iter()
            .zip(meaning(self.embedder.as_deref(), &rows)?)
            .map(|(r, meaning)| Judgment {
                query_key: &r.query_key,
                query: &r.query,
                title: &r.title,
                label: r.label,
                meaning,
            })
            .collect();
        let review = relevance::review(&judgments, classes, &self.params);
        Ok(Analysis {
            outcomes: outcome(&review, &rows, &self.params).into_iter().collect(),
            duplicate_pairs: None,
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn plural(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What the text says about a suspect, in words a person can check against the row.
fn reason(review: &Review, row: &Row, s: &Suspect) -> String {
    let i = s.row;
    let f = &review.facts[i];
    let x = &review.features[i];
    let c = &review.classes;
    let words = |n: u32| plural(n, "term", "terms");
    let overlap = if f.matched_terms == 0 {
        format!(
            "the title shares none of the query's {}",
            words(f.query_terms)
        )
    } else if f.matched_terms == f.query_terms && f.phrase {
        "the title contains the whole query as a phrase".to_string()
    } else if f.matched_terms == f.query_terms {
        format!("the title has all {} of the query's terms", f.query_terms)
    } else {
        let title = features::terms(&row.title);
        let missing: Vec<String> = features::terms(&row.query)
            .into_iter()
            .filter(|t| title.binary_search(t).is_err())
            .take(4)
            .map(|t| format!("'{t}'"))
            .collect();
        format!(
            "the title has {} of the query's {} (missing {})",
            f.matched_terms,
            words(f.query_terms),
            missing.join(", ")
        )
    };
    let numbers = if x[features::at::NUMBERS_MISSING] > 0.0 {
        "; numbers in the query are missing from the title"
    } else {
        ""
    };
    // Without a shared term every such item ties at BM25 0: a rank would say nothing.
    let rank = if f.judged_in_query > 1 && f.matched_terms > 0 {
        format!(
            "; it ranks {} of {} judged items for this query by BM25",
            f.rank, f.judged_in_query
        )
    } else {
        String::new()
    };
    // `labelled 2.67 (high, over 2.33)`, `labelled 3 (highest)`, `labelled E (exact)`.
    let given = c.name(s.given);
    let labelled = match given.strip_prefix(row.label_raw.as_str()) {
        Some(rest) if !rest.is_empty() => format!("{}{rest}", row.label_raw),
        Some(_) => row.label_raw.clone(),
        None => format!("{} ({given})", row.label_raw),
    };
    format!(
        "labelled {labelled} but {overlap}{numbers}{rank}; the model gives {:.2} to '{}' and {:.2} to '{}'",
        s.p_likely,
        c.name(s.likely),
        s.p_given,
        c.name(s.given)
    )
}

fn suspect_json(review: &Review, row: &Row, s: &Suspect, full: bool) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("row_id".into(), json!(row.row_id));
    if row.item_id.is_some() {
        o.insert("item_id".into(), json!(row.item_id));
    }
    o.insert("query".into(), json!(row.query));
    o.insert("title".into(), json!(row.title));
    o.insert("label".into(), json!(row.label_raw));
    o.insert("reason".into(), json!(reason(review, row, s)));
    if full {
        let c = &review.classes;
        o.insert("label_class".into(), json!(c.name(s.given)));
        o.insert("likely_class".into(), json!(c.name(s.likely)));
        o.insert("p_likely".into(), json!(round3(s.p_likely)));
        o.insert("p_label_class".into(), json!(round3(s.p_given)));
        o.insert("margin".into(), json!(round3(s.margin())));
        let x = &review.features[s.row];
        let feats: Map<String, Value> = features::NAMES
            .iter()
            .zip(x)
            .enumerate()
            .filter(|(f, _)| review.semantic || !features::SEMANTIC.contains(f))
            .map(|(_, (n, v))| (n.to_string(), json!(round3(*v))))
            .collect();
        o.insert("features".into(), Value::Object(feats));
    }
    o
}

fn outcome(review: &Review, rows: &[Row], params: &NoiseParams) -> Option<Outcome> {
    if review.suspects.is_empty() {
        return None;
    }
    let c = &review.classes;
    let mut ids: Vec<u64> = review.suspects.iter().map(|s| rows[s.row].row_id).collect();
    ids.sort_unstable();
    let shown: Vec<Value> = review
        .suspects
        .iter()
        .take(SHOWN)
        .map(|s| Value::Object(suspect_json(review, &rows[s.row], s, true)))
        .collect();
    let examples = review
        .suspects
        .iter()
        .take(5)
        .map(|s| suspect_json(review, &rows[s.row], s, false))
        .collect();
    let counts: Vec<u64> = (0..c.count())
        .map(|k| review.given.iter().filter(|&&g| g == k).count() as u64)
        .collect();
    let classes: Vec<Value> = (0..c.count())
        .map(|k| {
            json!({
                "class": c.name(k),
                "judgments": counts[k],
                "threshold": round3(review.thresholds[k]).min(1.0),
            })
        })
        .collect();
    let joint: Map<String, Value> = (0..c.count())
        .map(|g| {
            let row: Map<String, Value> = (0..c.count())
                .filter(|&j| review.joint[g][j] > 0)
                .map(|j| (c.name(j).to_string(), json!(review.joint[g][j])))
                .collect();
            (c.name(g).to_string(), Value::Object(row))
        })
        .collect();
    let mut directions: Map<String, Value> = Map::new();
    for s in &review.suspects {
        let key = format!("labelled {}, likely {}", c.name(s.given), c.name(s.likely));
        let n = directions.get(&key).and_then(Value::as_u64).unwrap_or(0);
        directions.insert(key, json!(n + 1));
    }
    let mut evidence = Map::new();
    evidence.insert("judgments_reviewed".into(), json!(rows.len()));
    evidence.insert("queries".into(), json!(review.queries));
    evidence.insert(
        "model".into(),
        json!(format!(
            "multinomial logistic regression on {} text features, {} folds by query (seed {})",
            if review.semantic {
                features::COUNT
            } else {
                features::COUNT - features::SEMANTIC.len()
            },
            params.folds,
            params.seed
        )),
    );
    evidence.insert(
        "out_of_fold_accuracy".into(),
        json!(round3(review.accuracy)),
    );
    evidence.insert(
        "majority_class_share".into(),
        json!(round3(review.majority_share)),
    );
    evidence.insert("classes".into(), Value::Array(classes));
    evidence.insert("confident_joint".into(), Value::Object(joint));
    evidence.insert("suspects_by_direction".into(), Value::Object(directions));
    evidence.insert("shown_suspects".into(), Value::Array(shown));
    Some(Outcome {
        code: CODE,
        key: String::new(),
        row_ids: ids,
        rows_sql: None,
        examples,
        evidence,
        message: Some(format!(
            "{{n}} {{judgment carries a label|judgments carry labels}} that the query and title strongly contradict: \
             a text model trained out of fold is confident of a class at the other end of the scale \
             (of {} judgments reviewed; the strongest {} are in the evidence)",
            rows.len(),
            review.suspects.len().min(SHOWN)
        )),
    })
}
