//! The product catalog: one row per product, then defects injected in place or as extra rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::oracle::{is_all_caps, is_blank, max_token_repeat, parse_price, title_is_clean};
use crate::rng::Rng;
use crate::time;
use crate::vocab::{
    EN_TITLE_FILLERS, GBK_MOJIBAKE, Ident, Lang, NULL_LIKE, PLACEHOLDERS, ProductType, TEST_VALUES,
    TYPES, ZH_TITLE_FILLERS, pad_words,
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

/// Hands out model codes and style numbers from a pattern, never one twice. Nor, apart from
/// siblings asked for by [`CodePool::sibling`], two codes of one family — the same letters in
/// the same places (`MB-FB40E511` / `MB-FB30E211`) — which the matcher reads as sibling models
/// of one product line: unrelated products must not look like variants by chance.
#[derive(Default)]
pub(crate) struct CodePool {
    used: BTreeSet<String>,
    families: BTreeSet<String>,
}

/// A code as the matcher compares it: letters and digits, lower case.
fn joined(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The code's family: its digits zeroed. All-digit codes (set numbers) have none.
fn family(code: &str) -> Option<String> {
    let j = joined(code);
    j.bytes().any(|b| b.is_ascii_alphabetic()).then(|| {
        j.chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect()
    })
}

impl CodePool {
    fn fill(rng: &mut Rng, pattern: &str) -> String {
        // No I, O or Y: shops avoid letters that read as digits.
        const L: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXZ";
        pattern
            .chars()
            .map(|c| match c {
                '?' => L[rng.below(L.len())] as char,
                '#' => char::from(b'0' + rng.below(10) as u8),
                c => c,
            })
            .collect()
    }

    fn fresh(&mut self, rng: &mut Rng, pattern: &str) -> String {
        for attempt in 0.. {
            let code = Self::fill(rng, pattern);
            let fam = family(&code);
            // A first digit of 0 reads as a padded number; keep set numbers at five digits.
            if code.starts_with('0') || self.used.contains(&joined(&code)) {
                continue;
            }
            if attempt < 1000 && fam.as_ref().is_some_and(|f| self.families.contains(f)) {
                continue;
            }
            self.used.insert(joined(&code));
            self.families.extend(fam);
            return code;
        }
        unreachable!("the loop returns")
    }

    /// Another code of `code`'s family (other digits), for a variant; `None` if none is found.
    fn sibling(&mut self, rng: &mut Rng, code: &str) -> Option<String> {
        for _ in 0..200 {
            let c: String = code
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        char::from(b'0' + rng.below(10) as u8)
                    } else {
                        c
                    }
                })
                .collect();
            if self.used.insert(joined(&c)) {
                return Some(c);
            }
        }
        None
    }
}

/// Product and line identities, and which products of line-named types are listed.
#[derive(Default)]
pub(crate) struct Registry {
    codes: CodePool,
    next_product: usize,
    next_line: usize,
    /// (type, brand, line) to its line id.
    lines: BTreeMap<(usize, usize, usize), usize>,
    /// (type, brand, line, size) to its product id.
    products: BTreeMap<(usize, usize, usize, usize), usize>,
    /// The sizes each line with variants is listed in: a line never repeats one.
    sizes: BTreeMap<usize, BTreeSet<usize>>,
}

impl Registry {
    /// Every (brand, line) of a line-named type is listed: new products go to other types.
    fn exhausted(&self, t: usize) -> bool {
        let ty = &TYPES[t];
        match ty.ident {
            Ident::Line(lines) => {
                self.lines.range((t, 0, 0)..(t + 1, 0, 0)).count() >= ty.brands.len() * lines.len()
            }
            _ => false,
        }
    }

    fn product(&mut self) -> usize {
        self.next_product += 1;
        self.next_product
    }

    fn line(&mut self) -> usize {
        self.next_line += 1;
        self.next_line
    }
}

