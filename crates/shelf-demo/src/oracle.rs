//! The defect codes' definitions, written as code.
//!
//! Ground truth is what these detectors find in the rows *as written*, not a log of what the
//! generator meant to inject: a defect that arises naturally (an item nobody viewed) or as a
//! side effect of another one (a far-future timestamp that makes the next event of its session
//! go backwards) is then listed too. The one exception is NU006, whose "typical price of the
//! category" only the generator knows; its rows come from the injection log.
//!
//! The generator also uses the predicates here to keep clean rows clean.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use crate::time;
use crate::vocab::{NULL_LIKE, PLACEHOLDERS, TEST_VALUES};

/// One row that matches one code's definition.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub code: &'static str,
    pub row: usize,
    pub column: Option<&'static str>,
    pub note: String,
}

fn found(code: &'static str, row: usize, column: Option<&'static str>, note: String) -> Found {
    Found {
        code,
        row,
        column,
        note,
    }
}

// ---- value predicates -------------------------------------------------------------------

pub(crate) fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn is_one_of(s: &str, list: &[&str]) -> bool {
    let t = s.trim();
    list.iter().any(|v| t.eq_ignore_ascii_case(v))
}

/// MV002: the whole value is a spelled-out null.
pub(crate) fn is_null_like(s: &str) -> bool {
    is_one_of(s, NULL_LIKE)
}

/// MV003.
pub(crate) fn is_test_value(s: &str) -> bool {
    is_one_of(s, TEST_VALUES)
}

/// TX008.
pub(crate) fn is_placeholder(s: &str) -> bool {
    is_one_of(s, PLACEHOLDERS)
}

/// TX001: an HTML tag (`<p>`, `</b>`, `<br/>`) or a character entity (`&nbsp;`, `&#39;`).
pub(crate) fn has_markup(s: &str) -> bool {
    let b = s.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'<'
            && b.get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'/')
            && b[i + 1..].contains(&b'>')
        {
            return true;
        }
        if b[i] == b'&' {
            let rest = &b[i + 1..];
            let rest = rest.strip_prefix(b"#").unwrap_or(rest);
            let n = rest
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric())
                .count();
            if n >= 2 && rest.get(n) == Some(&b';') {
                return true;
            }
        }
    }
    false
}

/// TX002: UTF-8 read as windows-1252 (`Ã©`, `â€™`) or GBK read as windows-1252 (`Á¬ÒÂÈ¹`):
/// the telltale lead characters, or two Latin-1 supplement letters in a row.
pub(crate) fn has_mojibake(s: &str) -> bool {
    if s.contains('Ã') || s.contains('Â') || s.contains("â€") {
        return true;
    }
    let latin1 = |c: char| ('\u{A1}'..='\u{FF}').contains(&c);
    let chars: Vec<char> = s.chars().collect();
    chars.windows(2).any(|w| latin1(w[0]) && latin1(w[1]))
}

/// TX003.
pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// TX004: one or two characters that are not a test value or placeholder.
pub(crate) fn is_too_short(s: &str) -> bool {
    let t = s.trim();
    (1..=2).contains(&t.chars().count()) && !is_test_value(t) && !is_placeholder(t)
}

/// TX005.
pub(crate) fn is_too_long(s: &str) -> bool {
    s.chars().count() > 300
}

/// TX006: at least 8 upper-case letters, no lower-case one, and not mostly uncased script
/// (a Chinese title with a capitalised brand and model code, `OPPO PDA-KT40 游戏 轻薄 智能手机`,
/// is not shouting).
pub(crate) fn is_all_caps(s: &str) -> bool {
    let upper = s.chars().filter(|c| c.is_uppercase()).count();
    let uncased = s
        .chars()
        .filter(|c| c.is_alphabetic() && !c.is_uppercase() && !c.is_lowercase())
        .count();
    upper >= 8 && !s.chars().any(char::is_lowercase) && uncased * 2 <= upper
}

