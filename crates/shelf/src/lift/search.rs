//! `shelf lift search`: BM25 (and, with an embedder, dense and hybrid) retrieval indexed on the
//! base catalog and on each variant catalog, scored on the same judged queries.
//!
//! - Items: one per item id, the first row of each id (later rows with the same id are
//!   counted in `data`, never silently merged). Without `--catalog`, the judgments table's own
//!   item columns (Home Depot's `product_title`) are the base catalog.
//! - Gains: the label scaled to [0, 1] by the table's known scale (a preset's, e.g. Home
//!   Depot's 1–3) or else by the observed minimum and maximum; relevant from 0.5.
//! - Queries: grouped by `query_id` when the judgments have one, else by query text; a query
//!   with no relevant judged item is not scored (no metric is defined for it) and counted.
//! - Judged items missing from a version's catalog stay in the ideal ranking: a version that
//!   loses relevant items is charged for it.
//! - Segments: query length in words (Chinese: two characters count as one word).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use serde_json::json;
use shelf_checks::columns::{floats, optional_texts, texts, u64s};
use shelf_core::{Role, ShelfError, ShelfResult, TableKind};
use shelf_io::presets::LabelScale;
use shelf_lift::metrics::{RELEVANT_FROM, Truth};
use shelf_lift::search::{
    Bm25, Bm25Options, Dense, Doc, Hit, Metric, QueryScores, Retriever, evaluate, fuse,
};
use shelf_lift::stats::Bootstrap;
use shelf_lift::text::{Chinese, Segmenter};
use shelf_report::{LiftReport, Order, Segments};

use super::{
    Variant, block_on, check_unique, deltas, has_role, model_scores, require_role, select,
};
use crate::audit::Progress;
use crate::config::Config;
use crate::tables::{ResolvedTable, resolve};

/// How deep every model ranks (Recall@100 reads all of it).
pub const DEPTH: usize = 100;

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct SearchSpec {
    /// The base catalog; `None` takes the items from the judgments table.
    pub catalog: Option<PathBuf>,
    pub judgments: PathBuf,
    pub variants: Vec<Variant>,
    pub preset: Option<String>,
    pub encoding: Option<String>,
    pub config: Config,
    pub chinese: Chinese,
    pub stem: bool,
    pub bootstrap: Bootstrap,
}

/// The report plus what the run files need.
#[derive(Debug)]
pub struct SearchLift {
    pub report: LiftReport,
    /// (query id, query text) of every judged query, in judgment order.
    pub queries: Vec<(String, String)>,
    /// (variant, model, per query: (item id, score) best first).
    pub runs: Vec<Run>,
}

#[derive(Debug)]
pub struct Run {
    pub variant: String,
    pub model: String,
    pub rankings: Vec<Vec<(String, f32)>>,
}

/// One judged query.
struct Query {
    id: String,
    text: String,
    /// (item id, gain in [0, 1]).
    judged: Vec<(String, f64)>,
}

/// One catalog version, read.
struct Catalog {
    name: String,
    path: PathBuf,
    ids: Vec<String>,
    docs: Vec<Doc>,
    rows: u64,
    repeated_ids: u64,
    missing_ids: u64,
}

impl Catalog {
    fn index(&self) -> HashMap<&str, u32> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i as u32))
            .collect()
    }
}

