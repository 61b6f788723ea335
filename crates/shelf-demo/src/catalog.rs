//! The product catalog: one row per product, then defects injected in place or as extra rows.

use std::collections::{BTreeSet, HashMap};

use crate::oracle::{is_all_caps, max_token_repeat, title_is_clean};
use crate::rng::Rng;
use crate::time;
use crate::vocab::{
    EN_TITLE_FILLERS, GBK_MOJIBAKE, Lang, NULL_LIKE, PLACEHOLDERS, ProductType, TEST_VALUES, TYPES,
    ZH_TITLE_FILLERS, pad_words,
};
use crate::{Row, choose, count};

pub(crate) const HEADER: [&str; 9] = [
    "sku",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "created_at",
    "stock",
];

// The full column map, whether or not the generator names every column.
#[allow(dead_code)]
pub(crate) mod col {
    pub(crate) const SKU: usize = 0;
    pub(crate) const TITLE: usize = 1;
    pub(crate) const DESCRIPTION: usize = 2;
    pub(crate) const BRAND: usize = 3;
    pub(crate) const CATEGORY: usize = 4;
    pub(crate) const PRICE: usize = 5;
    pub(crate) const CURRENCY: usize = 6;
    pub(crate) const CREATED_AT: usize = 7;
    pub(crate) const STOCK: usize = 8;
}
use col::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Currency {
    Cny,
    Usd,
    Eur,
}

impl Currency {
    fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
        }
    }

    fn of(code: &str) -> Currency {
        match code {
            "CNY" => Currency::Cny,
            "EUR" => Currency::Eur,
            _ => Currency::Usd,
        }
    }

    /// Home-currency (CNY or USD) to this currency.
    fn rate(self) -> f64 {
        if self == Currency::Eur { 0.92 } else { 1.0 }
    }
}

/// The typical price of a row's category in the row's currency.
pub(crate) fn typical_price(ty: usize, currency: &str) -> f64 {
    TYPES[ty].median * Currency::of(currency).rate()
}

/// A catalog item as events and judgments see it (the first row of its sku).
pub(crate) struct Item {
    pub sku: String,
    pub ty: usize,
    pub brand: String,
    pub price: f64,
    /// Clean, on a single catalog row: the only items purchases are made of, so that a
    /// purchase's catalog price is unambiguous and plausible.
    pub purchasable: bool,
}

/// Hands out unique `SKU-nnnnnn` ids, for catalog items and for ids that are in no catalog.
#[derive(Default)]
pub(crate) struct SkuPool {
    used: BTreeSet<i64>,
}

impl SkuPool {
    pub(crate) fn fresh(&mut self, rng: &mut Rng) -> String {
        loop {
            let n = rng.range(100_000, 999_999);
            if self.used.insert(n) {
                return format!("SKU-{n}");
            }
        }
    }
}

pub(crate) struct Catalog {
    pub rows: Vec<Row>,
    pub items: Vec<Item>,
    /// Item indices per product type.
    pub by_type: Vec<Vec<usize>>,
}

fn group_thousands(v: f64, sep: char, dec: char) -> String {
    let s = format!("{:.2}", v.abs());
    let (int, frac) = s.split_once('.').expect("formatted with decimals");
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(ch);
    }
    format!("{grouped}{dec}{frac}")
}

/// The price as one of the formats shops export: `$1,299.00`, `¥88`, `1.299,00 €`, `12.50`.
fn format_price(v: f64, cur: Currency, style: usize) -> String {
    match (cur, style % 3) {
        (Currency::Usd, 0) => format!("${}", group_thousands(v, ',', '.')),
        (Currency::Cny, 0) if v.fract() == 0.0 => format!("¥{}", v as i64),
        (Currency::Cny, 0 | 1) => format!("¥{}", group_thousands(v, ',', '.')),
        (Currency::Eur, 0) => format!("{} €", group_thousands(v, '.', ',')),
        _ => format!("{v:.2}"),
    }
}

