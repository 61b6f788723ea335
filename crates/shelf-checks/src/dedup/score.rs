//! Scoring one candidate pair: the signals that decide it in practice, combined in a fixed
//! logistic score, with every signal that moved the score written out as a reason.
//!
//! The weights are set by hand, not trained: a model number shared by both titles is close to
//! proof, a conflicting one (or a different brand) close to disproof, TF-IDF similarity of
//! the shingles carries the rest, and a price far apart weighs against. A pair that would
//! score as a duplicate but differs in one variant dimension — capacity, size, colour, or a
//! model code from the same family — is a **variant**, not a duplicate.

use std::collections::HashMap;

use super::tokens::{self, fold};

/// One catalog item, as the matcher sees it.
#[derive(Debug, Clone, Default)]
pub struct Product {
    pub title: String,
    pub brand: Option<String>,
    pub price: Option<f64>,
    pub description: Option<String>,
}

/// A product reduced to what scoring compares.
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// Sorted shingle hashes.
    pub shingles: Vec<u64>,
    /// The shingles without digits (no codes, sizes or capacities): what variants share.
    pub base_shingles: Vec<u64>,
    pub title: String,
    /// The title's shingles as text (words; character pairs for Chinese), sorted.
    pub words: Vec<String>,
    pub codes: Vec<String>,
    /// Codes found in the description only.
    pub description_codes: Vec<String>,
    pub specs: Vec<String>,
    pub colours: Vec<String>,
    pub editions: Vec<String>,
    /// The word that makes the title an accessory for another product, if one does.
    pub accessory: Option<&'static str>,
    /// Brand reduced to letters and digits.
    pub brand: Option<String>,
    pub price: Option<f64>,
}

/// How much of a description is searched for model codes.
const DESCRIPTION_CHARS: usize = 2000;

impl Prepared {
    pub fn new(p: &Product) -> Self {
        let title = fold(&p.title);
        let brand = p
            .brand
            .as_deref()
            .map(|b| {
                fold(b)
                    .chars()
                    .filter(|c| c.is_alphanumeric())
                    .collect::<String>()
            })
            .filter(|b| !b.is_empty());
        let all = tokens::shingles(&title);
        let hashes = |keep: &dyn Fn(&str) -> bool| {
            let mut h: Vec<u64> = all
                .iter()
                .filter(|s| keep(s))
                .map(|s| super::minhash::hash_shingle(s))
                .collect();
            h.sort_unstable();
            h.dedup();
            h
        };
        let shingles = shingle_hashes(&title);
        let mut words: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        words.sort_unstable();
        words.dedup();
        let base_shingles = hashes(&|s| !s.chars().any(|c| c.is_ascii_digit()));
        let codes = tokens::model_codes(&title);
        let description_codes = p
            .description
            .as_deref()
            .map(|d| {
                let d: String = d.chars().take(DESCRIPTION_CHARS).collect();
                tokens::model_codes(&fold(&d))
                    .into_iter()
                    .filter(|c| !codes.contains(c))
                    .collect()
            })
            .unwrap_or_default();
        let accessory = tokens::accessory_marker(&title, &codes);
        Self {
            accessory,
            shingles,
            base_shingles,
            codes,
            description_codes,
            specs: tokens::specs(&title),
            colours: tokens::colours(&title),
            editions: tokens::editions(&title),
            brand,
            price: p.price.filter(|x| x.is_finite() && *x > 0.0),
            title,
            words,
        }
    }
}

/// A folded title's shingles, hashed, sorted, without repeats: what MinHash and TF-IDF see.
pub fn shingle_hashes(folded: &str) -> Vec<u64> {
    let mut h: Vec<u64> = tokens::shingles(folded)
        .iter()
        .map(|s| super::minhash::hash_shingle(s))
        .collect();
    h.sort_unstable();
    h.dedup();
    h
}

/// Inverse document frequency of shingles over the whole catalog.
#[derive(Debug, Default)]
pub struct Idf {
    pub docs: usize,
    pub df: HashMap<u64, u32>,
}