/// How often the most frequent whitespace-separated token occurs (case-folded, with
/// punctuation trimmed from its ends; punctuation-only tokens are skipped).
pub(crate) fn max_token_repeat(s: &str) -> usize {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for tok in s.split_whitespace() {
        let t = tok.trim_matches(|c: char| !c.is_alphanumeric());
        if !t.is_empty() {
            *counts.entry(t.to_lowercase()).or_default() += 1;
        }
    }
    counts.values().copied().max().unwrap_or(0)
}

/// TX007.
pub(crate) fn is_stuffed(s: &str) -> bool {
    max_token_repeat(s) >= 4
}

/// A title no TX/MV title check should fire on, with the 5..=200 character length the
/// generator keeps clean titles in.
pub(crate) fn title_is_clean(t: &str) -> bool {
    (5..=200).contains(&t.chars().count())
        && t.trim() == t
        && !has_control(t)
        && !has_mojibake(t)
        && !has_markup(t)
        && !is_all_caps(t)
        && !is_stuffed(t)
        && !is_test_value(t)
        && !is_placeholder(t)
        && !is_null_like(t)
}

/// A shop-formatted price: `$1,299.00`, `¥88`, `1.299,00 €`, `12,50 €`, `-12.50`, `0`.
pub(crate) fn parse_price(s: &str) -> Option<f64> {
    let mut t: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '$' | '¥' | '￥' | '€'))
        .collect();
    let neg = t.starts_with('-');
    if neg {
        t.remove(0);
    }
    if !t.starts_with(|c: char| c.is_ascii_digit())
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let plain = match (t.rfind('.'), t.rfind(',')) {
        (Some(d), Some(c)) if c > d => t.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => t.replace(',', ""),
        (None, Some(c)) if t.len() - c - 1 == 2 && t.matches(',').count() == 1 => {
            t.replace(',', ".")
        }
        (None, Some(_)) => t.replace(',', ""),
        _ => t,
    };
    let v: f64 = plain.parse().ok()?;
    Some(if neg { -v } else { v })
}

fn is_punct(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '\u{2010}'..='\u{205E}' | '\u{3001}'..='\u{303F}' | '\u{FF00}'..='\u{FF65}')
}

/// QU002's normalization: full-width forms to ASCII (the part of NFKC that shop queries
/// hit), lower-case, and drop whitespace and punctuation.
pub(crate) fn normalize_query(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !is_punct(*c))
        .collect()
}

// ---- table detectors ------------------------------------------------------------------

/// The data window of the events table: the 60 days ending 2025-06-30.
pub(crate) fn window() -> (i64, i64) {
    (time::midnight(2025, 5, 2), time::midnight(2025, 7, 1) - 1)
}

/// Rows that are an exact copy of an earlier row (DU001), each with the earlier row.
fn exact_copies(rows: &[Vec<String>]) -> Vec<(usize, usize)> {
    let mut first: HashMap<&[String], usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match first.get(r.as_slice()) {
            Some(&j) => out.push((i, j)),
            None => {
                first.insert(r.as_slice(), i);
            }
        }
    }
    out
}