fn round_shop(x: f64, cur: Currency, rng: &mut Rng) -> f64 {
    match cur {
        Currency::Cny if x >= 30.0 => (x / 10.0).round() * 10.0 - 1.0,
        Currency::Cny => x.round().max(1.0),
        _ if x >= 10.0 => x.floor() + *rng.pick(&[0.99, 0.99, 0.95, 0.0]),
        _ => (x * 100.0).round() / 100.0,
    }
}

/// A price from the category's log-normal spread: within [typical/3, typical*3] after rounding.
fn clean_price(rng: &mut Rng, ty: &ProductType, cur: Currency) -> f64 {
    let m = ty.median * cur.rate();
    let raw = (m * (0.35 * rng.normal()).exp()).clamp(m / 2.4, m * 2.4);
    round_shop(raw, cur, rng)
}

fn model_code(rng: &mut Rng) -> String {
    const L: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXZ";
    let a = L[rng.below(L.len())] as char;
    let b = L[rng.below(L.len())] as char;
    format!("{a}{b}{}", rng.range(2, 99) * 10)
}

/// A clean title and the product noun it uses.
fn make_title(rng: &mut Rng, ty: &ProductType, brand: &str) -> (String, &'static str) {
    for _ in 0..50 {
        let noun = *rng.pick(ty.nouns);
        let n_adj = if rng.chance(0.45) { 2 } else { 1 };
        let adjs = rng.sample(ty.adjectives, n_adj);
        let mut parts = vec![brand.to_string()];
        let title = match ty.lang {
            Lang::Zh => {
                if rng.chance(0.15) {
                    parts.push("2025新款".into());
                }
                parts.extend(adjs.iter().map(|s| s.to_string()));
                parts.push(noun.into());
                if rng.chance(0.6) {
                    parts.push(rng.pick(ty.specs).to_string());
                }
                parts.join(" ")
            }
            Lang::En => {
                if ty.model && rng.chance(0.75) {
                    parts.push(model_code(rng));
                }
                parts.extend(adjs.iter().map(|s| s.to_string()));
                parts.push(noun.into());
                let mut t = parts.join(" ");
                if rng.chance(0.6) {
                    t.push_str(", ");
                    let spec = *rng.pick(ty.specs);
                    t.push_str(spec);
                }
                t
            }
        };
        if title_is_clean(&title) {
            return (title, noun);
        }
    }
    (format!("{brand} {}", ty.nouns[0]), ty.nouns[0])
}

fn make_description(rng: &mut Rng, ty: &ProductType, brand: &str, noun: &str) -> String {
    let f = rng.sample(ty.features, 3);
    match (ty.lang, rng.below(3)) {
        (Lang::Zh, 0) => format!("{brand}{noun}，{}，{}。{}。", f[0], f[1], f[2]),
        (Lang::Zh, 1) => format!("【{brand}官方正品】{noun}：{}、{}、{}", f[0], f[1], f[2]),
        (Lang::Zh, _) => format!("{brand}{noun}\n• {}\n• {}\n• {}", f[0], f[1], f[2]),
        (Lang::En, 0) => format!(
            "The {brand} {}. Highlights: {}; {}; {}.",
            noun.to_lowercase(),
            f[0],
            f[1],
            f[2]
        ),
        (Lang::En, 1) => format!("{brand} {noun} — {}, {}, {}.", f[0], f[1], f[2]),
        (Lang::En, _) => format!(
            "{brand} {noun}.\nFeatures:\n- {}\n- {}\n- {}",
            f[0], f[1], f[2]
        ),
    }
}

fn make_row(rng: &mut Rng, skus: &mut SkuPool) -> Row {
    let t = rng.below(TYPES.len());
    let ty = &TYPES[t];
    let brand = *rng.pick(ty.brands);
    let cur = match ty.lang {
        Lang::Zh => Currency::Cny,
        Lang::En if rng.chance(0.3) => Currency::Eur,
        Lang::En => Currency::Usd,
    };
    let price = clean_price(rng, ty, cur);
    let start = time::days_from_civil(2019, 1, 1);
    let days = time::days_from_civil(2025, 6, 30) - start;
    let created = (start + rng.range(0, days)) * 86_400;
    let stock = match rng.below(10) {
        0 => 0,
        1 | 2 => rng.range(300, 2000),
        _ => rng.range(1, 299),
    };
    let (title, noun) = make_title(rng, ty, brand);
    let cells = vec![
        skus.fresh(rng),
        title,
        make_description(rng, ty, brand, noun),
        brand.to_string(),
        ty.category.to_string(),
        format_price(price, cur, rng.below(3)),
        cur.code().to_string(),
        time::format_date(created),
        stock.to_string(),
    ];
    let mut row = Row::new(cells, t);
    row.num = price;
    row
}