/// Runs the comparison. Blocking; drives DataFusion on its own runtime.
pub fn search(spec: &SearchSpec, progress: Progress<'_>) -> ShelfResult<SearchLift> {
    check_unique(&spec.variants)?;
    let embedder = crate::audit::embedder(&spec.config)?;
    let (queries, skipped, catalogs, judgments_rows) = block_on(read(spec, progress))?;
    progress(&format!(
        "{} judged queries; catalogs: {}",
        queries.len(),
        catalogs
            .iter()
            .map(|c| format!("{} {} items", c.name, c.docs.len()))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let texts: Vec<String> = queries.iter().map(|q| q.text.clone()).collect();
    let options = Bm25Options {
        segmenter: Segmenter {
            chinese: spec.chinese,
        },
        stem: spec.stem,
    };

    // Rankings per version and model, then truths per version (ids differ between versions).
    let mut runs: Vec<Run> = Vec::new();
    let mut scores: BTreeMap<(String, String), QueryScores> = BTreeMap::new();
    let mut models: Vec<String> = vec!["bm25".into()];
    if embedder.is_some() {
        models.extend(["dense".into(), "hybrid".into()]);
    }
    for cat in &catalogs {
        let index = cat.index();
        let truths: Vec<Truth> = queries
            .iter()
            .map(|q| {
                Truth::new(
                    q.judged
                        .iter()
                        .map(|(id, g)| (index.get(id.as_str()).copied(), *g)),
                )
            })
            .collect();
        progress(&format!("{}: BM25 over {} items", cat.name, cat.docs.len()));
        let bm25 = Bm25::build(&cat.docs, options)?.search(&texts, DEPTH)?;
        let mut by_model: Vec<(String, Vec<Vec<Hit>>)> = vec![("bm25".into(), bm25)];
        if let Some(e) = &embedder {
            progress(&format!(
                "{}: embedding {} items with {}",
                cat.name,
                cat.docs.len(),
                e.id()
            ));
            let dense = Dense::build(Arc::clone(e), &cat.docs)?.search(&texts, DEPTH)?;
            let hybrid = by_model[0]
                .1
                .iter()
                .zip(&dense)
                .map(|(a, b)| fuse(&[a, b], DEPTH))
                .collect();
            by_model.push(("dense".into(), dense));
            by_model.push(("hybrid".into(), hybrid));
        }
        for (model, rankings) in by_model {
            scores.insert(
                (cat.name.clone(), model.clone()),
                evaluate(&rankings, &truths),
            );
            runs.push(Run {
                variant: cat.name.clone(),
                model,
                rankings: rankings
                    .into_iter()
                    .map(|hits| {
                        hits.into_iter()
                            .map(|h| (cat.ids[h.doc as usize].clone(), h.score))
                            .collect()
                    })
                    .collect(),
            });
        }
    }

    // Only queries with a relevant judged item are scored.
    let scored: Vec<usize> = queries
        .iter()
        .enumerate()
        .filter(|(_, q)| q.judged.iter().any(|(_, g)| *g >= RELEVANT_FROM))
        .map(|(i, _)| i)
        .collect();
    if scored.is_empty() {
        return Err(ShelfError::user(format!(
            "{}: no judged query has a relevant item (a label in the upper half of the scale), so no ranking metric is defined; check the label column and its scale",
            spec.judgments.display()
        )));
    }
    let segmenter = Segmenter::default();
    let segment_of: Vec<&'static str> = scored
        .iter()
        .map(|&i| segment(&segmenter, &queries[i].text))
        .collect();
    let bootstrap = &spec.bootstrap;
    let pick = |s: &QueryScores, keep: &dyn Fn(usize) -> bool| -> Vec<(&'static str, Vec<f64>)> {
        Metric::ALL
            .iter()
            .map(|m| {
                let all = s.get(*m);
                let v = scored
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| keep(*j))
                    .map(|(_, &q)| all[q])
                    .collect();
                (m.key(), v)
            })
            .collect()
    };

    let mut report = LiftReport {
        task: "search".into(),
        shelf_version: env!("CARGO_PKG_VERSION").into(),
        order: Order {
            variants: catalogs.iter().map(|c| c.name.clone()).collect(),
            models: models.clone(),
            metrics: Metric::ALL.iter().map(|m| m.key().to_string()).collect(),
        },
        segments: Segments {
            by: "query length in words; two Chinese characters count as one word".into(),
            names: SEGMENTS.iter().map(|s| s.to_string()).collect(),
            ..Segments::default()
        },
        ..LiftReport::default()
    };
    for cat in &catalogs {
        for model in &models {
            let s = &scores[&(cat.name.clone(), model.clone())];
            let all = pick(s, &|_| true);
            report.variants.entry(cat.name.clone()).or_default().insert(
                model.clone(),
                model_scores(&refs(&all), "queries", bootstrap),
            );
            let base = pick(&scores[&("base".to_string(), model.clone())], &|_| true);
            if cat.name != "base" {
                report
                    .deltas
                    .entry(cat.name.clone())
                    .or_default()
                    .insert(model.clone(), deltas(&refs(&base), &refs(&all), bootstrap));
            }
            for seg in SEGMENTS {
                let keep = |j: usize| segment_of[j] == seg;
                let here = pick(s, &keep);
                report
                    .segments
                    .variants
                    .entry(cat.name.clone())
                    .or_default()
                    .entry(model.clone())
                    .or_default()
                    .insert(
                        seg.to_string(),
                        model_scores(&refs(&here), "queries", bootstrap),
                    );
                if cat.name != "base" {
                    let base_here = pick(&scores[&("base".to_string(), model.clone())], &keep);
                    report
                        .segments
                        .deltas
                        .entry(cat.name.clone())
                        .or_default()
                        .entry(model.clone())
                        .or_default()
                        .insert(
                            seg.to_string(),
                            deltas(&refs(&base_here), &refs(&here), bootstrap),
                        );
                }
            }
        }
    }
    report.data = json!({
        "judgments": {
            "path": spec.judgments.display().to_string(),
            "rows": judgments_rows,
            "skipped_rows": skipped,
            "queries": queries.len(),
            "queries_scored": scored.len(),
            "queries_without_relevant_items": queries.len() - scored.len(),
        },
        "catalogs": catalogs.iter().map(|c| {
            let index = c.index();
            let judged: std::collections::HashSet<&str> =
                queries.iter().flat_map(|q| q.judged.iter().map(|(id, _)| id.as_str())).collect();
            (c.name.clone(), json!({
                "path": c.path.display().to_string(),
                "rows": c.rows,
                "items": c.docs.len(),
                "rows_with_repeated_item_id": c.repeated_ids,
                "rows_without_item_id": c.missing_ids,
                "judged_items_missing": judged.iter().filter(|id| !index.contains_key(*id)).count(),
            }))
        }).collect::<serde_json::Map<_, _>>(),
    });
    report.settings = json!({
        "depth": DEPTH,
        "gain": "label scaled to [0, 1] (linear); nDCG uses it as the graded gain",
        "relevant_from": RELEVANT_FROM,
        "bm25": {
            "fields": shelf_lift::search::FIELD_BOOSTS.iter().map(|(f, b)| (f.to_string(), json!(b))).collect::<serde_json::Map<_, _>>(),
            "chinese": spec.chinese.as_str(),
            "stem": spec.stem,
        },
        "dense": embedder.as_ref().map(|e| json!({"embedder": e.id(), "search": "exact inner product"})),
        "hybrid": embedder.as_ref().map(|_| json!({"fusion": "reciprocal rank", "k": shelf_lift::search::RRF_K})),
        "bootstrap": {"resamples": bootstrap.resamples, "seed": bootstrap.seed, "paired": true},
    });
    Ok(SearchLift {
        report,
        queries: queries
            .iter()
            .map(|q| (q.id.clone(), q.text.clone()))
            .collect(),
        runs,
    })
}

fn refs<'a>(v: &'a [(&'static str, Vec<f64>)]) -> Vec<(&'static str, &'a [f64])> {
    v.iter().map(|(k, x)| (*k, x.as_slice())).collect()
}

const SEGMENTS: [&str; 3] = ["1-2 words", "3-4 words", "5+ words"];

fn segment(s: &Segmenter, query: &str) -> &'static str {
    let terms = s.terms(query);
    let cjk = terms
        .iter()
        .filter(|t| t.chars().next().is_some_and(|c| c as u32 >= 0x2E80))
        .count();
    // Bigrams overlap: a run of n characters gives n-1 bigrams, about n/2 words.
    let words = terms.len() - cjk + cjk.div_ceil(2);
    match words {
        0..=2 => SEGMENTS[0],
        3..=4 => SEGMENTS[1],
        _ => SEGMENTS[2],
    }
}

type Read = (Vec<Query>, BTreeMap<String, u64>, Vec<Catalog>, u64);

async fn read(spec: &SearchSpec, progress: Progress<'_>) -> ShelfResult<Read> {
    let work = crate::audit::work_dir()?;
    let ctx = crate::audit::session(&spec.config)?;
    let cfg = |kind: TableKind| {
        spec.config
            .tables
            .get(kind.as_str())
            .cloned()
            .unwrap_or_default()
    };
    // Each version stages into its own folder (staged files are named after their kind).
    let stage = |kind: TableKind, path: &PathBuf, version: &str| {
        progress(&format!("reading {kind} from {}", path.display()));
        let dir = work.path().join(version);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ShelfError::io(&dir, "cannot create a work directory", e))?;
        resolve(
            kind,
            path,
            &cfg(kind),
            spec.preset.as_deref(),
            spec.encoding.as_deref(),
            &dir,
        )
    };

    let judgments = stage(TableKind::Judgments, &spec.judgments, "judgments")?;
    for (role, why) in [
        (Role::Query, "the query text to search with"),
        (Role::ItemId, "which item was judged"),
        (Role::Label, "how relevant the item is"),
    ] {
        require_role(&judgments, role, why)?;
    }
    crate::audit::register(&ctx, &judgments, "judgments_raw", "judgments").await?;
    let (queries, skipped) = read_judgments(&ctx, &judgments).await?;

    let mut catalogs = Vec::new();
    match &spec.catalog {
        Some(p) => {
            let t = stage(TableKind::Catalog, p, "base")?;
            catalogs.push(read_catalog(&ctx, &t, "base", p).await?);
        }
        None => {
            // The judgments' own item columns are the catalog (Home Depot carries titles).
            if !has_role(&judgments, Role::Title) {
                return Err(ShelfError::user(format!(
                    "{}: the judgments have no title column to search, and no --catalog was given. Give --catalog with the items' texts, or map a title column under [tables.judgments.roles]",
                    spec.judgments.display()
                )));
            }
            catalogs.push(read_catalog(&ctx, &judgments, "base", &spec.judgments).await?);
        }
    }
    for v in &spec.variants {
        let t = stage(TableKind::Catalog, &v.path, &v.name)?;
        catalogs.push(read_catalog(&ctx, &t, &v.name, &v.path).await?);
    }
    Ok((queries, skipped, catalogs, judgments.staged.rows))
}