impl Idf {
    pub fn weight(&self, shingle: u64) -> f64 {
        let df = self.df.get(&shingle).copied().unwrap_or(0) as f64;
        ((1.0 + self.docs as f64) / (1.0 + df)).ln() + 1.0
    }

    /// Cosine of the binary TF-IDF vectors of two sorted shingle sets.
    pub fn cosine(&self, a: &[u64], b: &[u64]) -> f64 {
        let norm = |s: &[u64]| {
            s.iter()
                .map(|h| self.weight(*h).powi(2))
                .sum::<f64>()
                .sqrt()
        };
        let (na, nb) = (norm(a), norm(b));
        if na == 0.0 || nb == 0.0 {
            return 0.0;
        }
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += self.weight(a[i]).powi(2);
                    i += 1;
                    j += 1;
                }
            }
        }
        dot / (na * nb)
    }
}

/// What scoring decided about a pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Probability-like score in [0, 1] that the two are the same product.
    pub score: f64,
    /// The score as variants — title similarity without the tokens that carry digits, brand
    /// and price — or 0 when no variant dimension differs. Above the threshold while `score`
    /// is below: a variant pair.
    pub score_ignoring_variants: f64,
    /// The variant dimensions that differ (`capacity 128gb ≠ 256gb`).
    pub variant_differences: Vec<String>,
    pub reasons: Vec<String>,
}

/// With nothing but the title to go on, a pair needs a TF-IDF cosine of 0.625 (0.56 with the
/// same brand) to reach a score of 0.5. (-6 raised precision on Abt-Buy from 0.95 to 0.97 but
/// lowered F1 from 0.84 to 0.81, and Amazon-Google's from 0.54 to 0.47.)
const INTERCEPT: f64 = -5.0;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// How alike two titles' meanings are, from their embeddings.
#[derive(Debug, Clone, Copy)]
pub struct Meaning {
    /// On the same 0–1 scale as the title similarity (see `MatchParams::semantic_floor`).
    pub similarity: f64,
    /// The titles are in two scripts, compared on centred embeddings ([`super::scripts`]).
    pub across_scripts: bool,
}

