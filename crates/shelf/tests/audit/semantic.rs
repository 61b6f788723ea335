//! The embedder-driven category checks on real data. BigBasket with 20% of its category paths
//! (all three levels) blanked: uncategorized-item (CA002) must suggest them back, measured as
//! top-1 accuracy per level of the path; category-mismatch (CA001) is run on the same audit
//! and its flags are printed for a look.
//!
//! `SHELF_BIGBASKET_ROWS` (default 4,000, or `all`) sets the sample; `SHELF_TEST_EMBEDDER` the
//! model (default the installed all-minilm-l6-v2). The figures in the note come from
//! `SHELF_BIGBASKET_ROWS=all cargo test -p shelf --test audit bigbasket_categories -- --nocapture`.

use std::collections::BTreeMap;

use serde_json::Value;
use shelf::{AuditSpec, Config, audit};
use shelf_core::TableKind;

use super::data;

/// Keeps every `stride`-th row (spread over the whole file) and blanks the category path of
/// one row in five, chosen by a hash of its position; returns the hidden paths by row id.
fn sample_with_hidden_categories(
    src: &std::path::Path,
    dst: &std::path::Path,
    rows: Option<usize>,
) -> BTreeMap<u64, Vec<String>> {
    let mut reader = csv::Reader::from_path(src).unwrap();
    let header = reader.headers().unwrap().clone();
    let all: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let stride = rows.map_or(1, |n| (all.len() / n).max(1));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let levels = [col("category"), col("sub_category"), col("type")];
    let mut writer = csv::Writer::from_path(dst).unwrap();
    writer.write_record(&header).unwrap();
    let mut hidden = BTreeMap::new();
    for (row_id, record) in all
        .iter()
        .step_by(stride)
        .take(rows.unwrap_or(usize::MAX))
        .enumerate()
    {
        let mut fields: Vec<String> = record.iter().map(str::to_string).collect();
        let h = (row_id as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 33;
        if h.is_multiple_of(5) && levels.iter().all(|&l| !fields[l].trim().is_empty()) {
            hidden.insert(
                row_id as u64,
                levels
                    .iter()
                    .map(|&l| fields[l].trim().to_string())
                    .collect(),
            );
            for &l in &levels {
                fields[l].clear();
            }
        }
        writer.write_record(&fields).unwrap();
    }
    writer.flush().unwrap();
    hidden
}

#[test]
fn bigbasket_categories() {
    let Some(src) = data("bigbasket/products.csv") else {
        return;
    };
    let rows = match std::env::var("SHELF_BIGBASKET_ROWS").as_deref() {
        Ok("all") => None,
        Ok(n) => Some(
            n.parse()
                .expect("SHELF_BIGBASKET_ROWS is a number or `all`"),
        ),
        Err(_) => Some(4000),
    };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("products.csv");
    let hidden = sample_with_hidden_categories(&src, &csv, rows);

    let embedder = std::env::var("SHELF_TEST_EMBEDDER").unwrap_or_else(|_| {
        shelf_lm::models::resolve("all-minilm-l6-v2", &shelf_lm::models::default_dir())
            .unwrap_or_else(|e| panic!("{e}"))
            .to_string_lossy()
            .into_owned()
    });
    let mut config = Config::default();
    config.lm.embedder = Some(embedder.clone());
    config.lm.threads = Some(1);
    config.lm.cache_dir = Some(dir.path().join("lm-cache"));
    let mut vote = toml::Table::new();
    vote.insert("max_listed".into(), toml::Value::Integer(1_000_000));
    config.checks.insert("uncategorized-item".into(), vote);
    let spec = AuditSpec {
        tables: vec![(TableKind::Catalog, csv)],
        preset: Some("bigbasket".into()),
        encoding: None,
        config,
    };
    let started = std::time::Instant::now();
    let report = audit(&spec, &|_| {}).expect("audit runs");
    let secs = started.elapsed().as_secs_f64();

    let finding = |code: &str| report.findings.iter().find(|f| f.code == code);
    let ca002 = finding("CA002").expect("CA002 suggests the hidden categories");
    let suggestions = ca002.evidence["suggestions"].as_array().unwrap();
    assert_eq!(
        ca002.rows_affected,
        hidden.len() as u64,
        "every hidden row is reported"
    );
    assert_eq!(suggestions.len(), hidden.len(), "and gets a suggestion");
    let mut right = [0usize; 3];
    for s in suggestions {
        let row = s["row_id"].as_u64().unwrap();
        let truth = &hidden[&row];
        let got: Vec<&str> = s["value"].as_str().unwrap().split(" > ").collect();
        for (level, right) in right.iter_mut().enumerate() {
            if got.len() > level && (0..=level).all(|l| got[l] == truth[l]) {
                *right += 1;
            }
        }
    }
    let n = hidden.len() as f64;
    let acc: Vec<f64> = right.iter().map(|&r| r as f64 / n).collect();
    eprintln!(
        "bigbasket categories ({embedder}): {} rows, {} hidden, top-1 accuracy by level \
         (path prefix) {:.3} / {:.3} / {:.3}, audit {secs:.1} s",
        report.tables[0].rows,
        hidden.len(),
        acc[0],
        acc[1],
        acc[2]
    );
    assert!(
        acc[0] >= 0.85,
        "top-level accuracy {:.3} below the goal 0.85",
        acc[0]
    );
    assert!(acc[1] <= acc[0] && acc[2] <= acc[1]);

    if let Some(ca001) = finding("CA001") {
        eprintln!(
            "category-mismatch: {} items, strongest:",
            ca001.rows_affected
        );
        for s in ca001.evidence["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .take(15)
        {
            let ex = &s["row_id"];
            eprintln!(
                "  row {ex}: {} -> {} (margin {})",
                s["category"].as_str().unwrap_or(""),
                s["value"].as_str().unwrap_or(""),
                s["score"]
            );
        }
        // Hidden rows have no category, so they cannot be mismatches.
        let flagged: Vec<u64> = ca001.evidence["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["row_id"].as_u64())
            .collect();
        assert!(flagged.iter().all(|r| !hidden.contains_key(r)));
        let _: &Value = &ca001.evidence["reviewed"];
    }
}

/// A bilingual catalog: four products listed once in Chinese and once in English, a storage
/// variant, and unrelated items. Without an embedder the translations share too few characters
/// to match; with multilingual-e5-small they are duplicates and the variant stays apart.
#[test]
#[ignore = "not met yet: with multilingual-e5-small at semantic_floor 0.80 / ceiling 0.95 only the \
            LEGO pair (shared model code) matches; e5-small puts unrelated zh titles at 0.83-0.88, \
            inside the 0.86-0.95 band of translations, so the rescaling needs tuning (issue 4)"]
fn translated_titles_match_with_a_multilingual_embedder() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("catalog.csv");
    let items = [
        ("zh-1", "苹果 iPhone 15 Pro Max 256GB 黑色", "9999"),
        ("en-1", "Apple iPhone 15 Pro Max 256GB Black", "9899"),
        ("zh-2", "索尼 WH-1000XM5 无线降噪耳机 黑色", "2499"),
        (
            "en-2",
            "Sony WH-1000XM5 Wireless Noise Cancelling Headphones, Black",
            "2599",
        ),
        ("zh-3", "戴森 V12 Detect Slim 无绳吸尘器", "4490"),
        (
            "en-3",
            "Dyson V12 Detect Slim Cordless Vacuum Cleaner",
            "4390",
        ),
        ("zh-4", "乐高 经典系列 11021 创意积木盒 90周年", "299"),
        (
            "en-4",
            "LEGO Classic 11021 Creative Brick Box 90 Years of Play",
            "289",
        ),
        ("var-1", "Apple iPhone 15 Pro Max 512GB Black", "11999"),
        ("x-1", "不锈钢保温杯 500ml", "89"),
        ("x-2", "Cotton Bath Towel 70x140 cm, White", "59"),
        ("x-3", "有机绿茶 250克", "68"),
        ("x-4", "Stainless Steel Chef Knife 20 cm", "199"),
    ];
    let mut text = String::from("sku,title,price\n");
    for (sku, title, price) in items {
        text.push_str(&format!("{sku},\"{title}\",{price}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let pairs = |embedder: Option<String>| {
        let mut config = Config::default();
        config.lm.embedder = embedder;
        config.lm.threads = Some(1);
        let spec = AuditSpec {
            tables: vec![(TableKind::Catalog, csv.clone())],
            preset: None,
            encoding: None,
            config,
        };
        let report = audit(&spec, &|_| {}).expect("audit runs");
        let mut found: Vec<(String, String, &'static str)> = report
            .duplicate_pairs
            .unwrap_or_default()
            .into_iter()
            .map(|p| {
                let (a, b) = if p.item_a < p.item_b {
                    (p.item_a, p.item_b)
                } else {
                    (p.item_b, p.item_a)
                };
                (a, b, p.method)
            })
            .collect();
        found.sort();
        found
    };
    let translations: Vec<(String, String)> = (1..=4)
        .map(|i| (format!("en-{i}"), format!("zh-{i}")))
        .collect();
    let has = |found: &[(String, String, &str)], pair: &(String, String)| {
        found.iter().any(|(a, b, _)| (a, b) == (&pair.0, &pair.1))
    };
    let without = pairs(None);
    let missed = translations.iter().filter(|t| !has(&without, t)).count();
    assert!(
        missed >= 2,
        "characters alone already match most translations: {without:?}"
    );

    let e5 = shelf_lm::models::resolve("multilingual-e5-small", &shelf_lm::models::default_dir())
        .unwrap_or_else(|e| panic!("{e}"));
    let with = pairs(Some(e5.to_string_lossy().into_owned()));
    eprintln!("duplicate pairs with multilingual-e5-small: {with:?}");
    for t in &translations {
        assert!(has(&with, t), "{t:?} not matched: {with:?}");
    }
    assert!(
        !with.iter().any(|(a, b, _)| a == "var-1" || b == "var-1"),
        "512GB is a variant of 256GB, not a duplicate: {with:?}"
    );
    assert!(
        !with
            .iter()
            .any(|(a, b, _)| a.starts_with("x-") || b.starts_with("x-")),
        "unrelated items matched: {with:?}"
    );
}
