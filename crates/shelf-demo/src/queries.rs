//! The query set: distinct realistic Chinese and English shop queries, plus defects.

use std::collections::HashSet;

use crate::oracle::normalize_query;
use crate::rng::Rng;
use crate::vocab::{EN_QUERY_FILLERS, Lang, ProductType, TYPES, ZH_QUERY_FILLERS, pad_words};
use crate::{Row, choose, count, oracle, time};

pub(crate) const HEADER: [&str; 3] = ["query_id", "query", "timestamp"];

pub(crate) mod col {
    pub(crate) const QUERY_ID: usize = 0;
    pub(crate) const QUERY: usize = 1;
    pub(crate) const TIMESTAMP: usize = 2;
}
use col::*;

/// A clean query, as events and judgments use it.
pub(crate) struct Query {
    pub id: String,
    pub text: String,
    pub ty: usize,
    /// The brand the query names, if any.
    pub brand: Option<&'static str>,
}

fn candidates(ty: &ProductType) -> Vec<String> {
    let mut out = Vec::new();
    match ty.lang {
        Lang::Zh => {
            for n in ty.nouns {
                out.push(n.to_string());
                out.push(format!("{n}推荐"));
                out.push(format!("{n}哪个牌子好"));
                for b in ty.brands {
                    out.push(format!("{b}{n}"));
                }
                for a in ty.adjectives {
                    out.push(format!("{a}{n}"));
                    out.push(format!("{} {a}{n}", ty.brands[a.len() % ty.brands.len()]));
                }
                for s in ty.sizes.iter().chain(ty.specs) {
                    out.push(format!("{n} {s}"));
                }
            }
        }
        Lang::En => {
            let under = ((ty.median * 1.3 / 50.0).round() * 50.0).max(20.0);
            for n in ty.nouns {
                let n = n.to_lowercase();
                out.push(n.clone());
                out.push(format!("best {n}"));
                out.push(format!("cheap {n}"));
                out.push(format!("{n} under {under}"));
                for (i, b) in ty.brands.iter().enumerate() {
                    // Some shoppers keep the brand's capitals.
                    let b = if i % 3 == 0 {
                        b.to_string()
                    } else {
                        b.to_lowercase()
                    };
                    out.push(format!("{b} {n}"));
                }
                for a in ty.adjectives {
                    out.push(format!("{} {n}", a.to_lowercase()));
                }
                for s in ty.sizes.iter().chain(ty.specs) {
                    out.push(format!("{n} {}", s.to_lowercase()));
                }
            }
        }
    }
    out
}

/// The brand a query names (first match), for relevance labels.
pub(crate) fn brand_of(ty: usize, text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    TYPES[ty]
        .brands
        .iter()
        .copied()
        .find(|b| t.contains(&b.to_lowercase()))
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Another spelling of `q` that normalizes the same (`iPhone12` / `ＩＰＨＯＮＥ　１２`).
fn variant(rng: &mut Rng, q: &str, ty: usize) -> String {
    let start = rng.below(5);
    for k in 0..5 {
        let v = match (start + k) % 5 {
            0 => q.to_uppercase(),
            1 if q.contains(' ') => q.replace(' ', ""),
            1 => match brand_of(ty, q) {
                Some(b) if q.starts_with(b) => format!("{b} {}", &q[b.len()..]),
                _ => continue,
            },
            2 => full_width(&q.to_uppercase()),
            3 => format!("{q}{}", rng.pick(&["?", "!", "。", "？"])),
            _ => q
                .split(' ')
                .map(|w| {
                    let mut cs = w.chars();
                    cs.next()
                        .map(|c| c.to_uppercase().chain(cs).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" "),
        };
        if v != q {
            return v;
        }
    }
    format!("{q}!")
}

/// A query past 100 characters: a shopper typing a whole wish list into the search box.
fn long_query(rng: &mut Rng, ty: usize) -> String {
    let t = &TYPES[ty];
    let brand = *rng.pick(t.brands);
    let noun = *rng.pick(t.nouns);
    let (base, fillers) = match t.lang {
        Lang::Zh => (format!("{brand}{noun}"), ZH_QUERY_FILLERS),
        Lang::En => (format!("{brand} {noun}"), EN_QUERY_FILLERS),
    };
    pad_words(rng, base, ty, fillers, " ", 100, |_| true).to_lowercase()
}

pub(crate) fn build(rng: &mut Rng, n_clean: usize) -> (Vec<Row>, Vec<Query>) {
    let mut per_type: Vec<Vec<String>> = TYPES
        .iter()
        .map(|t| {
            let mut c = candidates(t);
            rng.shuffle(&mut c);
            c
        })
        .collect();
    let mut order: Vec<usize> = (0..TYPES.len()).collect();
    rng.shuffle(&mut order);
    let mut seen = HashSet::new();
    let mut rows: Vec<Row> = Vec::new();
    // Round-robin over types so every type gets queries; clean queries stay distinct after
    // QU002's normalization.
    while rows.len() < n_clean && per_type.iter().any(|c| !c.is_empty()) {
        for &t in &order {
            if rows.len() >= n_clean {
                break;
            }
            while let Some(q) = per_type[t].pop() {
                if seen.insert(normalize_query(&q)) {
                    rows.push(Row::new(vec![String::new(), q, String::new()], t));
                    break;
                }
            }
        }
    }
    rng.shuffle(&mut rows);

    let k = count(rows.len(), 0.02);
    for _ in 0..k {
        let t = rng.below(TYPES.len());
        let mut r = Row::new(vec![String::new(), long_query(rng, t), String::new()], t);
        let n = r.cells[QUERY].chars().count();
        r.tag("QU003", format!("pasted spec sheet, {n} characters"));
        let at = rng.below(rows.len() + 1);
        rows.insert(at, r);
    }
    for j in 0..k {
        let v = ["", " ", "\u{3000}", "\t", "  "][j % 5];
        let mut r = Row::new(vec![String::new(), v.to_string(), String::new()], 0);
        r.tag("QU001", format!("query {v:?}"));
        let at = rng.below(rows.len() + 1);
        rows.insert(at, r);
    }
    for _ in 0..count(rows.len(), 0.03) {
        let i = choose(rng, &rows, 1, |_| true)[0];
        rows[i].reserved = true;
        let (q, t) = (rows[i].cells[QUERY].clone(), rows[i].ty);
        let v = variant(rng, &q, t);
        debug_assert_eq!(oracle::normalize_query(&v), oracle::normalize_query(&q));
        let mut r = Row::new(vec![String::new(), v, String::new()], t);
        r.tag("QU002", format!("re-spelling of {q:?}"));
        let at = rng.range(i as i64 + 1, rows.len() as i64) as usize;
        rows.insert(at, r);
    }

    let (start, end) = oracle::window();
    let mut stamps: Vec<i64> = (0..rows.len()).map(|_| rng.range(start, end)).collect();
    stamps.sort_unstable();
    let mut clean = Vec::new();
    for (i, (r, ts)) in rows.iter_mut().zip(stamps).enumerate() {
        r.cells[QUERY_ID] = format!("q{:05}", i + 1);
        r.cells[TIMESTAMP] = time::format_ts(ts);
        if r.tags.is_empty() {
            clean.push(Query {
                id: r.cells[QUERY_ID].clone(),
                text: r.cells[QUERY].clone(),
                ty: r.ty,
                brand: brand_of(r.ty, &r.cells[QUERY]),
            });
        }
    }
    (rows, clean)
}