/// What the generator knows about the product a catalog row lists, and the parts its title
/// is written from.
#[derive(Clone)]
pub(crate) struct Listing {
    /// Rows with one `product` list the same product (DU004); products of one `line` are
    /// variants of each other (DU005).
    pub product: usize,
    pub line: usize,
    ty: usize,
    brand: String,
    /// Adjectives, or the line's name and words, and the noun, in title order.
    words: Vec<String>,
    noun: &'static str,
    /// The model code or style number, as this listing writes it.
    code: Option<String>,
    /// Index into the type's `sizes`.
    size: Option<usize>,
    /// The size as this listing writes it.
    size_text: Option<String>,
    spec: Option<&'static str>,
    new_season: bool,
    /// (brand, line) indices of a line-named type.
    line_key: Option<(usize, usize)>,
}

/// Where a title names the brand.
#[derive(Clone, Copy, PartialEq, Eq)]
enum BrandAt {
    Front,
    End,
    Dropped,
}

/// How one listing's title is written: as first listed, or re-listed by a shop.
#[derive(Clone, Copy)]
struct Writing {
    brand: BrandAt,
    /// A tag shops prepend when re-listing (`官方正品`, `New`).
    tag: Option<&'static str>,
    /// The model code after the words instead of after the brand.
    code_last: bool,
}

const FIRST_LISTING: Writing = Writing {
    brand: BrandAt::Front,
    tag: None,
    code_last: false,
};

const ZH_TAGS: &[&str] = &["官方正品", "正品保障", "旗舰店", "现货"];
const EN_TAGS: &[&str] = &["New", "Brand New", "Official", "Authentic"];

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// A new product of type `t`: a fresh model code or style number, or for line-named types a
/// (brand, line) not listed yet, so that no two products are variants or duplicates by chance.
fn new_listing(rng: &mut Rng, t: usize, reg: &mut Registry) -> Listing {
    let ty = &TYPES[t];
    let new_season = ty.lang == Lang::Zh && rng.chance(0.15);
    match ty.ident {
        Ident::Line(lines) => {
            // `make_row` draws another type once every (brand, line) is listed.
            let unused: Vec<(usize, usize)> = (0..ty.brands.len())
                .flat_map(|b| (0..lines.len()).map(move |l| (b, l)))
                .filter(|&(b, l)| !reg.lines.contains_key(&(t, b, l)))
                .collect();
            let (b, l) = *rng.pick(&unused);
            let line = reg.line();
            reg.lines.insert((t, b, l), line);
            let z = rng.below(ty.sizes.len().max(1));
            let product = reg.product();
            reg.products.insert((t, b, l, z), product);
            // The tagline's two halves come from two other lines, shifted by brand at two
            // strides: no two brands share both halves for any line, so a listing whose brand
            // is missing still reads as its own product.
            let n = lines.len();
            let first = lines[(l + b * 5) % n].1.split(' ').next();
            let rest = lines[(l + b * 7) % n].1.split(' ').skip(1);
            let mut w: Vec<String> = vec![lines[l].0.to_string()];
            w.extend(first.into_iter().chain(rest).map(str::to_string));
            let noun = ty.nouns[l % ty.nouns.len()];
            w.push(noun.to_string());
            Listing {
                product,
                line,
                ty: t,
                brand: ty.brands[b].to_string(),
                words: w,
                noun,
                code: None,
                size: (!ty.sizes.is_empty()).then_some(z),
                size_text: ty.sizes.get(z).map(|s| s.to_string()),
                spec: None,
                new_season: false,
                line_key: Some((b, l)),
            }
        }
        Ident::Model(pattern) | Ident::Style(pattern) => {
            let brand = *rng.pick(ty.brands);
            let noun = *rng.pick(ty.nouns);
            let n_adj = if rng.chance(0.45) { 2 } else { 1 };
            let mut words: Vec<String> = rng
                .sample(ty.adjectives, n_adj)
                .iter()
                .map(|s| s.to_string())
                .collect();
            words.push(noun.to_string());
            let size = (!ty.sizes.is_empty()).then(|| rng.below(ty.sizes.len()));
            let spec = rng.chance(0.4).then(|| *rng.pick(ty.specs));
            Listing {
                product: reg.product(),
                line: reg.line(),
                ty: t,
                brand: brand.to_string(),
                words,
                noun,
                code: Some(reg.codes.fresh(rng, pattern)),
                size,
                size_text: size.map(|z| ty.sizes[z].to_string()),
                spec,
                new_season,
                line_key: None,
            }
        }
    }
}