/// A title past 300 characters, padded the way shops pad them (selling points, related
/// keywords), each phrase at most twice so that it is long without being keyword-stuffed.
fn long_title(rng: &mut Rng, row: &Row) -> String {
    let (fillers, sep) = match TYPES[row.ty].lang {
        Lang::Zh => (ZH_TITLE_FILLERS, " "),
        Lang::En => (EN_TITLE_FILLERS, ", "),
    };
    let base = row.cells[TITLE].clone();
    pad_words(rng, base, row.ty, fillers, sep, 300, |c| {
        max_token_repeat(c) <= 2 && !is_all_caps(c)
    })
}

fn stuffed_title(rng: &mut Rng, row: &Row, variant: usize) -> String {
    let ty = &TYPES[row.ty];
    let brand = &row.cells[BRAND];
    let noun = ty.nouns[0].to_lowercase();
    match (ty.lang, variant % 2) {
        (Lang::En, 0) => {
            let a = rng.pick(&["cheap", "best", "sale"]);
            vec![format!("{a} {noun}"); 4].join(" ")
        }
        (Lang::En, _) => format!("{brand} {noun} {noun} {noun} {noun} free shipping"),
        (Lang::Zh, 0) => {
            let sub = ty.category.split(" > ").nth(1).unwrap_or("热卖");
            format!("{noun} {noun} {noun} {noun} {sub}")
        }
        (Lang::Zh, _) => format!("{brand} {noun} 正品 {noun} 包邮 {noun} 特价 {noun}"),
    }
}

fn html_description(rng: &mut Rng, row: &Row, variant: usize) -> String {
    let d = &row.cells[DESCRIPTION];
    let f = rng.sample(TYPES[row.ty].features, 2);
    match variant % 5 {
        0 => format!("<p>{d}</p>"),
        1 => format!("{d}<br><br>{}", f[0]),
        2 => format!("{d}&nbsp;&nbsp;"),
        3 => format!("<div class=\"desc\"><b>{}</b> {d}</div>", row.cells[BRAND]),
        _ => format!("<ul><li>{}</li><li>{}</li></ul>", f[0], f[1]),
    }
}

/// Mojibake for one row: `Some((column, text, note))`, or `None` when the row's language has
/// no fitting variant (Chinese types without a precomputed GBK title).
fn mojibake(row: &Row, variant: usize) -> Option<(usize, String, String)> {
    let ty = &TYPES[row.ty];
    match ty.lang {
        Lang::Zh => {
            let (orig, bad) = GBK_MOJIBAKE
                .iter()
                .find(|(orig, _)| ty.nouns.iter().any(|n| orig.contains(n)))?;
            Some((
                TITLE,
                bad.to_string(),
                format!("GBK title {orig:?} decoded as windows-1252"),
            ))
        }
        Lang::En if variant.is_multiple_of(2) => {
            let t = &row.cells[TITLE];
            let text = match t.split_once(", ") {
                Some((a, b)) => format!("{a} â€“ {b}"),
                None => format!("{t} â€“ {}", ty.specs[0]),
            };
            Some((
                TITLE,
                text,
                "UTF-8 en dash decoded as windows-1252 (â€“)".into(),
            ))
        }
        Lang::En => {
            const TAILS: &[&str] = &[
                "Itâ€™s the perfect gift.",
                "CafÃ©-quality results at home.",
                "Ã¼ber-comfortable for all-day use.",
                "Weâ€™re sure youâ€™ll love it.",
            ];
            let text = format!(
                "{} {}",
                row.cells[DESCRIPTION],
                TAILS[variant / 2 % TAILS.len()]
            );
            Some((
                DESCRIPTION,
                text,
                "UTF-8 punctuation decoded as windows-1252".into(),
            ))
        }
    }
}