/// The item-describing roles a catalog (or a judgments table standing in for one) may have.
const DOC_ROLES: [Role; 6] = [
    Role::Title,
    Role::Brand,
    Role::Category,
    Role::Description,
    Role::Attributes,
    Role::Query,
];

async fn read_catalog(
    ctx: &datafusion::prelude::SessionContext,
    t: &ResolvedTable,
    name: &str,
    path: &Path,
) -> ShelfResult<Catalog> {
    require_role(
        t,
        Role::ItemId,
        "to match the catalog's items with the judged ones",
    )?;
    let view = if t.kind == TableKind::Judgments {
        "judgments".to_string()
    } else {
        let view = format!("catalog_{name}");
        crate::audit::register(ctx, t, &format!("{view}_raw"), &view).await?;
        view
    };
    let text_roles: Vec<Role> = DOC_ROLES
        .iter()
        .copied()
        .filter(|r| has_role(t, *r) && !(t.kind == TableKind::Judgments && *r == Role::Query))
        .collect();
    if text_roles.is_empty() {
        return Err(ShelfError::user(format!(
            "{}: no column has a text role to search (title, brand, category, description, attributes). Map one under [tables.catalog.roles], e.g. title = \"name\"",
            path.display()
        )));
    }
    let cols: Vec<String> = text_roles
        .iter()
        .map(|r| format!("CAST(\"{0}\" AS VARCHAR) AS \"{0}\"", r.as_str()))
        .collect();
    let b: RecordBatch = select(
        ctx,
        &format!(
            "SELECT row_id, CAST(item_id AS VARCHAR) AS item_id, {} FROM \"{view}\" ORDER BY row_id",
            cols.join(", ")
        ),
        &format!("reading the {name} catalog"),
    )
    .await?;
    let ids = texts(&b, "item_id")?;
    let rows = u64s(&b, "row_id")?.len() as u64;
    let mut fields: Vec<(Role, Vec<Option<String>>)> = Vec::new();
    for r in &text_roles {
        if let Some(v) = optional_texts(&b, r.as_str())? {
            fields.push((*r, v));
        }
    }
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut cat = Catalog {
        name: name.to_string(),
        path: path.to_path_buf(),
        ids: Vec::new(),
        docs: Vec::new(),
        rows,
        repeated_ids: 0,
        missing_ids: 0,
    };
    for (row, id) in ids.into_iter().enumerate() {
        let Some(id) = id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) else {
            cat.missing_ids += 1;
            continue;
        };
        if seen.insert(id.clone(), ()).is_some() {
            cat.repeated_ids += 1;
            continue;
        }
        let mut doc = Doc::default();
        for (role, values) in &fields {
            let v = values[row].clone().unwrap_or_default();
            match role {
                Role::Title => doc.title = v,
                Role::Brand => doc.brand = v,
                Role::Category => doc.category = v,
                Role::Description => doc.description = v,
                Role::Attributes => doc.attributes = v,
                _ => doc.queries = v,
            }
        }
        cat.ids.push(id);
        cat.docs.push(doc);
    }
    Ok(cat)
}