/// Scores a candidate pair. `meaning` comes with an embedder; the stronger of it and the title
/// similarity counts, so a translation (few shared characters, the same meaning) can match
/// while two titles that share words but not meaning are judged as before.
pub fn score(a: &Prepared, b: &Prepared, idf: &Idf, meaning: Option<Meaning>) -> Verdict {
    let mut reasons = Vec::new();
    let chars = idf.cosine(&a.shingles, &b.shingles);
    reasons.push(format!("title similarity {chars:.2}"));
    let cos = match meaning {
        Some(m) if m.similarity > chars => {
            let across = if m.across_scripts {
                " across scripts"
            } else {
                ""
            };
            reasons.push(format!("meaning similarity{across} {:.2}", m.similarity));
            m.similarity
        }
        _ => chars,
    };
    let mut z = INTERCEPT + 8.0 * cos;

    // Brand and price weigh the same for duplicates and variants.
    let mut shared = 0.0;
    match brand_agreement(a, b) {
        Some(true) => {
            shared += 0.5;
            reasons.push("same brand".into());
        }
        Some(false) => {
            shared -= 4.0;
            reasons.push(format!(
                "different brands {} ≠ {}",
                a.brand.as_deref().unwrap_or(""),
                b.brand.as_deref().unwrap_or("")
            ));
        }
        None => {}
    }
    if let (Some(pa), Some(pb)) = (a.price, b.price) {
        let ratio = pa.max(pb) / pa.min(pb);
        if ratio > 2.0 {
            shared -= if ratio > 4.0 { 2.0 } else { 1.0 };
            reasons.push(format!("prices {pa} and {pb} are {ratio:.1}× apart"));
        }
    }
    z += shared;

    let codes = code_agreement(a, b);
    match &codes {
        Codes::Same(c) => {
            z += 4.0;
            reasons.push(format!("same model code {c}"));
        }
        Codes::InDescription(c) => {
            z += 2.5;
            reasons.push(format!(
                "model code {c} in one title and the other's description"
            ));
        }
        Codes::Suffixed(x, y) => {
            z += 2.5;
            reasons.push(format!("model codes {x} and {y} differ only by a suffix"));
        }
        Codes::Conflict(x, y) => {
            z -= 3.0;
            reasons.push(format!("different model codes {x} ≠ {y}"));
        }
        Codes::Unknown => {}
    }
    if let Some(marker) = accessory_for(a, b, &codes) {
        // A belt "for PS-LX350H" names the turntable's code without being the turntable.
        z -= 6.0;
        reasons.push(format!(
            "one title is an accessory for the other (\"{marker}\") and costs less than half"
        ));
    }

    let mut variant_differences = Vec::new();
    for (dim, x, y) in spec_conflicts(&a.specs, &b.specs) {
        variant_differences.push(format!("{dim} {x} ≠ {y}"));
    }
    let only = |x: &[String], y: &[String]| {
        x.iter()
            .filter(|e| !y.contains(e))
            .cloned()
            .collect::<Vec<_>>()
    };
    // Each names a colour the other lacks: a colour word both share (`100% copper wire - red`
    // / `- purple`) is a material or a trim, and does not make red and purple the same.
    let (ca, cb) = (only(&a.colours, &b.colours), only(&b.colours, &a.colours));
    if !ca.is_empty() && !cb.is_empty() {
        variant_differences.push(differ("colour", ca.join("/"), cb.join("/")));
    }
    let (ea, eb) = (
        only(&a.editions, &b.editions),
        only(&b.editions, &a.editions),
    );
    // Only when both name an edition and they differ: a title that names none is too often
    // the same product written briefly.
    if !ea.is_empty() && !eb.is_empty() {
        variant_differences.push(differ("edition", ea.join("/"), eb.join("/")));
    }
    // Last: a size or colour already explains the swapped words.
    if variant_differences.is_empty()
        && let Codes::Unknown = codes
        && let Some((x, y)) = variety(a, b)
    {
        variant_differences.push(differ("variety", x, y));
    }
    if !variant_differences.is_empty() {
        // Decisive: colour variants often share the base model code (DSC-W150 / DSC-W150R).
        z -= 6.0;
        reasons.extend(variant_differences.iter().map(|d| format!("different {d}")));
    }
    // Model codes that differ beyond their digits (`wh1000xm5` / `whch720n`) name different
    // product lines: a colour or size difference between them does not make variants. It
    // weighs like a different brand, so that the same words around unrelated codes
    // (`Lenovo LX03-438GJ Notebook 256GB` / `Lenovo AU83-344LQ Notebook 1TB`) stay apart.
    let mut unrelated_codes = 0.0;
    if let Codes::Conflict(..) = codes {
        if family_conflict(a, b) {
            variant_differences.push(differ("model", a.codes.join("/"), b.codes.join("/")));
        } else {
            unrelated_codes = -4.0;
        }
    }
    // A variant shares everything but the differing values: compare the titles without the
    // tokens that carry digits (codes, sizes, capacities).
    let base = idf
        .cosine(&a.base_shingles, &b.base_shingles)
        .max(meaning.map_or(0.0, |m| m.similarity));
    let z_variant = INTERCEPT + 8.0 * base + shared + unrelated_codes;
    Verdict {
        score: sigmoid(z),
        score_ignoring_variants: if variant_differences.is_empty() {
            0.0
        } else {
            sigmoid(z_variant)
        },
        variant_differences,
        reasons,
    }
}

