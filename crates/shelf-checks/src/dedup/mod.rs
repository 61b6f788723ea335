//! Duplicate and variant products: MinHash-LSH and model-code blocking, pair scoring,
//! clustering.
//!
//! Cost grows near-linearly with the catalog: candidates come from LSH buckets and from items
//! sharing a model code, and an oversized bucket is paired by sorted neighbourhood, so no step
//! compares all pairs. Preparation, signatures and scoring run on rayon's pool.
//!
//! Start at [`find_duplicates`]; the pieces are [`tokens`], [`minhash`], [`score`] and
//! [`cluster`].

pub mod cluster;
pub mod minhash;
pub mod score;
pub mod scripts;
pub mod simhash;
pub mod tokens;

use std::collections::HashMap;

use rayon::prelude::*;

use shelf_core::lm::Embeddings;

pub use cluster::{Cluster, VariantGroup};
pub use score::{Idf, Prepared, Product, Verdict};

/// Matching settings (`[checks.duplicate-products]` in `shelf.toml`).
#[derive(Debug, Clone)]
pub struct MatchParams {
    /// Pairs scoring at least this are the same product.
    pub threshold: f64,
    /// Jaccard similarity of shingles the LSH banding is tuned for.
    pub lsh_threshold: f64,
    pub num_perm: usize,
    /// Buckets larger than this are paired by sorted neighbourhood.
    pub max_bucket: usize,
    /// Neighbours per item in an oversized bucket.
    pub window: usize,
    /// A pair is kept only if it scores within this margin of each member's best pair, so one
    /// generic listing does not absorb every similar product.
    pub margin: f64,
    pub seed: u64,
    /// With embeddings: the cosine at which two titles' meanings start to count as the same
    /// product, and the cosine at which they count as fully the same (like a title
    /// similarity of 1), for titles in one script.
    pub semantic_floor: f64,
    pub semantic_ceiling: f64,
    /// The same for titles in two scripts, on cosines taken after removing each script's mean
    /// embedding ([`scripts`]). multilingual-e5-small puts translations at 0.35–0.81 (median
    /// 0.55) there and unrelated pairs at 0.24 (99.9th percentile); the floor sits at that
    /// percentile and the ceiling leaves a pair with no other evidence needing 0.50.
    pub cross_script_floor: f64,
    pub cross_script_ceiling: f64,
}

impl Default for MatchParams {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            lsh_threshold: 0.3,
            num_perm: 64,
            max_bucket: 100,
            window: 10,
            margin: 0.2,
            seed: 1,
            semantic_floor: 0.80,
            semantic_ceiling: 0.95,
            cross_script_floor: 0.25,
            cross_script_ceiling: 0.65,
        }
    }
}

/// How a pair became a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Shared an LSH bucket.
    Lsh,
    /// Shared a model code (and no LSH bucket).
    ModelCode,
    /// Shared a band of embedding signs (and neither of the above): a translation or a
    /// paraphrase. Titles in two scripts also become candidates this way on their centred
    /// embeddings ([`scripts`]).
    Embedding,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Lsh => "minhash-lsh",
            Method::ModelCode => "model-code",
            Method::Embedding => "embedding-lsh",
        }
    }
}

/// A scored pair of item positions (`a < b`).
#[derive(Debug, Clone)]
pub struct Pair {
    pub a: u32,
    pub b: u32,
    pub method: Method,
    pub verdict: Verdict,
}

/// Everything the matcher found.
#[derive(Debug, Default)]
pub struct Matches {
    /// Pairs judged the same product, sorted by `(a, b)`.
    pub duplicates: Vec<Pair>,
    /// Pairs judged variants of one product line, sorted by `(a, b)`.
    pub variants: Vec<Pair>,
    pub clusters: Vec<Cluster>,
    pub variant_groups: Vec<VariantGroup>,
    /// Candidate pairs scored.
    pub candidates: usize,
}

/// Finds duplicate and variant products. Deterministic for a given input and `params`.
pub fn find_duplicates(products: &[Product], params: &MatchParams) -> Matches {
    find_duplicates_with(products, params, None)
}

