//! Category evidence from an embedder: every catalog title becomes a vector, and an item's
//! category is voted by its nearest labelled neighbours. The same vote suggests a category for
//! items without one (CA002) and flags items whose neighbours overwhelmingly sit in another
//! category (CA001); both checks plan the same probe, so the catalog is embedded once.
//!
//! Key decision: a k-nearest-neighbour vote, not centroids. A category such as "Foodgrains,
//! Oil & Masala" is many small clusters (rice, ghee, spice mixes), and a centroid between them
//! is close to nothing; neighbours see the cluster an item actually sits in. The vote walks the
//! path level by level (top level among all neighbours, second level among those that agreed
//! on the top, …), so a suggested path is always one that exists.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use serde_json::{Map, Value, json};
use shelf_core::lm::{Embedder, Neighbour, TextKind, nearest};
use shelf_core::{ShelfError, ShelfResult};

use crate::columns;
use crate::plan::{Analysis, Analyzer, Ctx, Outcome, ProbeSpec};
use shelf_core::{Role, Severity, TableKind};

pub const MISMATCH: &str = "CA001";
pub const UNCATEGORIZED: &str = "CA002";

/// How the vote is taken and judged; `[checks.category-mismatch]` and
/// `[checks.uncategorized-item]` set them.
#[derive(Debug, Clone, PartialEq)]
pub struct VoteParams {
    /// Neighbours that vote.
    pub k: usize,
    /// How fast a neighbour's weight falls with its distance (see [`weights`]).
    pub temperature: f64,
    /// Labelled items that can be neighbours, drawn evenly from the catalog when it has more:
    /// exact search costs items × reference dot products.
    pub max_reference: usize,
    /// CA001: the other category's share of the vote must reach this…
    pub min_share: f64,
    /// …and the item's own category's share must not exceed this.
    pub max_own_share: f64,
    /// Suggestions listed in each finding's evidence, strongest first.
    pub max_listed: usize,
    /// Fewer labelled items than this: no vote.
    pub min_labelled: usize,
}

impl Default for VoteParams {
    fn default() -> Self {
        Self {
            k: 10,
            temperature: 0.05,
            max_reference: 50_000,
            min_share: 0.7,
            max_own_share: 0.1,
            max_listed: 1000,
            min_labelled: 20,
        }
    }
}

impl VoteParams {
    /// The settings from `[checks.category-mismatch]`, else `[checks.uncategorized-item]`,
    /// else the defaults: both checks must plan the very same vote so it runs once.
    pub fn from_ctx(ctx: &Ctx<'_>) -> Self {
        let d = Self::default();
        // `[checks.category-mismatch]` wins over `[checks.uncategorized-item]`.
        let value = |key: &str, default: f64| {
            let other = ctx
                .params
                .f64(UNCATEGORIZED, "uncategorized-item", key, default);
            ctx.params.f64(MISMATCH, "category-mismatch", key, other)
        };
        let get = |key: &str, default: usize| value(key, default as f64).max(1.0) as usize;
        let share = |key: &str, default: f64| value(key, default).clamp(0.0, 1.0);
        Self {
            k: get("k", d.k),
            temperature: value("temperature", d.temperature).max(1e-6),
            max_reference: get("max_reference", d.max_reference),
            min_share: share("min_share", d.min_share),
            max_own_share: share("max_own_share", d.max_own_share),
            max_listed: get("max_listed", d.max_listed),
            min_labelled: get("min_labelled", d.min_labelled),
        }
    }
}