pub(crate) fn build(rng: &mut Rng, n: usize, skus: &mut SkuPool) -> Catalog {
    let mut rows: Vec<Row> = (0..n).map(|_| make_row(rng, skus)).collect();
    let k = count(n, 0.01);
    let is_en = |r: &Row| TYPES[r.ty].lang == Lang::En;

    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let (c, name) = [(TITLE, "title"), (BRAND, "brand"), (CATEGORY, "category")][j % 3];
        rows[i].cells[c].clear();
        rows[i].tag("MV001", format!("{name} left empty"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let (c, name) = [(BRAND, "brand"), (DESCRIPTION, "description")][j % 2];
        let v = NULL_LIKE[rng.below(NULL_LIKE.len())];
        rows[i].cells[c] = v.to_string();
        rows[i].tag("MV002", format!("{name} set to {v:?}"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let v = TEST_VALUES[j % TEST_VALUES.len()];
        rows[i].cells[TITLE] = v.to_string();
        rows[i].tag("MV003", format!("title set to {v:?}"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        if j % 2 == 0 {
            let v = ["call for price", "abc", "TBD", "价格面议"][j / 2 % 4];
            rows[i].cells[PRICE] = v.to_string();
            rows[i].tag("SC001", format!("price set to {v:?}"));
        } else {
            let v = ["yesterday", "last week", "上周"][j / 2 % 3];
            rows[i].cells[CREATED_AT] = v.to_string();
            rows[i].tag("SC001", format!("created_at set to {v:?}"));
        }
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        rows[i].cells[DESCRIPTION] = html_description(rng, &rows[i], j);
        rows[i].tag("TX001", "HTML markup in description".into());
    }
    let has_gbk = |r: &Row| {
        let ty = &TYPES[r.ty];
        ty.lang == Lang::En
            || GBK_MOJIBAKE
                .iter()
                .any(|(o, _)| ty.nouns.iter().any(|n| o.contains(n)))
    };
    for (j, i) in choose(rng, &rows, k, has_gbk).into_iter().enumerate() {
        if let Some((c, text, note)) = mojibake(&rows[i], j) {
            rows[i].cells[c] = text;
            rows[i].tag("TX002", note);
        }
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let t = rows[i].cells[TITLE].clone();
        let (text, what) = match j % 3 {
            0 => (t.replacen(' ', "\u{7} ", 1), "BEL (U+0007)"),
            1 => (format!("\u{1b}[1m{t}\u{1b}[0m"), "ANSI escapes (U+001B)"),
            _ => (format!("{t}\u{0}"), "NUL (U+0000)"),
        };
        rows[i].cells[TITLE] = text;
        rows[i].tag("TX003", format!("{what} in title"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let v = match TYPES[rows[i].ty].lang {
            Lang::Zh => ["包", "鞋", "杯", "帽"][j % 4],
            Lang::En => ["A1", "X", "T1", "Z"][j % 4],
        };
        rows[i].cells[TITLE] = v.to_string();
        rows[i].tag("TX004", format!("title set to {v:?}"));
    }
    for i in choose(rng, &rows, k, |_| true) {
        rows[i].cells[TITLE] = long_title(rng, &rows[i]);
        let n = rows[i].cells[TITLE].chars().count();
        rows[i].tag("TX005", format!("title padded to {n} characters"));
    }
    for i in choose(rng, &rows, k, |r| {
        is_en(r) && is_all_caps(&r.cells[TITLE].to_uppercase())
    }) {
        rows[i].cells[TITLE] = rows[i].cells[TITLE].to_uppercase();
        rows[i].tag("TX006", "title upper-cased".into());
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        rows[i].cells[TITLE] = stuffed_title(rng, &rows[i], j);
        rows[i].tag("TX007", "title stuffed with a repeated keyword".into());
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let v = PLACEHOLDERS[j % PLACEHOLDERS.len()];
        rows[i].cells[TITLE] = v.to_string();
        rows[i].tag("TX008", format!("title set to {v:?}"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let v = ["0", "0.00"][j % 2];
        rows[i].cells[PRICE] = v.to_string();
        rows[i].tag("NU001", format!("price set to {v:?}"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let r = &mut rows[i];
        let v = if j % 2 == 0 || r.cells[CURRENCY] != "CNY" {
            format!("-{:.2}", r.num)
        } else {
            format!("-¥{}", r.num)
        };
        r.cells[PRICE] = v.clone();
        r.tag("NU002", format!("price set to {v:?}"));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let r = &mut rows[i];
        let v = [99_999_999.0, 12_500_000.0, 10_000_000.0, 45_000_000.0][j % 4];
        r.cells[PRICE] = format_price(v, Currency::of(&r.cells[CURRENCY]), j);
        r.tag("NU003", format!("price set to {:?}", r.cells[PRICE]));
    }
    for (j, i) in choose(rng, &rows, k, |_| true).into_iter().enumerate() {
        let r = &mut rows[i];
        let cur = Currency::of(&r.cells[CURRENCY]);
        let m = typical_price(r.ty, &r.cells[CURRENCY]);
        let factor = if j % 2 == 0 { 100.0 } else { 0.01 };
        let v = (m * factor * (0.9 + 0.2 * rng.f64()) * 100.0).round() / 100.0;
        r.cells[PRICE] = format_price(v, cur, rng.below(3));
        let what = if j % 2 == 0 { "x100" } else { "/100" };
        r.tag(
            "NU006",
            format!(
                "price {:?} is the category's typical {m:.2} {what}",
                r.cells[PRICE]
            ),
        );
    }

    // Extra rows last, so that their originals are known-clean.
    for _ in 0..k {
        let i = choose(rng, &rows, 1, |_| true)[0];
        rows[i].reserved = true;
        let mut copy = Row::new(rows[i].cells.clone(), rows[i].ty);
        copy.tag("DU001", format!("exact copy of sku {}", rows[i].cells[SKU]));
        let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
        rows.insert(at, copy);
    }
    for j in 0..k {
        let i = choose(rng, &rows, 1, |_| true)[0];
        rows[i].reserved = true;
        let orig = &rows[i];
        let ty = &TYPES[orig.ty];
        let mut dup = Row::new(orig.cells.clone(), orig.ty);
        if j % 2 == 0 {
            let cur = Currency::of(&orig.cells[CURRENCY]);
            let mut p = clean_price(rng, ty, cur);
            while (p - orig.num).abs() < 0.1 * orig.num {
                p = clean_price(rng, ty, cur);
            }
            dup.cells[PRICE] = format_price(p, cur, rng.below(3));
            dup.num = p;
            let note = format!("sku {} re-listed at {}", orig.cells[SKU], dup.cells[PRICE]);
            dup.tag("DU002", note);
        } else {
            let brand = orig.cells[BRAND].clone();
            let mut t = make_title(rng, ty, &brand).0;
            while t == orig.cells[TITLE] {
                t = make_title(rng, ty, &brand).0;
            }
            dup.cells[TITLE] = t;
            dup.tag(
                "DU002",
                format!("sku {} re-listed with another title", orig.cells[SKU]),
            );
        }
        let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
        rows.insert(at, dup);
    }

    let mut per_sku: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        *per_sku.entry(&r.cells[SKU]).or_default() += 1;
    }
    let mut items = Vec::new();
    let mut by_type = vec![Vec::new(); TYPES.len()];
    let mut seen = BTreeSet::new();
    for r in &rows {
        if !seen.insert(r.cells[SKU].as_str()) {
            continue;
        }
        by_type[r.ty].push(items.len());
        items.push(Item {
            sku: r.cells[SKU].clone(),
            ty: r.ty,
            brand: r.cells[BRAND].clone(),
            price: r.num,
            purchasable: r.is_clean() && per_sku[r.cells[SKU].as_str()] == 1,
        });
    }
    Catalog {
        rows,
        items,
        by_type,
    }
}