/// [`find_duplicates`] with one embedding per product (same order): embedding-LSH adds
/// candidates that share meaning but few characters (a title and its translation), and the
/// cosine of the two meanings counts as title evidence when it says more than the characters.
/// Titles in two scripts are compared on embeddings with each script's mean removed
/// ([`scripts`]), when the catalog has enough titles of both.
pub fn find_duplicates_with(
    products: &[Product],
    params: &MatchParams,
    embeddings: Option<&Embeddings>,
) -> Matches {
    let mut prepared: Vec<Prepared> = products.par_iter().map(Prepared::new).collect();
    forget_common_codes(&mut prepared);
    let idf = idf(&prepared);
    let across = embeddings.and_then(|e| {
        let titles: Vec<&str> = products.iter().map(|p| p.title.as_str()).collect();
        scripts::AcrossScripts::new(&titles, e)
    });
    let candidates = candidates(&prepared, params, embeddings, across.as_ref());
    let rescale = |cos: f32, floor: f64, ceiling: f64| {
        ((f64::from(cos) - floor) / (ceiling - floor).max(1e-6)).clamp(0.0, 1.0)
    };
    let meaning = |a: u32, b: u32| {
        let (a, b) = (a as usize, b as usize);
        embeddings.map(|e| match across.as_ref().and_then(|x| x.cosine(a, b)) {
            Some(cos) => score::Meaning {
                similarity: rescale(cos, params.cross_script_floor, params.cross_script_ceiling),
                across_scripts: true,
            },
            None => score::Meaning {
                similarity: rescale(
                    shelf_core::lm::dot(e.row(a), e.row(b)),
                    params.semantic_floor,
                    params.semantic_ceiling,
                ),
                across_scripts: false,
            },
        })
    };
    let scored: Vec<Pair> = candidates
        .par_iter()
        .map(|&(a, b, method)| Pair {
            a,
            b,
            method,
            verdict: score::score(
                &prepared[a as usize],
                &prepared[b as usize],
                &idf,
                meaning(a, b),
            ),
        })
        .collect();

    let mut best = vec![0.0f64; products.len()];
    for p in &scored {
        for i in [p.a, p.b] {
            best[i as usize] = best[i as usize].max(p.verdict.score);
        }
    }
    let (mut duplicates, mut variants) = (Vec::new(), Vec::new());
    for p in scored {
        let s = p.verdict.score;
        if s >= params.threshold {
            if s + params.margin >= best[p.a as usize] && s + params.margin >= best[p.b as usize] {
                duplicates.push(p);
            }
        } else if p.verdict.score_ignoring_variants >= params.threshold
            && !p.verdict.variant_differences.is_empty()
        {
            variants.push(p);
        }
    }
    let clusters = cluster::clusters(products, &duplicates);
    let variant_groups = cluster::variant_groups(&clusters, &variants, products.len());
    Matches {
        candidates: candidates.len(),
        duplicates,
        variants,
        clusters,
        variant_groups,
    }
}

/// A code carried by more items than this names a standard or a technology (`cat5e`,
/// `ddr4sdram`, `80211ac`, `iec320c14`), not one product: a product is listed a handful of
/// times at most. On Icecat such codes made 6,307 of 18,277 judged pairs "same model code".
pub const COMMON_CODE_ITEMS: usize = 10;

/// Drops codes more than [`COMMON_CODE_ITEMS`] items carry from what blocking and scoring
/// treat as model codes (they stay in the shingles, so title similarity still counts them).
pub fn forget_common_codes(prepared: &mut [Prepared]) {
    let mut df: HashMap<String, usize> = HashMap::new();
    for p in prepared.iter() {
        let mut mine: Vec<&String> = p.codes.iter().chain(&p.description_codes).collect();
        mine.sort_unstable();
        mine.dedup();
        for c in mine {
            *df.entry(c.clone()).or_default() += 1;
        }
    }
    let rare = |c: &String| df[c] <= COMMON_CODE_ITEMS;
    for p in prepared.iter_mut() {
        p.codes.retain(rare);
        p.description_codes.retain(rare);
    }
}

