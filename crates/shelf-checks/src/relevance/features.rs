//! What the text says about a judgment: how well the item's title answers the query.
//!
//! Terms are product matching's shingles (words for Latin script, character bigrams for
//! Chinese, model codes joined), with a light plural fold so `drills` meets `drill`. BM25's IDF
//! comes from the distinct titles of the table itself. Judges grade an item against the other
//! items of its query, so part of the features are relative: the item's BM25 rank within its
//! query and its distance from the query's mean.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::dedup::minhash::hash_shingle;
use crate::dedup::tokens::{fold, is_cjk, shingles};

/// Feature names, in vector order (shown in evidence).
pub const NAMES: [&str; 19] = [
    "bm25",
    "bm25_share",
    "term_coverage",
    "idf_coverage",
    "exact_phrase",
    "head_term",
    "bigram_jaccard",
    "bigram_containment",
    "numbers_missing",
    "bm25_rank_in_query",
    "bm25_share_vs_query",
    "coverage_vs_query",
    "no_overlap",
    "full_overlap",
    "query_terms",
    "title_terms",
    "words_after_head",
    "meaning",
    "meaning_vs_query",
];

/// The features only an embedder gives; 0 without one (a constant the model gives no weight).
pub const SEMANTIC: [usize; 2] = [at::MEANING, at::MEANING_VS_QUERY];

/// Positions in the vector, by name.
pub mod at {
    pub const BM25: usize = 0;
    pub const BM25_SHARE: usize = 1;
    pub const COVERAGE: usize = 2;
    pub const IDF_COVERAGE: usize = 3;
    pub const PHRASE: usize = 4;
    pub const HEAD: usize = 5;
    pub const BIGRAM_JACCARD: usize = 6;
    pub const BIGRAM_CONTAINMENT: usize = 7;
    pub const NUMBERS_MISSING: usize = 8;
    pub const RANK: usize = 9;
    pub const BM25_SHARE_VS_QUERY: usize = 10;
    pub const COVERAGE_VS_QUERY: usize = 11;
    pub const NO_OVERLAP: usize = 12;
    pub const FULL_OVERLAP: usize = 13;
    pub const QUERY_TERMS: usize = 14;
    pub const TITLE_TERMS: usize = 15;
    pub const WORDS_AFTER_HEAD: usize = 16;
    /// Cosine of the query's and the title's embeddings (with an embedder).
    pub const MEANING: usize = 17;
    pub const MEANING_VS_QUERY: usize = 18;
}

pub const COUNT: usize = NAMES.len();

pub type Vector = [f64; COUNT];

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A query or title reduced to what the features compare.
#[derive(Debug, Clone, Default)]
pub struct Text {
    /// Folded, words stemmed, runs of non-alphanumerics as one space.
    pub spaced: String,
    /// Term hashes, sorted, without repeats.
    pub terms: Vec<u64>,
    /// Character-bigram hashes of the text without spaces or punctuation, sorted, without
    /// repeats (so `deckover` meets `deck over`, and Chinese compares character pairs).
    pub bigrams: Vec<u64>,
    /// The last word (the head noun of most product queries) or the last Chinese bigram.
    pub head: Option<u64>,
    pub head_is_cjk: bool,
    /// Numbers written in it (`1.5`, `2`, `4`), sorted.
    pub numbers: Vec<String>,
    /// Latin-script words in order (hashed, stemmed), `None` where a clause breaks: `(`, `,`,
    /// ` - `, or a joining word (`in`, `with`, `for`…) that starts a colour, material or use.
    pub clauses: Vec<Option<u64>>,
}

/// Words that end a title's product phrase: `Showerhead in Chrome`, `Grill Cover with Vents`.
const CLAUSE_BREAKS: &[&str] = &["in", "with", "for", "and", "by", "of", "to", "or"];

fn clauses(folded: &str) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Option<u64>>| {
        if !word.is_empty() {
            out.push((!CLAUSE_BREAKS.contains(&word.as_str())).then(|| hash_shingle(&stem(word))));
            word.clear();
        }
    };
    for c in folded.chars() {
        if c.is_alphanumeric() && !is_cjk(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            if matches!(c, '(' | ',' | ';' | '|' | '[') {
                out.push(None);
            }
        }
    }
    flush(&mut word, &mut out);
    out
}

/// How many words follow the query's head term in its clause of the title, capped at 4 and
/// scaled to 0–1: 0 when the title's product phrase ends with it (`… Gas Grill in Black` for
/// `gas grill`), high for an accessory (`… Gas Grill Cover`), 1 without it. Only for Latin
/// script (0 for a Chinese head: the word order differs).
fn words_after_head(q: &Text, t: &Text) -> f64 {
    let Some(head) = q.head else { return 1.0 };
    if q.head_is_cjk {
        return 0.0;
    }
    let Some(pos) = t.clauses.iter().rposition(|w| *w == Some(head)) else {
        return 1.0;
    };
    let after = t.clauses[pos + 1..]
        .iter()
        .take_while(|w| w.is_some())
        .count();
    after.min(4) as f64 / 4.0
}