/// The title of a listing written one way.
fn render(l: &Listing, w: Writing) -> String {
    let ty = &TYPES[l.ty];
    let style = matches!(ty.ident, Ident::Style(_));
    let code_front = !style && !w.code_last;
    let mut head: Vec<String> = Vec::new();
    let mut tail: Vec<String> = Vec::new();
    if let Some(tag) = w.tag {
        head.push(match ty.lang {
            Lang::Zh => format!("【{tag}】"),
            Lang::En => tag.to_string(),
        });
    }
    if w.brand == BrandAt::Front {
        head.push(l.brand.clone());
    }
    if let (true, Some(c)) = (code_front, &l.code) {
        head.push(c.clone());
    }
    if l.new_season {
        head.push("2025新款".into());
    }
    head.extend(l.words.iter().cloned());
    tail.extend(l.size_text.iter().cloned());
    tail.extend(l.spec.map(str::to_string));
    if let (false, Some(c)) = (code_front, &l.code) {
        tail.push(match (ty.lang, style) {
            (Lang::Zh, true) => format!("货号{c}"),
            (Lang::En, true) => format!("Style #{c}"),
            _ => c.clone(),
        });
    }
    match ty.lang {
        Lang::Zh => {
            head.extend(tail);
            if w.brand == BrandAt::End {
                head.push(l.brand.clone());
            }
            head.join(" ")
        }
        Lang::En => {
            let mut t = head.join(" ");
            for x in tail {
                t.push_str(", ");
                t.push_str(&x);
            }
            if w.brand == BrandAt::End {
                t.push_str(" - ");
                t.push_str(&l.brand);
            }
            t
        }
    }
}

/// The same product listed again the way shops re-list: words reordered, the brand moved or
/// dropped, the code without its hyphen, in lower case or full width, a tag added.
fn relisted_title(rng: &mut Rng, l: &Listing, original: &str) -> String {
    let tags = match TYPES[l.ty].lang {
        Lang::Zh => ZH_TAGS,
        Lang::En => EN_TAGS,
    };
    for _ in 0..50 {
        let mut r = l.clone();
        rng.shuffle(&mut r.words);
        if let Some(c) = &l.code {
            r.code = Some(match rng.below(4) {
                0 => c.replace('-', ""),
                1 => c.to_lowercase(),
                2 => full_width(c),
                _ => c.to_lowercase().replace('-', ""),
            });
        }
        if rng.chance(0.3) {
            r.size_text = r.size_text.as_deref().map(full_width);
        }
        let w = Writing {
            brand: *rng.pick(&[BrandAt::Front, BrandAt::End, BrandAt::Dropped]),
            tag: rng.chance(0.6).then(|| *rng.pick(tags)),
            code_last: rng.chance(0.3),
        };
        let t = render(&r, w);
        if t != original && title_is_clean(&t) {
            return t;
        }
    }
    format!("{} {original}", tags[0])
}