/// The words each title has in place of the other's, when two titles without model codes
/// differ by swapping one or two words and agree on at least two: `Spread - Raspberry, Diet`
/// / `Spread - Strawberry, Diet`, `Ice Cream - Vanilla Lite` / `- Chocolate Lite`. A listing
/// of the same product adds or drops words, abbreviates them (`pro` / `professional`, `std` /
/// `standard`), misspells or joins them (`heros`, `copydvds`); a flavour, scent or breed of one
/// product line swaps them for unrelated words. Only letters count (numbers are sizes,
/// compared as specs), stop words and the brand do not, and only spaced words, so unspaced
/// Chinese (compared as character pairs) is left to the other signals.
fn variety(a: &Prepared, b: &Prepared) -> Option<(String, String)> {
    let brands = [a.brand.as_deref(), b.brand.as_deref()];
    fn own<'p>(x: &'p Prepared, y: &Prepared, brands: [Option<&str>; 2]) -> Vec<&'p str> {
        x.words
            .iter()
            .filter(|w| y.words.binary_search(w).is_err())
            .map(String::as_str)
            .filter(|w| !STOP.contains(w) && !brands.contains(&Some(*w)))
            .collect()
    }
    let (x, y) = (own(a, b, brands), own(b, a, brands));
    let swap = |v: &[&str]| {
        (1..=2).contains(&v.len())
            && v.iter()
                .all(|w| w.is_ascii() && w.chars().all(char::is_alphabetic))
    };
    let shared = a.words.len()
        - a.words
            .iter()
            .filter(|w| b.words.binary_search(w).is_err())
            .count();
    if !(swap(&x) && swap(&y) && shared >= 2) || x.concat() == y.concat() {
        return None;
    }
    let unrelated = x.iter().all(|u| y.iter().all(|v| !written_alike(u, v)));
    unrelated.then(|| (x.join(" "), y.join(" ")))
}

/// Words that say nothing about which product it is.
const STOP: &[&str] = &[
    "a", "an", "and", "by", "for", "in", "of", "on", "the", "with",
];

/// Whether two words are one word written two ways: a prefix (`pro`, `professional`), an
/// abbreviation keeping the first letter and some later ones in order (`std`, `standard`), or
/// a slip of one letter in words of four to six letters (`heros`, `heroes`) or of two in longer
/// ones (`accesories`, `accessory`). Two slips in a short word make another word: `king` /
/// `long`, `sliced` / `diced` (sizes and cuts on BigBasket that were read as misspellings).
fn written_alike(u: &str, v: &str) -> bool {
    let (short, long) = if u.len() <= v.len() { (u, v) } else { (v, u) };
    if long.starts_with(short) {
        return true;
    }
    let mut rest = long.chars();
    let abbreviation =
        short.chars().next() == long.chars().next() && short.chars().all(|c| rest.any(|l| l == c));
    let slips = match short.len() {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    };
    abbreviation || (slips > 0 && edit_distance(short, long) <= slips)
}

/// Levenshtein distance over bytes (the words here are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// `"colour black ≠ white"`, the two values in sorted order so that a pair reads the same
/// whichever item comes first (a variant group lists each difference once).
fn differ(dimension: &str, x: String, y: String) -> String {
    let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
    format!("{dimension} {lo} ≠ {hi}")
}

/// The accessory marker when one title reads as an accessory for the other's model: they
/// share a code, exactly one has a marker, and that one costs less than half the other
/// (without prices, only a marker word such as "replacement" counts, not a bare "for", which
/// titles of the product itself use: "TuneBase FM for iPod").
fn accessory_for(a: &Prepared, b: &Prepared, codes: &Codes) -> Option<&'static str> {
    if matches!(codes, Codes::Conflict(..) | Codes::Unknown) {
        return None;
    }
    let (acc, other) = match (a.accessory, b.accessory) {
        (Some(_), None) => (a, b),
        (None, Some(_)) => (b, a),
        _ => return None,
    };
    let marker = acc.accessory?;
    match (acc.price, other.price) {
        (Some(pa), Some(po)) => (pa * 2.0 < po).then_some(marker),
        _ => (marker != "for").then_some(marker),
    }
}

enum Codes {
    Same(String),
    InDescription(String),
    Suffixed(String, String),
    Conflict(String, String),
    Unknown,
}

/// At most this many characters after a shared stem still name the same model (`jfs516` /
/// `jfs516na`: region or colour suffixes).
const SUFFIX: usize = 3;