/// `drills` → `drill`, `batteries` → `battery`; leaves `glass`, short words and non-Latin
/// text alone.
pub fn stem(term: &str) -> String {
    if !term.is_ascii() || term.len() <= 3 || term.bytes().any(|b| b.is_ascii_digit()) {
        return term.to_string();
    }
    if let Some(s) = term.strip_suffix("ies") {
        return format!("{s}y");
    }
    match term.strip_suffix('s') {
        Some(s) if !s.ends_with('s') => s.to_string(),
        _ => term.to_string(),
    }
}

/// The terms of a text, stemmed, as shown to people (sorted, without repeats).
pub fn terms(s: &str) -> Vec<String> {
    let mut t: Vec<String> = shingles(&fold(s)).iter().map(|w| stem(w)).collect();
    t.sort();
    t.dedup();
    t
}

fn head(folded: &str) -> Option<String> {
    let chars: Vec<char> = folded
        .trim_end_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .collect();
    let last = *chars.last()?;
    if is_cjk(last) {
        let from = if chars.len() >= 2 && is_cjk(chars[chars.len() - 2]) {
            chars.len() - 2
        } else {
            chars.len() - 1
        };
        return Some(chars[from..].iter().collect());
    }
    let start = chars
        .iter()
        .rposition(|c| !c.is_alphanumeric() || is_cjk(*c))
        .map_or(0, |i| i + 1);
    Some(stem(&chars[start..].iter().collect::<String>()))
}

impl Text {
    pub fn new(s: &str) -> Text {
        let folded = fold(s);
        let mut terms: Vec<u64> = shingles(&folded)
            .iter()
            .map(|w| hash_shingle(&stem(w)))
            .collect();
        terms.sort_unstable();
        terms.dedup();
        let compact: Vec<char> = folded.chars().filter(|c| c.is_alphanumeric()).collect();
        let mut bigrams: Vec<u64> = compact
            .windows(2)
            .map(|w| (u64::from(w[0]) << 32) | u64::from(w[1]))
            .collect();
        if compact.len() == 1 {
            bigrams.push(u64::from(compact[0]));
        }
        bigrams.sort_unstable();
        bigrams.dedup();
        let mut numbers: Vec<String> = Vec::new();
        let mut cur = String::new();
        for c in folded.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_digit() || (c == '.' && !cur.is_empty()) {
                cur.push(c);
            } else if !cur.is_empty() {
                let n = cur.trim_end_matches('.');
                // `1.50` and `1.5` are the same number; `05` and `5` too.
                let n = n.parse::<f64>().map_or(n.to_string(), |v| v.to_string());
                numbers.push(n);
                cur.clear();
            }
        }
        numbers.sort();
        numbers.dedup();
        let spaced = folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(stem)
            .collect::<Vec<_>>()
            .join(" ");
        let head = head(&folded);
        Text {
            head_is_cjk: head.as_ref().is_some_and(|h| h.chars().any(is_cjk)),
            head: head.map(|h| hash_shingle(&h)),
            clauses: clauses(&folded),
            spaced,
            terms,
            bigrams,
            numbers,
        }
    }
}

fn intersection(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Document frequencies over distinct titles.
#[derive(Debug)]
pub struct Corpus {
    docs: f64,
    df: HashMap<u64, u32>,
    avg_terms: f64,
}

impl Corpus {
    pub fn new(titles: &[Text]) -> Corpus {
        let mut df: HashMap<u64, u32> = HashMap::new();
        let mut total = 0usize;
        for t in titles {
            total += t.terms.len();
            for h in &t.terms {
                *df.entry(*h).or_default() += 1;
            }
        }
        Corpus {
            docs: titles.len() as f64,
            df,
            avg_terms: total as f64 / titles.len().max(1) as f64,
        }
    }

    /// BM25's IDF (the non-negative form): rare terms weigh most; a term in no title weighs as
    /// much as the rarest.
    pub fn idf(&self, term: u64) -> f64 {
        let df = f64::from(self.df.get(&term).copied().unwrap_or(0));
        (1.0 + (self.docs - df + 0.5) / (df + 0.5)).ln()
    }
}

/// The features of one judgment before per-query normalisation, and the facts its evidence
/// states.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    pub query_terms: u32,
    pub matched_terms: u32,
    pub phrase: bool,
    pub bm25: f64,
    /// 1-based rank of the item's BM25 among the judged items of its query.
    pub rank: u32,
    pub judged_in_query: u32,
}