/// The catalog codes, given the item ids that occur in events (for RI002).
pub(crate) fn catalog(rows: &[Vec<String>], items_in_events: &BTreeSet<&str>) -> Vec<Found> {
    use crate::catalog::col::*;
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        for (c, name) in [(TITLE, "title"), (BRAND, "brand"), (CATEGORY, "category")] {
            if is_blank(&r[c]) {
                out.push(found("MV001", i, Some(name), format!("{name} is empty")));
            }
        }
        for (c, name) in [(BRAND, "brand"), (DESCRIPTION, "description")] {
            if is_null_like(&r[c]) {
                out.push(found(
                    "MV002",
                    i,
                    Some(name),
                    format!("{name} is {:?}", r[c]),
                ));
            }
        }
        let title = &r[TITLE];
        if is_test_value(title) {
            out.push(found(
                "MV003",
                i,
                Some("title"),
                format!("title is {title:?}"),
            ));
        }
        if !is_blank(&r[PRICE]) && parse_price(&r[PRICE]).is_none() {
            out.push(found(
                "SC001",
                i,
                Some("price"),
                format!("price {:?} is not a number", r[PRICE]),
            ));
        }
        if !is_blank(&r[CREATED_AT]) && time::parse_date(&r[CREATED_AT]).is_none() {
            let v = &r[CREATED_AT];
            out.push(found(
                "SC001",
                i,
                Some("created_at"),
                format!("created_at {v:?} is not a date"),
            ));
        }
        if has_markup(&r[DESCRIPTION]) {
            out.push(found(
                "TX001",
                i,
                Some("description"),
                "HTML in description".into(),
            ));
        }
        for (c, name) in [(TITLE, "title"), (DESCRIPTION, "description")] {
            if has_mojibake(&r[c]) {
                out.push(found("TX002", i, Some(name), format!("mojibake in {name}")));
            }
        }
        if has_control(title) {
            out.push(found(
                "TX003",
                i,
                Some("title"),
                "control character in title".into(),
            ));
        }
        if is_too_short(title) {
            out.push(found(
                "TX004",
                i,
                Some("title"),
                format!("title {title:?} is too short"),
            ));
        }
        if is_too_long(title) {
            let n = title.chars().count();
            out.push(found(
                "TX005",
                i,
                Some("title"),
                format!("title has {n} characters"),
            ));
        }
        if is_all_caps(title) {
            out.push(found("TX006", i, Some("title"), "title in all caps".into()));
        }
        if is_stuffed(title) {
            let n = max_token_repeat(title);
            out.push(found(
                "TX007",
                i,
                Some("title"),
                format!("a title token repeats {n} times"),
            ));
        }
        if is_placeholder(title) {
            out.push(found(
                "TX008",
                i,
                Some("title"),
                format!("placeholder title {title:?}"),
            ));
        }
        if let Some(p) = parse_price(&r[PRICE]) {
            let raw = &r[PRICE];
            if p == 0.0 {
                out.push(found(
                    "NU001",
                    i,
                    Some("price"),
                    format!("price {raw:?} is zero"),
                ));
            } else if p < 0.0 {
                out.push(found(
                    "NU002",
                    i,
                    Some("price"),
                    format!("price {raw:?} is negative"),
                ));
            } else if p >= 10_000_000.0 {
                out.push(found(
                    "NU003",
                    i,
                    Some("price"),
                    format!("price {raw:?} is implausible"),
                ));
            }
        }
        if !items_in_events.contains(r[SKU].as_str()) {
            out.push(found(
                "RI002",
                i,
                Some("sku"),
                "item appears in no event".into(),
            ));
        }
    }
    for (i, j) in exact_copies(rows) {
        out.push(found("DU001", i, None, format!("exact copy of row {j}")));
    }
    let mut seen_sku: HashSet<&str> = HashSet::new();
    for (i, r) in rows.iter().enumerate() {
        if seen_sku.insert(&r[SKU]) {
            continue;
        }
        // Conflicting with *any* earlier row of the same sku.
        let conflict = rows[..i].iter().position(|e| {
            e[SKU] == r[SKU]
                && (e[TITLE] != r[TITLE] || parse_price(&e[PRICE]) != parse_price(&r[PRICE]))
        });
        if let Some(k) = conflict {
            out.push(found(
                "DU002",
                i,
                Some("sku"),
                format!("sku {} also on row {k} with another title or price", r[SKU]),
            ));
        }
    }
    out
}