/// The shared probe of CA001 and CA002: the catalog's titles, brands and category paths,
/// handed to [`CategoryVote`]. Nothing without an embedder, a title or a category.
pub fn plan_vote(ctx: &Ctx<'_>, severity: Severity, code: &'static str) -> Vec<ProbeSpec> {
    let (Some(t), Some(embedder)) = (ctx.table(TableKind::Catalog), ctx.embedder.clone()) else {
        return vec![];
    };
    if !(t.has(Role::Title) && t.has(Role::Category)) {
        return vec![];
    }
    let brand = if t.has(Role::Brand) { ", brand" } else { "" };
    let sql = format!(
        "SELECT row_id, title, category{brand} FROM catalog WHERE title IS NOT NULL ORDER BY row_id"
    );
    let analyzer = CategoryVote {
        embedder,
        params: VoteParams::from_ctx(ctx),
    };
    let message = if code == MISMATCH {
        "{n} {item sits|items sit} among another category's items"
    } else {
        "{n} {item has|items have} no category"
    };
    vec![ProbeSpec::analyze(
        t,
        Some(Role::Category),
        sql,
        Arc::new(analyzer),
        message,
        severity,
    )]
}

/// The neighbours' verdict on one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Vote {
    /// The voted path, one entry per level.
    pub path: Vec<String>,
    /// The winner's share of the vote weight at each level.
    pub shares: Vec<f64>,
}

/// A neighbour's weight in the vote: `exp((score - best) / temperature)`, so the nearest title
/// counts 1 and one `temperature` of cosine further counts 1/e. Plain similarity weights
/// (0.62 against 0.60) let a crowd of middling neighbours outvote the one near-copy; on
/// BigBasket the single nearest title alone beat ten equally weighted ones.
fn weights(neighbours: &[Neighbour], temperature: f64) -> Vec<f64> {
    let best = neighbours.first().map_or(0.0, |n| f64::from(n.score));
    neighbours
        .iter()
        .map(|n| ((f64::from(n.score) - best) / temperature.max(1e-6)).exp())
        .collect()
}

/// Votes a path from `neighbours` (best first), whose labels are `paths[n.index]`, each
/// weighted by [`weights`].
pub fn vote(neighbours: &[Neighbour], paths: &[Vec<String>], temperature: f64) -> Option<Vote> {
    let mut voters: Vec<(&[String], f64)> = neighbours
        .iter()
        .zip(weights(neighbours, temperature))
        .map(|(n, w)| (&paths[n.index as usize][..], w))
        .collect();
    let mut vote = Vote {
        path: Vec::new(),
        shares: Vec::new(),
    };
    for level in 0.. {
        let mut weight: BTreeMap<&str, f64> = BTreeMap::new();
        for (path, w) in &voters {
            if let Some(label) = path.get(level) {
                *weight.entry(label.as_str()).or_default() += w;
            }
        }
        let total: f64 = weight.values().sum();
        // Highest weight; ties go to the name that sorts first, so the vote is deterministic.
        let Some((label, w)) = weight
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(l, w)| (l.to_string(), *w))
        else {
            break;
        };
        voters.retain(|(path, _)| path.get(level).is_some_and(|l| *l == label));
        vote.shares.push(w / total);
        vote.path.push(label);
    }
    (!vote.path.is_empty()).then_some(vote)
}

/// The share of the vote weight at the top level that `label` got.
fn top_share(
    neighbours: &[Neighbour],
    paths: &[Vec<String>],
    label: &str,
    temperature: f64,
) -> f64 {
    let (mut own, mut total) = (0.0, 0.0);
    for (n, w) in neighbours.iter().zip(weights(neighbours, temperature)) {
        if let Some(top) = paths[n.index as usize].first() {
            total += w;
            if top == label {
                own += w;
            }
        }
    }
    if total > 0.0 { own / total } else { 0.0 }
}

/// A catalog row as the probe returns it.
struct Item {
    row_id: u64,
    text: String,
    title: String,
    path: Option<Vec<String>>,
}