fn code_agreement(a: &Prepared, b: &Prepared) -> Codes {
    if let Some(c) = a.codes.iter().find(|c| b.codes.contains(c)) {
        return Codes::Same(c.clone());
    }
    for x in &a.codes {
        for y in &b.codes {
            let (short, long) = if x.len() <= y.len() { (x, y) } else { (y, x) };
            if short.len() >= 5
                && long.starts_with(short.as_str())
                && long.len() - short.len() <= SUFFIX
            {
                return Codes::Suffixed(x.clone(), y.clone());
            }
        }
    }
    if let Some(c) = a
        .codes
        .iter()
        .find(|c| b.description_codes.contains(c))
        .or_else(|| b.codes.iter().find(|c| a.description_codes.contains(c)))
    {
        return Codes::InDescription(c.clone());
    }
    match (a.codes.first(), b.codes.first()) {
        (Some(x), Some(y)) => Codes::Conflict(x.clone(), y.clone()),
        _ => Codes::Unknown,
    }
}

/// A code's family — its digits zeroed, prefixed so it never equals a code (`ln46a650` →
/// `~ln00a000`) — or `None` for a code without letters, whose digits are all it has.
pub(crate) fn code_family(code: &str) -> Option<String> {
    code.bytes().any(|c| c.is_ascii_alphabetic()).then(|| {
        std::iter::once('~')
            .chain(
                code.chars()
                    .map(|ch| if ch.is_ascii_digit() { '0' } else { ch }),
            )
            .collect()
    })
}

/// Both titles carry codes of one family — the same letters in the same places, other digits
/// (`ln46a650` / `ln52a650`) — and none in common: sibling models, the usual variant pattern.
fn family_conflict(a: &Prepared, b: &Prepared) -> bool {
    if a.codes.iter().any(|c| b.codes.contains(c)) {
        return false;
    }
    a.codes.iter().any(|x| {
        b.codes
            .iter()
            .any(|y| code_family(x).is_some_and(|f| Some(f) == code_family(y)))
    })
}

/// `Some(true)` same brand, `Some(false)` different, `None` unknown. A missing brand is read
/// from the other's brand appearing as a title word.
fn brand_agreement(a: &Prepared, b: &Prepared) -> Option<bool> {
    let in_title = |brand: &str, title: &str| {
        title
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == brand)
            || (!brand.is_ascii() && title.contains(brand))
    };
    match (&a.brand, &b.brand) {
        (Some(x), Some(y)) => Some(
            x == y
                || x.starts_with(y.as_str())
                || y.starts_with(x.as_str())
                || in_title(x, &b.title)
                || in_title(y, &a.title),
        ),
        (Some(x), None) if in_title(x, &b.title) => Some(true),
        (None, Some(y)) if in_title(y, &a.title) => Some(true),
        _ => None,
    }
}