/// The events codes, given the catalog's skus and their first parseable price.
pub(crate) fn events(rows: &[Vec<String>], prices: &BTreeMap<&str, Option<f64>>) -> Vec<Found> {
    use crate::events::col::*;
    let (start, end) = window();
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let ts = time::parse_ts(&r[TIMESTAMP]);
        match ts {
            None => out.push(found(
                "SC001",
                i,
                Some("timestamp"),
                format!("timestamp {:?} is not a date", r[TIMESTAMP]),
            )),
            Some(t) if t > end => out.push(found(
                "TI001",
                i,
                Some("timestamp"),
                format!("timestamp {} is in the future", r[TIMESTAMP]),
            )),
            Some(t) if t < start => out.push(found(
                "TI002",
                i,
                Some("timestamp"),
                format!("timestamp {} is before the data window", r[TIMESTAMP]),
            )),
            Some(_) => {}
        }
        let prev = (i > 0 && rows[i - 1][SESSION_ID] == r[SESSION_ID])
            .then(|| time::parse_ts(&rows[i - 1][TIMESTAMP]))
            .flatten();
        if let (Some(prev), Some(t)) = (prev, ts)
            && t < prev
        {
            out.push(found(
                "TI003",
                i,
                Some("timestamp"),
                format!(
                    "earlier than the previous event of session {}",
                    r[SESSION_ID]
                ),
            ));
        }
        let catalog_price = prices.get(r[ITEM_ID].as_str());
        if catalog_price.is_none() {
            out.push(found(
                "RI001",
                i,
                Some("item_id"),
                format!("item {} is not in the catalog", r[ITEM_ID]),
            ));
        }
        if r[EVENT] != "purchase" {
            continue;
        }
        if r[QUANTITY].trim().parse::<i64>().is_ok_and(|q| q <= 0) {
            out.push(found(
                "NU004",
                i,
                Some("quantity"),
                format!("purchase quantity {}", r[QUANTITY]),
            ));
        }
        if let (Some(p), Some(Some(c))) = (parse_price(&r[PRICE]), catalog_price)
            && *c > 0.0
            && (p - c).abs() > 0.5 * c
        {
            out.push(found(
                "NU007",
                i,
                Some("price"),
                format!("paid {} against catalog price {c:.2}", r[PRICE]),
            ));
        }
    }
    for (i, j) in exact_copies(rows) {
        out.push(found("DU001", i, None, format!("exact copy of row {j}")));
    }
    let mut by_key: HashMap<[&str; 4], Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let key = [
            r[USER_ID].as_str(),
            r[ITEM_ID].as_str(),
            r[EVENT].as_str(),
            r[TIMESTAMP].as_str(),
        ];
        let earlier = by_key.entry(key).or_default();
        if let Some(&j) = earlier.iter().find(|&&j| rows[j] != *r) {
            out.push(found(
                "DU003",
                i,
                None,
                format!("same user, item, event and timestamp as row {j}, other columns differ"),
            ));
        }
        earlier.push(i);
    }
    out
}

/// The queries codes.
pub(crate) fn queries(rows: &[Vec<String>]) -> Vec<Found> {
    use crate::queries::col::*;
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let q = &r[QUERY];
        if is_blank(q) {
            out.push(found(
                "QU001",
                i,
                Some("query"),
                format!("query {q:?} is empty"),
            ));
        }
        if q.chars().count() > 100 {
            let n = q.chars().count();
            out.push(found(
                "QU003",
                i,
                Some("query"),
                format!("query has {n} characters"),
            ));
        }
        // Empty queries all normalize to "" — that is QU001's business, not a duplicate.
        let norm = normalize_query(q);
        if norm.is_empty() {
            continue;
        }
        match seen.get(&norm) {
            Some(&j) => out.push(found(
                "QU002",
                i,
                Some("query"),
                format!("{q:?} normalizes like row {j} ({:?})", rows[j][QUERY]),
            )),
            None => {
                seen.insert(norm, i);
            }
        }
    }
    out
}