/// Splits the role view's category path (`a > b > c`) into levels.
pub fn split_path(category: &str) -> Vec<String> {
    category
        .split(" > ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What gets embedded: the title, with the brand in front when the title does not already
/// carry it (a brand says a lot about the aisle: "Amul" is dairy).
pub fn item_text(title: &str, brand: Option<&str>) -> String {
    match brand.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) if !title.to_lowercase().contains(&b.to_lowercase()) => format!("{b} {title}"),
        _ => title.to_string(),
    }
}

fn read(batches: &[RecordBatch]) -> ShelfResult<Vec<Item>> {
    let mut items = Vec::new();
    for b in batches {
        let ids = columns::u64s(b, "row_id")?;
        let titles = columns::texts(b, "title")?;
        let brands = columns::optional_texts(b, "brand")?;
        let categories = columns::texts(b, "category")?;
        for r in 0..b.num_rows() {
            let Some(title) = titles[r]
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
            else {
                continue; // nothing to embed; missing-value reports empty titles
            };
            let brand = brands.as_ref().and_then(|b| b[r].as_deref());
            items.push(Item {
                row_id: ids[r],
                text: item_text(title, brand),
                title: title.to_string(),
                path: categories[r]
                    .as_deref()
                    .map(split_path)
                    .filter(|p| !p.is_empty()),
            });
        }
    }
    Ok(items)
}

/// Embeds the catalog and votes: CA002 outcomes for items without a category, CA001 for items
/// whose neighbours overwhelmingly sit elsewhere.
#[derive(Clone)]
pub struct CategoryVote {
    pub embedder: Arc<dyn Embedder>,
    pub params: VoteParams,
}

impl std::fmt::Debug for CategoryVote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CategoryVote")
            .field("embedder", &self.embedder.id())
            .field("params", &self.params)
            .finish()
    }
}

/// Labelled items that may vote: all of them, or `max` drawn at an even stride (deterministic,
/// and spread over the whole file rather than its first rows).
fn reference(labelled: &[usize], max: usize) -> Vec<usize> {
    if labelled.len() <= max {
        return labelled.to_vec();
    }
    (0..max)
        .map(|i| labelled[i * labelled.len() / max])
        .collect()
}

impl Analyzer for CategoryVote {
    fn key(&self) -> String {
        format!("category-vote {} {:?}", self.embedder.id(), self.params)
    }