/// Document frequencies of every shingle.
pub fn idf(prepared: &[Prepared]) -> Idf {
    let df = prepared
        .par_chunks(4096)
        .map(|chunk| {
            let mut m: HashMap<u64, u32> = HashMap::new();
            for p in chunk {
                for h in &p.shingles {
                    *m.entry(*h).or_default() += 1;
                }
            }
            m
        })
        .reduce(HashMap::new, |mut a, b| {
            if a.len() < b.len() {
                return merge(b, a);
            }
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        });
    Idf {
        docs: prepared.len(),
        df,
    }
}

fn merge(mut a: HashMap<u64, u32>, b: HashMap<u64, u32>) -> HashMap<u64, u32> {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

/// MinHash-LSH candidate pairs of products (no model-code blocking, no scoring): the part
/// whose cost grows with the catalog, exposed for benchmarks. It computes what candidate
/// search needs (folded titles and their shingles), the same way the matcher does.
pub fn lsh_candidates(products: &[Product], params: &MatchParams) -> Vec<(u32, u32)> {
    let titled: Vec<(String, Vec<u64>)> = products
        .par_iter()
        .map(|p| {
            let title = tokens::fold(&p.title);
            let shingles = score::shingle_hashes(&title);
            (title, shingles)
        })
        .collect();
    let order = title_order(&titled, |t| &t.0);
    lsh_pairs(&titled, |t| &t.1, &order, params)
}

/// Candidate pairs of `items` from their shingle hashes; `order` as [`title_order`] gives it.
fn lsh_pairs<T: Sync>(
    items: &[T],
    shingles: impl Fn(&T) -> &[u64] + Sync,
    order: &[u32],
    params: &MatchParams,
) -> Vec<(u32, u32)> {
    let hasher = minhash::MinHasher::new(params.num_perm, params.seed);
    // Written in place: collecting per-chunk vectors built the 256 MB of a million
    // signatures once in pieces and then copied them into one vector.
    let width = params.num_perm.max(1);
    let mut signatures = vec![u32::MAX; items.len() * width];
    signatures
        .par_chunks_mut(1024 * width)
        .zip(items.par_chunks(1024))
        .for_each(|(out, chunk)| {
            let mut sig = Vec::new();
            for (item, out) in chunk.iter().zip(out.chunks_mut(width)) {
                hasher.signature(shingles(item), &mut sig);
                out[..sig.len()].copy_from_slice(&sig);
            }
        });
    let banding = minhash::Banding::for_threshold(params.lsh_threshold, params.num_perm);
    minhash::candidate_pairs(
        &signatures,
        params.num_perm,
        banding,
        params.max_bucket,
        params.window,
        order,
    )
}

/// LSH candidates plus items sharing a model code (plus, with embeddings, items sharing a band
/// of embedding signs), each pair once.
fn candidates(
    prepared: &[Prepared],
    params: &MatchParams,
    embeddings: Option<&Embeddings>,
    across: Option<&scripts::AcrossScripts>,
) -> Vec<(u32, u32, Method)> {
    let order = title_order(prepared, |p| &p.title);
    let lsh = lsh_pairs(prepared, |p| &p.shingles, &order, params);

    // Model-code blocking: one bucket per code, paired like an LSH bucket; and one per title
    // code family (`ln46a650` / `ln52a650`: the same letters, other digits), because sibling
    // models of short titles share too few shingles for LSH to pair them reliably.
    let mut by_code: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, p) in prepared.iter().enumerate() {
        for c in p.codes.iter().chain(&p.description_codes) {
            by_code.entry(c.clone()).or_default().push(i as u32);
        }
        for c in &p.codes {
            if let Some(f) = score::code_family(c) {
                by_code.entry(f).or_default().push(i as u32);
            }
        }
    }
    let code_buckets = by_code.into_values().map(|mut members| {
        members.sort_unstable();
        members.dedup();
        members
    });
    let coded = minhash::bucket_pairs(
        code_buckets,
        prepared.len(),
        params.max_bucket,
        params.window,
        &order,
    );

    let mut out: Vec<(u32, u32, Method)> = lsh.iter().map(|&(a, b)| (a, b, Method::Lsh)).collect();
    out.extend(
        coded
            .into_iter()
            .filter(|p| lsh.binary_search(p).is_err())
            .map(|(a, b)| (a, b, Method::ModelCode)),
    );
    out.sort_unstable_by_key(|&(a, b, _)| (a, b));
    if let Some(e) = embeddings {
        let mut semantic = simhash::candidate_pairs(
            e,
            params.seed,
            params.max_bucket,
            params.window,
            Some(&order),
            |_, _| true,
        );
        // Across scripts, a title's nearest meanings come from the centred embeddings, over
        // several rounds of hyperplanes: translations sit at lower cosines there.
        if let Some(x) = across {
            // Filtered before each item's cut, so a title's nearest same-script neighbours do
            // not crowd out its translation; crowded buckets pair by signature, since title
            // order puts a title and its translation far apart.
            for round in 0..scripts::ROUNDS as u64 {
                semantic.extend(simhash::candidate_pairs(
                    &x.centred,
                    params.seed.wrapping_add(round),
                    params.max_bucket,
                    params.window,
                    None,
                    |a, b| x.cosine(a as usize, b as usize).is_some(),
                ));
            }
            semantic.sort_unstable();
            semantic.dedup();
        }
        let known = |p: &(u32, u32)| out.binary_search_by_key(p, |&(a, b, _)| (a, b)).is_ok();
        let extra: Vec<(u32, u32, Method)> = semantic
            .into_iter()
            .filter(|p| !known(p))
            .map(|(a, b)| (a, b, Method::Embedding))
            .collect();
        out.extend(extra);
        out.sort_unstable_by_key(|&(a, b, _)| (a, b));
    }
    out
}