/// The judgments codes, given the catalog's skus.
pub(crate) fn judgments(rows: &[Vec<String>], skus: &BTreeMap<&str, Option<f64>>) -> Vec<Found> {
    use crate::judgments::col::*;
    let mut out = Vec::new();
    let label = |r: &Vec<String>| r[LABEL].trim().parse::<i64>().ok();
    for (i, r) in rows.iter().enumerate() {
        if !skus.contains_key(r[ITEM_ID].as_str()) {
            out.push(found(
                "RI001",
                i,
                Some("item_id"),
                format!("item {} is not in the catalog", r[ITEM_ID]),
            ));
        }
        if !label(r).is_some_and(|l| (0..=3).contains(&l)) {
            out.push(found(
                "JU003",
                i,
                Some("label"),
                format!("label {} is outside 0-3", r[LABEL]),
            ));
        }
    }
    // JU001: both rows of a conflicting pair.
    let mut pairs: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut by_query: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        pairs
            .entry((&r[QUERY_ID], &r[ITEM_ID]))
            .or_default()
            .push(i);
        by_query.entry(&r[QUERY_ID]).or_default().push(i);
    }
    let mut conflicting = BTreeSet::new();
    for members in pairs.values() {
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                let (ri, rj) = (&rows[i], &rows[j]);
                if ri[ANNOTATOR] != rj[ANNOTATOR]
                    && let (Some(li), Some(lj)) = (label(ri), label(rj))
                    && (li - lj).abs() >= 2
                {
                    conflicting.insert(i);
                    conflicting.insert(j);
                }
            }
        }
    }
    for i in conflicting {
        let r = &rows[i];
        out.push(found(
            "JU001",
            i,
            Some("label"),
            format!("({}, {}) has labels 2+ apart", r[QUERY_ID], r[ITEM_ID]),
        ));
    }
    for (q, members) in by_query {
        let first = &rows[members[0]][LABEL];
        if members.len() >= 3 && members.iter().all(|&i| rows[i][LABEL] == *first) {
            for &i in &members {
                out.push(found(
                    "JU002",
                    i,
                    Some("label"),
                    format!("all {} judgments of {q} are {first}", members.len()),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        for (s, v) in [
            ("$1,299.00", 1299.0),
            ("¥88", 88.0),
            ("1.299,00 €", 1299.0),
            ("12,50 €", 12.5),
            ("12.50", 12.5),
            ("-12.50", -12.5),
            ("-¥88", -88.0),
            ("¥10,000,000", 10_000_000.0),
            ("0", 0.0),
        ] {
            assert_eq!(parse_price(s), Some(v), "{s}");
        }
        for s in ["call for price", "abc", "价格面议", "", "1.2.3"] {
            assert_eq!(parse_price(s), None, "{s}");
        }
    }

    #[test]
    fn query_normalization() {
        let n = normalize_query("iPhone12");
        assert_eq!(normalize_query("iphone 12"), n);
        assert_eq!(normalize_query("ＩＰＨＯＮＥ　１２"), n);
        assert_eq!(normalize_query("华为 P40"), normalize_query("华为p40"));
        assert_eq!(normalize_query("连衣裙，夏季！"), "连衣裙夏季");
    }

    #[test]
    fn text_predicates() {
        assert!(has_markup("<p>hi</p>") && has_markup("a&nbsp;b") && !has_markup("a < b & c"));
        assert!(has_mojibake("CafÃ©") && has_mojibake("Menâ€™s") && has_mojibake("Á¬ÒÂÈ¹"));
        assert!(!has_mojibake("Sony 连衣裙 ¥"));
        assert!(is_all_caps("SONY WIRELESS HEADPHONES") && !is_all_caps("Sony WH-1000XM4"));
        assert!(!is_all_caps("OPPO PDA-KT40 游戏 轻薄 智能手机"));
        assert!(is_stuffed(
            "cheap shoes cheap shoes cheap shoes cheap shoes"
        ));
        assert!(is_too_short("包") && !is_too_short("测试"));
    }
}