async fn read_judgments(
    ctx: &datafusion::prelude::SessionContext,
    t: &ResolvedTable,
) -> ShelfResult<(Vec<Query>, BTreeMap<String, u64>)> {
    let with_qid = has_role(t, Role::QueryId);
    let b = select(
        ctx,
        &format!(
            "SELECT CAST(query AS VARCHAR) AS query, CAST(item_id AS VARCHAR) AS item_id, label{} FROM judgments ORDER BY row_id",
            if with_qid { ", CAST(query_id AS VARCHAR) AS query_id" } else { "" }
        ),
        "reading the judgments",
    )
    .await?;
    let query = texts(&b, "query")?;
    let item = texts(&b, "item_id")?;
    let label = floats(&b, "label")?;
    let qid = if with_qid {
        Some(texts(&b, "query_id")?)
    } else {
        None
    };

    let observed = label.iter().flatten().copied().filter(|x| x.is_finite());
    let (lo, hi) = match t.label_scale {
        Some(LabelScale::Range(lo, hi)) => (lo, hi),
        Some(LabelScale::Esci) => (0.0, 3.0),
        None => observed.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        }),
    };
    let gain = |x: f64| {
        if hi > lo {
            ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            1.0
        }
    };

    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    let mut queries: Vec<Query> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for i in 0..query.len() {
        let text = query[i].as_deref().map(str::trim).filter(|s| !s.is_empty());
        let id = item[i].as_deref().map(str::trim).filter(|s| !s.is_empty());
        let l = label[i].filter(|x| x.is_finite());
        let (Some(text), Some(id), Some(l)) = (text, id, l) else {
            let why = if text.is_none() {
                "no query text"
            } else if id.is_none() {
                "no item id"
            } else {
                "no numeric label"
            };
            *skipped.entry(why.to_string()).or_default() += 1;
            continue;
        };
        let key = match &qid {
            Some(q) => q[i].clone().unwrap_or_else(|| text.to_string()),
            None => text.to_string(),
        };
        let at = *by_key.entry(key.clone()).or_insert_with(|| {
            queries.push(Query {
                id: if qid.is_some() {
                    key.clone()
                } else {
                    (queries.len() + 1).to_string()
                },
                text: text.to_string(),
                judged: Vec::new(),
            });
            queries.len() - 1
        });
        queries[at].judged.push((id.to_string(), gain(l)));
    }
    if queries.is_empty() {
        return Err(ShelfError::user(format!(
            "{}: no judgment row has a query, an item id and a numeric label ({} rows skipped: {:?}); check the role mapping with `shelf audit --judgments`",
            t.input.display(),
            skipped.values().sum::<u64>(),
            skipped
        )));
    }
    Ok((queries, skipped))
}