/// Each item's rank in folded-title order (ties by position), for sorted neighbourhoods.
///
/// Sorts (first 8 title bytes, position) pairs, so most comparisons are of two integers in one
/// contiguous array and only equal prefixes read the titles; the order is the same as comparing
/// whole titles (a zero-padded byte prefix orders like the string it starts). On 1 M Icecat
/// titles it takes about 0.25 s of the 7 s candidate search.
fn title_order<T: Sync>(items: &[T], title: impl Fn(&T) -> &str + Sync) -> Vec<u32> {
    let prefix = |t: &str| {
        let mut head = [0u8; 8];
        let n = t.len().min(8);
        head[..n].copy_from_slice(&t.as_bytes()[..n]);
        u64::from_be_bytes(head)
    };
    let mut keyed: Vec<(u64, u32)> = items
        .par_iter()
        .enumerate()
        .map(|(i, item)| (prefix(title(item)), i as u32))
        .collect();
    keyed.par_sort_unstable_by(|&(px, x), &(py, y)| {
        px.cmp(&py)
            .then_with(|| title(&items[x as usize]).cmp(title(&items[y as usize])))
            .then(x.cmp(&y))
    });
    let mut rank = vec![0u32; items.len()];
    for (r, &(_, i)) in keyed.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_order_is_whole_title_order_then_position() {
        // Shorter than the 8-byte prefix, equal prefixes with different tails, a title that
        // is another's prefix, multibyte characters across the prefix's end, and repeats.
        let titles = [
            "samsung galaxy s24",
            "samsung",
            "samsung galaxy s23",
            "",
            "苹果手机 256gb",
            "苹果手机 128gb",
            "samsun",
            "samsung",
            "ab\0x",
            "ab",
            "zz",
        ];
        let order = title_order(&titles, |t| t);
        let mut naive: Vec<usize> = (0..titles.len()).collect();
        naive.sort_by(|&x, &y| titles[x].cmp(titles[y]).then(x.cmp(&y)));
        let mut by_rank = vec![0; titles.len()];
        for (i, &r) in order.iter().enumerate() {
            by_rank[r as usize] = i;
        }
        assert_eq!(by_rank, naive);
    }

    #[test]
    fn a_code_many_items_carry_is_not_a_model_code() {
        let titles = (0..=COMMON_CODE_ITEMS)
            .map(|i| format!("ACT FB{} networking cable Cat5e", 3000 + i))
            .collect::<Vec<_>>();
        let mut prepared: Vec<Prepared> = titles
            .iter()
            .map(|t| {
                Prepared::new(&Product {
                    title: t.clone(),
                    ..Product::default()
                })
            })
            .collect();
        assert!(prepared[0].codes.contains(&"cat5e".to_string()));
        forget_common_codes(&mut prepared);
        assert_eq!(prepared[0].codes, vec!["fb3000"]);
    }
}