fn pair(q: &Text, t: &Text, corpus: &Corpus) -> (Vector, Facts) {
    let mut x = [0.0; COUNT];
    let matched = intersection(&q.terms, &t.terms);
    let norm = K1 * (1.0 - B + B * t.terms.len() as f64 / corpus.avg_terms.max(1.0));
    let (mut bm25, mut best, mut idf_all, mut idf_hit) = (0.0, 0.0, 0.0, 0.0);
    for h in &q.terms {
        let idf = corpus.idf(*h);
        idf_all += idf;
        // Title terms are a set, so tf is 0 or 1.
        best += idf * (K1 + 1.0) / (1.0 + K1);
        if t.terms.binary_search(h).is_ok() {
            idf_hit += idf;
            bm25 += idf * (K1 + 1.0) / (1.0 + norm);
        }
    }
    let nq = q.terms.len().max(1) as f64;
    let coverage = matched as f64 / nq;
    // Chinese has no word boundaries to respect: a substring is the phrase.
    let phrase = !q.spaced.is_empty()
        && if q.spaced.chars().any(is_cjk) {
            t.spaced
                .replace(' ', "")
                .contains(&q.spaced.replace(' ', ""))
        } else {
            format!(" {} ", t.spaced).contains(&format!(" {} ", q.spaced))
        };
    let common_bigrams = intersection(&q.bigrams, &t.bigrams) as f64;
    let union = (q.bigrams.len() + t.bigrams.len()) as f64 - common_bigrams;
    let numbers_found = q
        .numbers
        .iter()
        .filter(|n| t.numbers.binary_search(n).is_ok())
        .count();
    x[at::BM25] = bm25.ln_1p();
    x[at::BM25_SHARE] = bm25 / best.max(1e-9);
    x[at::COVERAGE] = coverage;
    x[at::IDF_COVERAGE] = idf_hit / idf_all.max(1e-9);
    x[at::PHRASE] = f64::from(u8::from(phrase));
    x[at::HEAD] = f64::from(u8::from(
        q.head.is_some_and(|h| t.terms.binary_search(&h).is_ok()),
    ));
    x[at::BIGRAM_JACCARD] = common_bigrams / union.max(1.0);
    x[at::BIGRAM_CONTAINMENT] = common_bigrams / (q.bigrams.len().max(1) as f64);
    x[at::NUMBERS_MISSING] = if q.numbers.is_empty() {
        0.0
    } else {
        1.0 - numbers_found as f64 / q.numbers.len() as f64
    };
    // The rank and the distances from the query's mean are filled in per query.
    x[at::NO_OVERLAP] = f64::from(u8::from(matched == 0));
    x[at::FULL_OVERLAP] = f64::from(u8::from(matched == q.terms.len() && matched > 0));
    x[at::QUERY_TERMS] = (q.terms.len() as f64).ln_1p();
    x[at::TITLE_TERMS] = (t.terms.len() as f64).ln_1p();
    x[at::WORDS_AFTER_HEAD] = words_after_head(q, t);
    let facts = Facts {
        query_terms: q.terms.len() as u32,
        matched_terms: matched as u32,
        phrase,
        bm25,
        rank: 1,
        judged_in_query: 1,
    };
    (x, facts)
}

/// One judgment as the features see it: the index of its query group, its query and title,
/// and (with an embedder) the cosine of their embeddings.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'a> {
    pub group: u32,
    pub query: &'a str,
    pub title: &'a str,
    pub meaning: Option<f64>,
}

/// Features of every judgment, in input order; distinct queries and titles are prepared once
/// (Home Depot judges each title under about 3 queries), in parallel.
pub fn features(pairs: &[Pair<'_>]) -> (Vec<Vector>, Vec<Facts>) {
    let (queries, query_of) = distinct(pairs.iter().map(|p| p.query));
    let (titles, title_of) = distinct(pairs.iter().map(|p| p.title));
    let corpus = Corpus::new(&titles);
    let (mut xs, mut facts): (Vec<Vector>, Vec<Facts>) = (0..pairs.len())
        .into_par_iter()
        .map(|i| {
            pair(
                &queries[query_of[i] as usize],
                &titles[title_of[i] as usize],
                &corpus,
            )
        })
        .unzip();
    for (x, p) in xs.iter_mut().zip(pairs) {
        x[at::MEANING] = p.meaning.unwrap_or(0.0);
    }
    per_query(pairs, &mut xs, &mut facts);
    (xs, facts)
}

/// Each distinct text prepared once (in parallel), and which one every input is.
fn distinct<'a>(texts: impl Iterator<Item = &'a str>) -> (Vec<Text>, Vec<u32>) {
    let mut index: HashMap<&str, u32> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let ids = texts
        .map(|s| {
            *index.entry(s).or_insert_with(|| {
                order.push(s);
                order.len() as u32 - 1
            })
        })
        .collect();
    (order.par_iter().map(|s| Text::new(s)).collect(), ids)
}

