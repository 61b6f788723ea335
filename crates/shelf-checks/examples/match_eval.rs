//! Precision / recall / F1 of the product matcher on a Leipzig benchmark pair, straight from
//! the CSVs (no audit pipeline), for tuning:
//! `cargo run --example match_eval -p shelf-checks -- abt-buy` (or `amazon-googleproducts`),
//! optionally followed by `threshold=`, `lsh=`, `margin=`, `floor=`, `ceiling=` and
//! `embedder=NAME_OR_PATH` (the semantic signal: `embedder=multilingual-e5-small`).

use std::collections::HashSet;

use shelf_checks::dedup::{MatchParams, Product, find_duplicates_with};
use shelf_core::lm::TextKind;

fn read(path: &str) -> Vec<csv::StringRecord> {
    let bytes = std::fs::read(path).expect(path);
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut out = vec![r.headers().unwrap().clone()];
    out.extend(r.records().map(Result::unwrap));
    out
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "abt-buy".into());
    let dir = format!("../shared/data/leipzig/{which}");
    let (a, b, m) = if which == "abt-buy" {
        ("Abt.csv", "Buy.csv", "abt_buy_perfectMapping.csv")
    } else {
        (
            "Amazon.csv",
            "GoogleProducts.csv",
            "Amzon_GoogleProducts_perfectMapping.csv",
        )
    };
    let mut ids = Vec::new();
    let mut products = Vec::new();
    for (src, file) in [(0, a), (1, b)] {
        let rows = read(&format!("{dir}/{file}"));
        let h = &rows[0];
        let col = |n: &[&str]| h.iter().position(|x| n.contains(&x));
        let (id, title, desc, brand, price) = (
            col(&["id"]).unwrap(),
            col(&["name", "title"]).unwrap(),
            col(&["description"]),
            col(&["manufacturer"]),
            col(&["price"]),
        );
        for r in &rows[1..] {
            ids.push((src, r[id].to_string()));
            let get =
                |c: Option<usize>| c.map(|c| r[c].trim().to_string()).filter(|s| !s.is_empty());
            products.push(Product {
                title: r[title].to_string(),
                description: get(desc),
                brand: get(brand),
                price: get(price)
                    .and_then(|p| p.trim_start_matches('$').replace(',', "").parse().ok()),
            });
        }
    }
    let truth: HashSet<(String, String)> = read(&format!("{dir}/{m}"))[1..]
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let mut params = MatchParams::default();
    let mut embedder = None;
    for kv in std::env::args().skip(2) {
        let (k, v) = kv.split_once('=').unwrap();
        if k == "embedder" {
            let opts = shelf_lm::LmOptions {
                cache_dir: Some(shelf_lm::cache::default_dir()),
                ..shelf_lm::LmOptions::default()
            };
            embedder = Some(shelf_lm::open_embedder(v, &opts).unwrap());
            continue;
        }
        let v: f64 = v.parse().unwrap();
        match k {
            "threshold" => params.threshold = v,
            "lsh" => params.lsh_threshold = v,
            "margin" => params.margin = v,
            "floor" => params.semantic_floor = v,
            "ceiling" => params.semantic_ceiling = v,
            _ => panic!("{k}"),
        }
    }
    let embeddings = embedder.map(|e| {
        let titles: Vec<&str> = products.iter().map(|p| p.title.as_str()).collect();
        e.embed(&titles, TextKind::Passage).unwrap()
    });
    let t = std::time::Instant::now();
    let found = find_duplicates_with(&products, &params, embeddings.as_ref());
    let secs = t.elapsed().as_secs_f64();
    let mut cross = HashSet::new();
    let mut within = 0;
    for p in &found.duplicates {
        let (x, y) = (&ids[p.a as usize], &ids[p.b as usize]);
        if x.0 == y.0 {
            within += 1;
            continue;
        }
        let (l, r) = if x.0 == 0 { (x, y) } else { (y, x) };
        cross.insert((l.1.clone(), r.1.clone()));
    }
    let tp = cross.intersection(&truth).count() as f64;
    let (p, r) = (tp / cross.len().max(1) as f64, tp / truth.len() as f64);
    println!(
        "{which}: {} items, {} candidates, {} cross pairs ({within} within one shop), P {p:.3} R {r:.3} F1 {:.3}, {secs:.2}s; {} variant groups",
        products.len(),
        found.candidates,
        cross.len(),
        2.0 * p * r / (p + r),
        found.variant_groups.len()
    );
    if std::env::var("SHOW").is_ok() {
        let title = |i: u32| products[i as usize].title.clone();
        let mut shown = 0;
        for p in &found.duplicates {
            let (x, y) = (&ids[p.a as usize], &ids[p.b as usize]);
            let key = if x.0 == 0 {
                (x.1.clone(), y.1.clone())
            } else {
                (y.1.clone(), x.1.clone())
            };
            if x.0 != y.0 && !truth.contains(&key) && shown < 25 {
                shown += 1;
                println!(
                    "FP {:.2} {} | {} | {:?}",
                    p.verdict.score,
                    title(p.a),
                    title(p.b),
                    p.verdict.reasons
                );
            }
        }
    }
}