/// Dimensions in which both titles give a value and no value agrees: `("capacity", "512gb",
/// "1tb")`. Values are compared in one base unit per dimension (1tb = 1000gb, 1.5l = 1500ml,
/// 46in = 1168mm), with 2.5 % slack so 1tb and 1024gb agree; the two values are written in
/// ascending order so a pair reads the same whichever side comes first.
fn spec_conflicts(a: &[String], b: &[String]) -> Vec<(&'static str, String, String)> {
    let measured = |specs: &[String]| -> Vec<(&'static str, f64, String)> {
        specs
            .iter()
            .filter_map(|s| measure(s).map(|(dim, v)| (dim, v, s.clone())))
            .collect()
    };
    let (ma, mb) = (measured(a), measured(b));
    let same = |x: f64, y: f64| (x - y).abs() <= 0.025 * x.abs().max(y.abs());
    let mut out: Vec<(&'static str, String, String)> = Vec::new();
    for (dim, x, xs) in &ma {
        if out.iter().any(|o| o.0 == *dim) {
            continue;
        }
        let others: Vec<&(&str, f64, String)> = mb.iter().filter(|o| o.0 == *dim).collect();
        let agree = ma
            .iter()
            .filter(|m| m.0 == *dim)
            .any(|m| others.iter().any(|o| same(m.1, o.1)));
        if let Some((_, y, ys)) = others.first().copied()
            && !agree
        {
            let (lo, hi) = if x <= y { (xs, ys) } else { (ys, xs) };
            out.push((dim, lo.clone(), hi.clone()));
        }
    }
    out
}

/// A specification's dimension and its value in that dimension's base unit (`"1.5l"` →
/// `("volume", 1500.0)`); `None` for a unit shelf cannot place.
fn measure(spec: &str) -> Option<(&'static str, f64)> {
    let digits = spec
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(spec.len());
    let value: f64 = spec[..digits].parse().ok()?;
    let (dim, factor) = match &spec[digits..] {
        "kb" => ("capacity", 1e-6),
        "mb" => ("capacity", 1e-3),
        "gb" => ("capacity", 1.0),
        "tb" => ("capacity", 1e3),
        "mah" | "毫安" | "毫安时" => ("battery", 1.0),
        "ah" => ("battery", 1e3),
        "mm" | "毫米" => ("size", 1.0),
        "cm" | "厘米" => ("size", 10.0),
        "m" | "米" => ("size", 1e3),
        "km" => ("size", 1e6),
        "in" | "inch" | "\"" | "寸" | "英寸" => ("size", 25.4),
        "ft" | "'" => ("size", 304.8),
        "yd" => ("size", 914.4),
        "ml" | "毫升" | "cc" => ("volume", 1.0),
        "l" | "升" => ("volume", 1e3),
        "oz" => ("volume", 29.57),
        "mg" => ("weight", 1e-3),
        "g" | "gm" | "gms" | "克" => ("weight", 1.0),
        "kg" | "千克" | "公斤" => ("weight", 1e3),
        "lb" | "lbs" => ("weight", 453.6),
        "w" | "瓦" => ("power", 1.0),
        "kw" | "千瓦" => ("power", 1e3),
        "v" | "伏" => ("voltage", 1.0),
        "hz" => ("frequency", 1e-6),
        "khz" => ("frequency", 1e-3),
        "mhz" => ("frequency", 1.0),
        "ghz" => ("frequency", 1e3),
        "mbps" => ("bandwidth", 1.0),
        "gbps" => ("bandwidth", 1e3),
        "pc" | "pcs" | "pack" | "pk" | "piece" | "pieces" | "ct" | "count" | "片" | "个" | "件"
        | "只" | "支" | "瓶" | "包" => ("pack", 1.0),
        "p" | "k" => ("video resolution", 1.0),
        "dpi" => ("dpi", 1.0),
        "rpm" => ("rpm", 1.0),
        "mp" => ("megapixels", 1.0),
        "sheets" => ("sheets", 1.0),
        "port" | "ports" => ("ports", 1.0),
        "fps" => ("frame rate", 1.0),
        "ms" => ("response time", 1.0),
        "db" => ("loudness", 1.0),
        "bit" => ("bits", 1.0),
        _ => return None,
    };
    Some((dim, value * factor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_swapped_word_is_a_variety_a_rewritten_one_is_not() {
        let v =
            |a: &str, b: &str| variety(&prep(a, Some("Acme"), None), &prep(b, Some("Acme"), None));
        assert_eq!(
            v("Spread - Raspberry, Diet", "Spread - Strawberry, Diet"),
            Some(("raspberry".into(), "strawberry".into()))
        );
        assert_eq!(
            v("Dark Chocolate Bar", "White Chocolate Bar").map(|p| p.0),
            Some("dark".into())
        );
        // Abbreviated, misspelt, joined, or a brand and a stop word dropped: one product.
        assert_eq!(
            v("Office 2004 Standard Upgrade", "Office 2004 Std Upgrade"),
            None
        );
        assert_eq!(
            v(
                "Printshop 20 Professional Publisher",
                "Printshop 20 Pro Publisher"
            ),
            None
        );
        assert_eq!(
            v("Matchbox Cross Town Heroes", "Matchbox Cross Town Heros"),
            None
        );
        assert_eq!(v("I Copy DVDs 2 Gold", "I CopyDVDs 2 Gold"), None);
        assert_eq!(v("Acme Museums of the World", "Museums of World CD"), None);
        // Only added words: a listing of the same product written longer.
        assert_eq!(v("Banana Chips", "Banana Chips Pepper"), None);
        // Two letters apart in a short word is another word, not a slip.
        assert_eq!(
            v(
                "Notebook - Soft Bound, Single Line Ruled, King Size",
                "Notebook - Soft Bound, Single Line Ruled, Long Size"
            ),
            Some(("king".into(), "long".into()))
        );
        assert_eq!(
            v("Ridge Gourd - Sliced", "Ridge Gourd - Diced").map(|p| p.0),
            Some("sliced".into())
        );
    }

    fn prep(title: &str, brand: Option<&str>, price: Option<f64>) -> Prepared {
        Prepared::new(&Product {
            title: title.into(),
            brand: brand.map(Into::into),
            price,
            description: None,
        })
    }

    fn idf(items: &[&Prepared]) -> Idf {
        let mut idf = Idf {
            docs: items.len(),
            ..Idf::default()
        };
        for p in items {
            for h in &p.shingles {
                *idf.df.entry(*h).or_default() += 1;
            }
        }
        idf
    }

    #[test]
    fn a_shared_model_code_outweighs_different_wording() {
        let a = prep("Sony Turntable - PSLX350H", None, Some(99.0));
        let b = prep(
            "Sony PS-LX350H Belt-Drive Turntable",
            Some("Sony"),
            Some(109.0),
        );
        let c = prep("Bose Acoustimass 5 Speaker System - AM53BK", None, None);
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score > 0.9, "{v:?}");
        assert!(v.reasons.iter().any(|r| r.contains("pslx350h")));
    }

    #[test]
    fn a_translation_matches_on_meaning_and_says_so() {
        let a = prep("乐高 经典系列 创意积木盒 黑色", None, None);
        let b = prep("LEGO Classic Creative Brick Box Black", None, None);
        let c = prep("Stainless Steel Chef Knife", None, None);
        let idf = idf(&[&a, &b, &c]);
        assert!(score(&a, &b, &idf, None).score < 0.5, "characters alone");
        let meaning = Meaning {
            similarity: 0.9,
            across_scripts: true,
        };
        let v = score(&a, &b, &idf, Some(meaning));
        assert!(v.score > 0.5, "{v:?}");
        assert!(
            v.reasons
                .contains(&"meaning similarity across scripts 0.90".to_string()),
            "{v:?}"
        );
        assert!(v.variant_differences.is_empty(), "黑色 is black: {v:?}");
    }

    #[test]
    fn capacity_makes_a_variant_not_a_duplicate() {
        let a = prep(
            "Apple iPhone 15 Pro 128GB Black",
            Some("Apple"),
            Some(999.0),
        );
        let b = prep(
            "Apple iPhone 15 Pro 256GB Black",
            Some("Apple"),
            Some(1099.0),
        );
        let c = prep("Samsung Galaxy S24 Ultra", Some("Samsung"), Some(1199.0));
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score < 0.5 && v.score_ignoring_variants > 0.5, "{v:?}");
        assert_eq!(v.variant_differences, vec!["capacity 128gb ≠ 256gb"]);
    }

    #[test]
    fn different_brands_are_not_duplicates() {
        let a = prep("USB Optical Mouse 3-button", Some("HP"), None);
        let b = prep("USB Optical Mouse 3-button", Some("Dell"), None);
        let c = prep("Wireless keyboard", Some("Logitech"), None);
        assert!(score(&a, &b, &idf(&[&a, &b, &c]), None).score < 0.5);
    }

    #[test]
    fn sibling_model_codes_are_variants() {
        let a = prep("Samsung 46' LCD HDTV - LN46A650", None, None);
        let b = prep("Samsung 52' LCD HDTV - LN52A650", None, None);
        let c = prep("Sony Turntable - PSLX350H", None, None);
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score < 0.5 && v.score_ignoring_variants > 0.5, "{v:?}");
        assert!(
            v.variant_differences
                .contains(&"model ln46a650 ≠ ln52a650".to_string())
        );
    }

    #[test]
    fn unrelated_model_codes_in_other_colours_are_not_variants() {
        let a = prep(
            "Sony WH-1000XM5 Wireless Headphones, Black",
            Some("Sony"),
            Some(399.0),
        );
        let b = prep(
            "Sony WH-CH720N Wireless Headphones, White",
            Some("Sony"),
            Some(149.0),
        );
        let c = prep("Bose Acoustimass 5 Speaker System - AM53BK", None, None);
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score < 0.5 && v.score_ignoring_variants < 0.5, "{v:?}");
    }

    #[test]
    fn pack_counts_written_packed_are_variants() {
        let a = prep("百雀羚 水能量 焕颜 面膜 10片装", Some("百雀羚"), Some(89.0));
        let b = prep(
            "百雀羚 水能量 焕颜 面膜 20片装",
            Some("百雀羚"),
            Some(159.0),
        );
        let c = prep("三只松鼠 每日坚果 750g", Some("三只松鼠"), Some(99.0));
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score < 0.5 && v.score_ignoring_variants > 0.5, "{v:?}");
        assert_eq!(v.variant_differences, vec!["pack 10片 ≠ 20片"]);
    }

    #[test]
    fn an_accessory_naming_the_model_is_not_the_product() {
        let a = prep(
            "Sony PS-LX350H Belt-Drive Turntable",
            Some("Sony"),
            Some(109.0),
        );
        let b = prep(
            "Replacement drive belt for Sony PS-LX350H turntable",
            None,
            Some(9.99),
        );
        let c = prep("Bose Acoustimass 5 Speaker System - AM53BK", None, None);
        let v = score(&a, &b, &idf(&[&a, &b, &c]), None);
        assert!(v.score < 0.5, "{v:?}");
        assert!(v.reasons.iter().any(|r| r.contains("accessory")), "{v:?}");
        // A title of the product itself may say "for": same price, still a duplicate.
        let d = prep("Belkin TuneBase FM for iPod F8Z171", None, Some(79.0));
        let e = prep("Belkin TuneBase FM - F8Z171", None, Some(79.0));
        assert!(score(&d, &e, &idf(&[&d, &e, &c]), None).score > 0.5);
    }

    #[test]
    fn sizes_in_different_units_are_compared() {
        let specs = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            spec_conflicts(&specs(&["1tb"]), &specs(&["512gb"])),
            vec![("capacity", "512gb".to_string(), "1tb".to_string())]
        );
        assert_eq!(
            spec_conflicts(&specs(&["500ml"]), &specs(&["1.5l"])),
            vec![("volume", "500ml".to_string(), "1.5l".to_string())]
        );
        assert!(spec_conflicts(&specs(&["1tb"]), &specs(&["1024gb"])).is_empty());
        // Chinese units are the same measures: a title and its translation agree.
        assert!(spec_conflicts(&specs(&["20000毫安"]), &specs(&["20000mah"])).is_empty());
        assert!(spec_conflicts(&specs(&["2公斤"]), &specs(&["2kg"])).is_empty());
        assert_eq!(
            spec_conflicts(&specs(&["250克"]), &specs(&["500g"])),
            vec![("weight", "250克".to_string(), "500g".to_string())]
        );
        assert!(spec_conflicts(&specs(&["15.6in", "2kg"]), &specs(&["39.6cm"])).is_empty());
        assert!(spec_conflicts(&specs(&["3pcs"]), &specs(&["500ml"])).is_empty());
        assert_eq!(
            spec_conflicts(&specs(&["200克"]), &specs(&["100g"]))[0].0,
            "weight"
        );
    }
}