/// Rank and distance from the query's mean: labels are relative to the other items judged for
/// the same query.
fn per_query(pairs: &[Pair<'_>], xs: &mut [Vector], facts: &mut [Facts]) {
    let mut groups: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in pairs.iter().enumerate() {
        groups.entry(p.group).or_default().push(i);
    }
    for rows in groups.values_mut() {
        let n = rows.len() as f64;
        let mean = |f: usize| rows.iter().map(|&i| xs[i][f]).sum::<f64>() / n;
        let (share_mean, coverage_mean) = (mean(at::BM25_SHARE), mean(at::COVERAGE));
        let meaning_mean = mean(at::MEANING);
        rows.sort_by(|&a, &b| facts[b].bm25.total_cmp(&facts[a].bm25).then(a.cmp(&b)));
        let mut first = 0;
        for (pos, &i) in rows.iter().enumerate() {
            // Ties share the best rank of their score.
            if facts[i].bm25 != facts[rows[first]].bm25 {
                first = pos;
            }
            facts[i].rank = first as u32 + 1;
            facts[i].judged_in_query = rows.len() as u32;
            xs[i][at::RANK] = if rows.len() == 1 {
                0.5
            } else {
                1.0 - first as f64 / (n - 1.0)
            };
            xs[i][at::BM25_SHARE_VS_QUERY] = xs[i][at::BM25_SHARE] - share_mean;
            xs[i][at::COVERAGE_VS_QUERY] = xs[i][at::COVERAGE] - coverage_mean;
            xs[i][at::MEANING_VS_QUERY] = xs[i][at::MEANING] - meaning_mean;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(query: &str, titles: &[&str]) -> (Vec<Vector>, Vec<Facts>) {
        let pairs: Vec<Pair<'_>> = titles
            .iter()
            .map(|t| Pair {
                group: 0,
                query,
                title: t,
                meaning: None,
            })
            .collect();
        features(&pairs)
    }

    #[test]
    fn plural_phrase_and_head_term_match() {
        let (x, f) = one(
            "cordless drills",
            &["DeWalt 20V Cordless Drill Kit", "Garden Hose 50 ft."],
        );
        assert_eq!((f[0].matched_terms, f[0].query_terms), (2, 2));
        assert_eq!(x[0][4], 1.0, "`cordless drill` is a phrase of the title");
        assert_eq!(x[0][5], 1.0, "head term `drill` is in the title");
        assert_eq!((x[1][2], x[1][12]), (0.0, 1.0), "no overlap");
        assert_eq!((f[0].rank, f[1].rank), (1, 2));
        assert_eq!((x[0][9], x[1][9]), (1.0, 0.0));
        assert_eq!(x[0][at::WORDS_AFTER_HEAD], 0.25, "`kit` follows `drill`");
    }

    #[test]
    fn an_accessory_has_words_after_the_head_term() {
        let (x, _) = one(
            "gas grill",
            &[
                "Weber 2-Burner Gas Grill in Black with Side Tables",
                "Premium 2-Burner Gas Grill Cover",
                "Grill Brush (Gas or Charcoal)",
            ],
        );
        let after: Vec<f64> = x.iter().map(|x| x[at::WORDS_AFTER_HEAD]).collect();
        assert_eq!(after, vec![0.0, 0.25, 0.25]);
    }

    #[test]
    fn chinese_compares_bigrams() {
        let (x, f) = one("蓝牙耳机", &["索尼 无线蓝牙耳机 黑色", "不锈钢保温杯"]);
        assert_eq!(f[0].matched_terms, f[0].query_terms);
        assert_eq!(x[0][4], 1.0, "a substring is a phrase in Chinese");
        assert_eq!(x[0][5], 1.0, "head bigram 耳机");
        assert_eq!(x[1][7], 0.0);
        assert!(x[0][7] > 0.99);
    }

    #[test]
    fn numbers_must_appear_in_the_title() {
        let (x, _) = one(
            "2x4 lumber 8 ft",
            &["2 in. x 4 in. x 8 ft. Stud", "2 in. x 6 in. x 10 ft. Board"],
        );
        assert_eq!(x[0][8], 0.0);
        assert!((x[1][8] - 2.0 / 3.0).abs() < 1e-9, "4 and 8 are missing");
    }

    #[test]
    fn stem_folds_plurals_only() {
        assert_eq!(stem("drills"), "drill");
        assert_eq!(stem("batteries"), "battery");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("gas"), "gas");
        assert_eq!(stem("2x4s"), "2x4s");
    }
}