    fn analyze(&self, batches: &[RecordBatch]) -> ShelfResult<Analysis> {
        let items = read(batches)?;
        let labelled: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].path.is_some())
            .collect();
        let unlabelled: Vec<usize> = (0..items.len())
            .filter(|&i| items[i].path.is_none())
            .collect();
        let p = &self.params;
        let tops: std::collections::BTreeSet<&str> = labelled
            .iter()
            .filter_map(|&i| items[i].path.as_ref()?.first().map(String::as_str))
            .collect();
        if labelled.len() < p.min_labelled || tops.len() < 2 {
            return Ok(Analysis::default());
        }
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        let vectors = self.embedder.embed(&texts, TextKind::Passage)?;
        if vectors.len() != items.len() {
            return Err(ShelfError::backend(
                self.embedder.id(),
                format!(
                    "returned {} vectors for {} texts",
                    vectors.len(),
                    items.len()
                ),
            ));
        }
        let refs = reference(&labelled, p.max_reference);
        let ref_paths: Vec<Vec<String>> = refs
            .iter()
            .map(|&i| items[i].path.clone().unwrap_or_default())
            .collect();
        let pick = |rows: &[usize]| {
            let mut data = Vec::with_capacity(rows.len() * vectors.dim());
            for &i in rows {
                data.extend_from_slice(vectors.row(i));
            }
            shelf_core::lm::Embeddings::new(vectors.dim(), data)
        };
        let ref_vectors = pick(&refs)?;
        let mut outcomes = Vec::new();

        if !unlabelled.is_empty() {
            let found = nearest(&pick(&unlabelled)?, &ref_vectors, p.k, &|_, _| false);
            let suggestions: Vec<(usize, Vote)> = unlabelled
                .iter()
                .zip(&found)
                .filter_map(|(&i, n)| vote(n, &ref_paths, p.temperature).map(|v| (i, v)))
                .collect();
            outcomes.push(uncategorized_outcome(&items, &suggestions, p));
        }

        let found = nearest(&pick(&labelled)?, &ref_vectors, p.k, &|q, c| {
            refs[c] == labelled[q]
        });
        let mut mismatches: Vec<(usize, Vote, f64)> = Vec::new();
        for (&i, n) in labelled.iter().zip(&found) {
            let own = &items[i].path.as_ref().expect("labelled")[0];
            let Some(v) = vote(n, &ref_paths, p.temperature) else {
                continue;
            };
            let own_share = top_share(n, &ref_paths, own, p.temperature);
            if v.path[0] != *own && v.shares[0] >= p.min_share && own_share <= p.max_own_share {
                mismatches.push((i, v, own_share));
            }
        }
        if !mismatches.is_empty() {
            outcomes.push(mismatch_outcome(&items, &mismatches, labelled.len(), p));
        }
        Ok(Analysis {
            outcomes,
            duplicate_pairs: None,
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn example(item: &Item, extra: &[(&str, Value)]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("row_id".into(), json!(item.row_id));
    m.insert("title".into(), json!(item.title));
    for (k, v) in extra {
        m.insert((*k).into(), v.clone());
    }
    m
}

fn uncategorized_outcome(items: &[Item], suggestions: &[(usize, Vote)], p: &VoteParams) -> Outcome {
    let mut ranked: Vec<&(usize, Vote)> = suggestions.iter().collect();
    ranked.sort_by(|a, b| b.1.shares[0].total_cmp(&a.1.shares[0]).then(a.0.cmp(&b.0)));
    let listed: Vec<Value> = ranked
        .iter()
        .take(p.max_listed)
        .map(|(i, v)| {
            json!({
                "row_id": items[*i].row_id,
                "value": v.path.join(" > "),
                "score": round3(v.shares[0]),
                "level_shares": v.shares.iter().map(|s| round3(*s)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut row_ids: Vec<u64> = suggestions.iter().map(|(i, _)| items[*i].row_id).collect();
    row_ids.sort_unstable();
    let examples = ranked
        .iter()
        .take(5)
        .map(|(i, v)| example(&items[*i], &[("suggested", json!(v.path.join(" > ")))]))
        .collect();
    let confident = suggestions
        .iter()
        .filter(|(_, v)| v.shares[0] >= p.min_share)
        .count();
    let mut evidence = Map::new();
    evidence.insert("suggestions".into(), Value::Array(listed));
    evidence.insert("suggested".into(), json!(suggestions.len()));
    evidence.insert("confident".into(), json!(confident));
    evidence.insert("neighbours".into(), json!(p.k));
    Outcome {
        code: UNCATEGORIZED,
        row_ids,
        examples,
        evidence,
        message: Some(format!(
            "{{n}} {{item has|items have}} no category; the {k} most similar categorized titles \
             suggest one for each ({confident} with at least {pct:.0}% of their vote; the \
             strongest {shown} are in the evidence)",
            k = p.k,
            pct = p.min_share * 100.0,
            shown = suggestions.len().min(p.max_listed),
        )),
        ..Outcome::default()
    }
}

fn mismatch_outcome(
    items: &[Item],
    found: &[(usize, Vote, f64)],
    labelled: usize,
    p: &VoteParams,
) -> Outcome {
    let mut ranked: Vec<&(usize, Vote, f64)> = found.iter().collect();
    let margin = |x: &(usize, Vote, f64)| x.1.shares[0] - x.2;
    ranked.sort_by(|a, b| margin(b).total_cmp(&margin(a)).then(a.0.cmp(&b.0)));
    let own_path = |i: usize| {
        items[i]
            .path
            .as_ref()
            .map(|p| p.join(" > "))
            .unwrap_or_default()
    };
    let listed: Vec<Value> = ranked
        .iter()
        .take(p.max_listed)
        .map(|x| {
            json!({
                "row_id": items[x.0].row_id,
                "value": x.1.path.join(" > "),
                "score": round3(margin(x)),
                "category": own_path(x.0),
                "suggested_share": round3(x.1.shares[0]),
                "own_share": round3(x.2),
            })
        })
        .collect();
    let mut row_ids: Vec<u64> = found.iter().map(|x| items[x.0].row_id).collect();
    row_ids.sort_unstable();
    let examples = ranked
        .iter()
        .take(5)
        .map(|x| {
            example(
                &items[x.0],
                &[
                    ("category", json!(own_path(x.0))),
                    ("suggested", json!(x.1.path.join(" > "))),
                    ("margin", json!(round3(margin(x)))),
                ],
            )
        })
        .collect();
    let mut evidence = Map::new();
    evidence.insert("suggestions".into(), Value::Array(listed));
    evidence.insert("reviewed".into(), json!(labelled));
    evidence.insert("neighbours".into(), json!(p.k));
    Outcome {
        code: MISMATCH,
        row_ids,
        examples,
        evidence,
        message: Some(format!(
            "{{n}} {{item sits|items sit}} among another category's items: at least {:.0}% of the \
             {} most similar titles' vote goes to one other top-level category and at most \
             {:.0}% to the item's own (suggested category and margin in the evidence)",
            p.min_share * 100.0,
            p.k,
            p.max_own_share * 100.0
        )),
        ..Outcome::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(index: u32, score: f32) -> Neighbour {
        Neighbour { index, score }
    }

    #[test]
    fn the_vote_walks_the_path_level_by_level() {
        let paths: Vec<Vec<String>> = [
            "Food > Dairy > Milk",
            "Food > Dairy > Cheese",
            "Food > Dairy > Milk",
            "Home > Cleaning",
        ]
        .iter()
        .map(|p| split_path(p))
        .collect();
        let near = [n(3, 0.95), n(0, 0.9), n(1, 0.9), n(2, 0.5)];
        // Nearly equal weights: the crowd wins, level by level among those who agreed.
        let v = vote(&near, &paths, 1e9).unwrap();
        assert_eq!(v.path, ["Food", "Dairy", "Milk"]);
        assert!((v.shares[0] - 0.75).abs() < 1e-6, "{:?}", v.shares);
        assert!((v.shares[2] - 2.0 / 3.0).abs() < 1e-6, "{:?}", v.shares);
        // At 0.05 the nearest (0.95) outweighs two at 0.90 (e^-1 each) and one at 0.5.
        let v = vote(&near, &paths, 0.05).unwrap();
        assert_eq!(v.path, ["Home", "Cleaning"]);
        let home = 1.0 / (1.0 + 2.0 * (-1f64).exp() + (-9f64).exp());
        assert!((v.shares[0] - home).abs() < 1e-6, "{:?}", v.shares);
        assert!((top_share(&near, &paths, "Food", 0.05) - (1.0 - home)).abs() < 1e-6);
        assert!(vote(&[], &paths, 0.05).is_none());
    }

    #[test]
    fn brand_goes_in_front_unless_the_title_has_it() {
        assert_eq!(
            item_text("Taaza Tea 1kg", Some("Tata")),
            "Tata Taaza Tea 1kg"
        );
        assert_eq!(item_text("Tata Tea Gold", Some("tata")), "Tata Tea Gold");
        assert_eq!(item_text("Tea", Some(" ")), "Tea");
    }

    #[test]
    fn reference_is_spread_over_the_whole_catalog() {
        let all: Vec<usize> = (0..10).collect();
        assert_eq!(reference(&all, 20), all);
        assert_eq!(reference(&all, 5), [0, 2, 4, 6, 8]);
    }
}