/// Another size, capacity or colour of the listing's product line: a sibling model code for
/// coded types, the same line for line-named ones. `None` when the type has no other size
/// left for this line.
fn variant_of(rng: &mut Rng, l: &Listing, reg: &mut Registry) -> Option<Listing> {
    let ty = &TYPES[l.ty];
    let z0 = l.size?;
    let taken = reg
        .sizes
        .entry(l.line)
        .or_insert_with(|| BTreeSet::from([z0]));
    let free: Vec<usize> = (0..ty.sizes.len()).filter(|z| !taken.contains(z)).collect();
    if free.is_empty() {
        return None;
    }
    let z = *rng.pick(&free);
    taken.insert(z);
    let mut v = l.clone();
    v.size = Some(z);
    v.size_text = Some(ty.sizes[z].to_string());
    if let Some(c) = &l.code {
        v.code = Some(reg.codes.sibling(rng, c)?);
    }
    v.product = reg.product();
    if let Some((b, k)) = l.line_key {
        reg.products.insert((l.ty, b, k, z), v.product);
    }
    Some(v)
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

fn make_row(rng: &mut Rng, skus: &mut SkuPool, reg: &mut Registry) -> Row {
    let mut t = rng.below(TYPES.len());
    while reg.exhausted(t) {
        t = rng.below(TYPES.len());
    }
    let ty = &TYPES[t];
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
    // A short Chinese title of capitals and codes (`OPPO VPB-SJ18 5G 手机 128GB`) reads as
    // shouting (TX006): draw another product.
    let mut listing = new_listing(rng, t, reg);
    for _ in 0..50 {
        if title_is_clean(&render(&listing, FIRST_LISTING)) {
            break;
        }
        listing = new_listing(rng, t, reg);
    }
    let title = render(&listing, FIRST_LISTING);
    let brand = listing.brand.clone();
    let cells = vec![
        skus.fresh(rng),
        title,
        make_description(rng, ty, &brand, listing.noun),
        brand,
        ty.category.to_string(),
        format_price(price, cur, rng.below(3)),
        cur.code().to_string(),
        time::format_date(created),
        stock.to_string(),
    ];
    let mut row = Row::new(cells, t);
    row.num = price;
    row.listing = Some(listing);
    row
}

/// A new row for the product `orig` lists, under a new sku: title re-listed, price within
/// 10 %, everything else as the original.
fn relisting(rng: &mut Rng, orig: &Row, skus: &mut SkuPool) -> Row {
    let listing = orig.listing.clone().expect("catalog rows have a listing");
    let mut row = Row::new(orig.cells.clone(), orig.ty);
    row.cells[SKU] = skus.fresh(rng);
    row.cells[TITLE] = relisted_title(rng, &listing, &orig.cells[TITLE]);
    let cur = Currency::of(&orig.cells[CURRENCY]);
    let p = round_shop(orig.num * (0.92 + 0.16 * rng.f64()), cur, rng);
    row.cells[PRICE] = format_price(p, cur, rng.below(3));
    row.num = p;
    // Tagged by `tag_listings` once every row is in place; until then taken.
    row.reserved = true;
    row.listing = Some(listing);
    row
}

/// A new row for another size, capacity or colour of `orig`'s product line, priced by size
/// (a quarter more per step up; colours alike), or `None` when the line has no size left.
fn variant_row(rng: &mut Rng, orig: &Row, skus: &mut SkuPool, reg: &mut Registry) -> Option<Row> {
    let l = orig.listing.as_ref().expect("catalog rows have a listing");
    let v = variant_of(rng, l, reg)?;
    let ty = &TYPES[orig.ty];
    let mut row = Row::new(orig.cells.clone(), orig.ty);
    row.cells[SKU] = skus.fresh(rng);
    row.cells[TITLE] = render(&v, FIRST_LISTING);
    let cur = Currency::of(&orig.cells[CURRENCY]);
    let (z0, z) = (l.size.unwrap_or(0) as i32, v.size.unwrap_or(0) as i32);
    let ordered = ty
        .sizes
        .iter()
        .all(|s| s.bytes().any(|b| b.is_ascii_digit()));
    let factor = if ordered {
        1.25f64.powi(z - z0)
    } else {
        0.95 + 0.1 * rng.f64()
    };
    let m = ty.median * cur.rate();
    let p = round_shop((orig.num * factor).clamp(m / 2.4, m * 2.4), cur, rng);
    row.cells[PRICE] = format_price(p, cur, rng.below(3));
    row.num = p;
    row.reserved = true;
    row.listing = Some(v);
    Some(row)
}

/// Records DU004 and DU005 from what the generator knows, once every row is in place. DU004:
/// every row of a product listed more than once except the record duplicate-products keeps —
/// the most complete (brand, price, description), then the longest title, then the earliest.
/// DU005: that kept row of every product whose line has other products.
fn tag_listings(rows: &mut [Row]) {
    let mut by_product: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(l) = &r.listing
            && !is_blank(&r.cells[TITLE])
        {
            by_product.entry(l.product).or_default().push(i);
        }
    }
    let completeness = |r: &Row| {
        let filled = usize::from(!is_blank(&r.cells[BRAND]))
            + usize::from(parse_price(&r.cells[PRICE]).is_some())
            + usize::from(!is_blank(&r.cells[DESCRIPTION]));
        (filled, r.cells[TITLE].chars().count())
    };
    let mut by_line: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for members in by_product.values() {
        let kept = *members
            .iter()
            .max_by(|&&a, &&b| {
                completeness(&rows[a])
                    .cmp(&completeness(&rows[b]))
                    .then(b.cmp(&a))
            })
            .expect("a product has rows");
        for &i in members.iter().filter(|&&i| i != kept) {
            let note = format!("lists the product of row {kept} again");
            rows[i].tag("DU004", note);
        }
        let line = rows[kept]
            .listing
            .as_ref()
            .expect("grouped by listing")
            .line;
        by_line.entry(line).or_default().push(kept);
    }
    for kept in by_line.into_values().filter(|k| k.len() > 1) {
        for &i in &kept {
            let others: Vec<String> = kept
                .iter()
                .filter(|&&k| k != i)
                .map(|k| k.to_string())
                .collect();
            let note = format!(
                "variant of row {} (another size, capacity or colour)",
                others.join(", row ")
            );
            rows[i].tag("DU005", note);
        }
    }
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
    // A shop that stuffs its title still names its model: the code keeps the row one product.
    let code = row
        .listing
        .as_ref()
        .and_then(|l| l.code.as_deref())
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    match (ty.lang, variant % 2) {
        (Lang::En, 0) => {
            let a = rng.pick(&["cheap", "best", "sale"]);
            vec![format!("{a} {noun}"); 4].join(" ")
        }
        (Lang::En, _) => format!("{brand} {noun} {noun} {noun} {noun} free shipping{code}"),
        (Lang::Zh, 0) => {
            let sub = ty.category.split(" > ").nth(1).unwrap_or("热卖");
            format!("{noun} {noun} {noun} {noun} {sub}")
        }
        (Lang::Zh, _) => format!("{brand} {noun} 正品 {noun} 包邮 {noun} 特价 {noun}{code}"),
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
    let mut reg = Registry::default();
    let mut rows: Vec<Row> = (0..n).map(|_| make_row(rng, skus, &mut reg)).collect();
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
    // One garbled title per brand: two rows with the same garbled title and brand would read as
    // one product listed twice.
    let mut garbled: BTreeSet<(String, String)> = BTreeSet::new();
    for (j, i) in choose(rng, &rows, k, has_gbk).into_iter().enumerate() {
        if let Some((c, text, note)) = mojibake(&rows[i], j) {
            if c == TITLE && !garbled.insert((text.clone(), rows[i].cells[BRAND].clone())) {
                continue;
            }
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
        copy.listing = rows[i].listing.clone();
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
        dup.listing = orig.listing.clone();
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
            let listing = orig.listing.as_ref().expect("catalog rows have a listing");
            dup.cells[TITLE] = relisted_title(rng, listing, &orig.cells[TITLE]);
            dup.tag(
                "DU002",
                format!("sku {} re-listed with another title", orig.cells[SKU]),
            );
        }
        let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
        rows.insert(at, dup);
    }

    // DU004: a product listed again under a new sku, re-written the way shops re-list, at a
    // price within 10 %; some twice.
    for j in 0..count(n, 0.02) {
        let i = choose(rng, &rows, 1, |_| true)[0];
        rows[i].reserved = true;
        for _ in 0..if j % 4 == 0 { 2 } else { 1 } {
            let dup = relisting(rng, &rows[i], skus);
            let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
            rows.insert(at, dup);
        }
    }
    // DU005: the same product line in another size, capacity or colour, under a new sku.
    let has_sizes = |r: &Row| TYPES[r.ty].sizes.len() >= 2;
    for j in 0..count(n, 0.015) {
        let Some(&i) = choose(rng, &rows, 1, has_sizes).first() else {
            break;
        };
        rows[i].reserved = true;
        for _ in 0..if j % 3 == 0 { 2 } else { 1 } {
            let Some(v) = variant_row(rng, &rows[i], skus, &mut reg) else {
                break;
            };
            let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
            rows.insert(at, v);
        }
    }
    tag_listings(&mut rows);

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
