//! End-to-end audits: the built-in example store against its ground truth, and the real
//! datasets in ../shared/data (CI has them; elsewhere a missing folder skips with a reason).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use shelf::{AuditSpec, Config, audit};
use shelf_core::{Finding, TableKind};
use shelf_report::AuditReport;

#[path = "audit/bots.rs"]
mod bots;
#[path = "audit/check_fixtures.rs"]
mod check_fixtures;
#[path = "audit/lift.rs"]
mod lift;
#[path = "support/real_data.rs"]
mod real_data;
#[path = "audit/semantic.rs"]
mod semantic;

use real_data::data;

/// The crate's directory as `cargo test` reports it when the test runs. The
/// compile-time value would be wrong when a shared target dir holds a binary
/// built from a checkout at another path.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn run(tables: Vec<(TableKind, PathBuf)>, preset: Option<&str>) -> AuditReport {
    let spec = AuditSpec {
        tables,
        preset: preset.map(str::to_string),
        encoding: None,
        config: Config::default(),
    };
    audit(&spec, &|_| {}).expect("audit runs")
}

fn rows(r: &AuditReport, code: &str, column: Option<&str>) -> u64 {
    r.findings
        .iter()
        .filter(|f| f.code == code && (column.is_none() || f.column.as_deref() == column))
        .map(|f| f.rows_affected)
        .sum()
}

fn finding<'a>(
    r: &'a AuditReport,
    code: &str,
    pred: impl Fn(&Finding) -> bool,
) -> Option<&'a Finding> {
    r.findings.iter().find(|f| f.code == code && pred(f))
}

#[test]
fn online_retail_counts_match_pandas() {
    let Some(p) = data("uci_online_retail/online_retail_raw.parquet") else {
        return;
    };
    let r = run(vec![(TableKind::Events, p)], None);
    assert_eq!(r.tables[0].rows, 541_909);
    assert_eq!(r.tables[0].preset.as_deref(), Some("uci-online-retail"));
    assert_eq!(rows(&r, "DU001", None), 5_268, "exact duplicate rows");
    assert_eq!(
        rows(&r, "MV001", Some("CustomerID")),
        135_080,
        "rows without CustomerID"
    );
    let nan = finding(&r, "MV002", |f| f.evidence["value"] == "nan")
        .expect("a finding for \"nan\" descriptions");
    assert_eq!(nan.rows_affected, 1_454);
    assert_eq!(rows(&r, "OR001", None), 9_288, "cancellation lines");
    assert_eq!(rows(&r, "NU001", None), 2_515, "zero unit prices");
    assert_eq!(rows(&r, "NU002", None), 2, "negative unit prices");
    // The same numbers are in summary.json's per-check entries.
    let summary = shelf_report::summary_json(&r);
    let checks = summary["checks"].as_array().unwrap();
    let entry = |code: &str, col: &str| {
        checks
            .iter()
            .find(|c| c["code"] == code && c["column"] == col)
            .map(|c| c["rows_affected"].as_u64().unwrap())
    };
    assert_eq!(
        entry("DU001", "").or(checks
            .iter()
            .find(|c| c["code"] == "DU001")
            .map(|c| c["rows_affected"].as_u64().unwrap())),
        Some(5_268)
    );
    assert_eq!(entry("MV001", "CustomerID"), Some(135_080));
    assert_eq!(entry("OR001", "InvoiceNo"), Some(9_288));
    assert_eq!(entry("NU001", "UnitPrice"), Some(2_515));
    assert_eq!(entry("NU002", "UnitPrice"), Some(2));
    assert!(
        summary["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "MV002" && f["rows_affected"] == 1_454)
    );
    // Row ids point into the file: row 0 is not a duplicate, and listed ids are sorted.
    let dup = finding(&r, "DU001", |_| true).unwrap();
    assert!(dup.row_ids.windows(2).all(|w| w[0] < w[1]));
    assert!(dup.row_ids_truncated && dup.row_ids.len() == 1000);
}

#[test]
fn example_store_recall_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let truth = shelf_demo::generate(dir.path(), &shelf_demo::DemoOptions::default()).unwrap();
    let mut config = Config::default();
    config.run.now = Some("2025-07-01T00:00:00Z".into());
    config.tables.insert(
        "judgments".into(),
        shelf::config::TableConfig {
            label_scale: Some([0.0, 3.0]),
            ..Default::default()
        },
    );
    let spec = AuditSpec {
        tables: vec![
            (TableKind::Catalog, dir.path().join("catalog.csv")),
            (TableKind::Events, dir.path().join("events.csv")),
            (TableKind::Queries, dir.path().join("queries.csv")),
            (TableKind::Judgments, dir.path().join("judgments.csv")),
        ],
        preset: None,
        encoding: None,
        config,
    };
    let r = audit(&spec, &|_| {}).unwrap();
    let mut found: BTreeMap<(String, String), BTreeSet<u64>> = BTreeMap::new();
    for f in &r.findings {
        // Only codes with ground truth are compared row by row.
        if truth.rows(&f.code, &f.table).is_empty() {
            continue;
        }
        assert!(
            !f.row_ids_truncated,
            "{} has too many rows for an exact comparison",
            f.code
        );
        found
            .entry((f.code.clone(), f.table.clone()))
            .or_default()
            .extend(f.row_ids.iter().copied());
    }
    let mut report = Vec::new();
    for d in &truth.defects {
        let key = (d.code.clone(), d.table.clone());
        let expected = truth.rows(&d.code, &d.table);
        let got = found.get(&key).cloned().unwrap_or_default();
        let recall = expected.intersection(&got).count() as f64 / expected.len() as f64;
        if recall < 1.0 {
            report.push(format!("{} {}: recall {recall:.2}", d.code, d.table));
        }
    }
    report.dedup();
    assert!(
        report.is_empty(),
        "checks missed injected defects: {report:?}"
    );
    // Precision: every code the ground truth covers flags (almost) only true rows. NU006 may
    // also flag NU003's absurd prices, which are outliers too, and TX007 the titles TX005
    // padded with selling tags (`透气`, `通风透气`, `网面透气不闷脚`…), which are stuffed too.
    for ((code, table), got) in &found {
        let expected = truth.rows(code, table);
        if expected.is_empty() {
            continue;
        }
        let mut allowed = expected.clone();
        if code == "NU006" {
            allowed.extend(truth.rows("NU003", table));
        }
        if code == "TX007" {
            allowed.extend(truth.rows("TX005", table));
        }
        let fp: Vec<&u64> = got.difference(&allowed).collect();
        assert!(
            fp.len() * 20 <= got.len(),
            "{code} on {table} flags rows outside the ground truth: {fp:?}"
        );
    }
}

#[test]
fn leipzig_latin1_and_dollar_prices() {
    let Some(p) = data("leipzig/abt-buy/Abt.csv") else {
        return;
    };
    let r = run(vec![(TableKind::Catalog, p)], None);
    let t = &r.tables[0];
    assert_eq!(t.rows, 1_081);
    assert_eq!(t.encoding, "windows-1252");
    assert_eq!(t.preset.as_deref(), Some("leipzig-abt"));
    // "$1,299.00"-style prices parse: no price is reported unparseable.
    assert_eq!(rows(&r, "SC001", Some("price")), 0);
    // Latin-1 decoded properly: no mojibake in titles.
    assert_eq!(rows(&r, "TX002", Some("name")), 0);
    let Some(p) = data("leipzig/amazon-googleproducts/GoogleProducts.csv") else {
        return;
    };
    let r = run(vec![(TableKind::Catalog, p)], Some("leipzig"));
    assert_eq!(r.tables[0].rows, 3_226);
    assert_eq!(
        r.tables[0].roles.get("brand").map(String::as_str),
        Some("manufacturer")
    );
}

#[test]
fn home_depot_judgments() {
    let Some(p) = data("homedepot/judgments_dev.csv") else {
        return;
    };
    let r = run(vec![(TableKind::Judgments, p)], None);
    assert_eq!(r.tables[0].rows, 37_531);
    assert_eq!(r.tables[0].preset.as_deref(), Some("homedepot"));
    assert_eq!(rows(&r, "JU003", None), 0, "relevance stays within 1–3");
    assert_eq!(rows(&r, "SC001", Some("relevance")), 0);
}

/// Floors for noisy-label (JU004) on Home Depot with 10% of the judgments flipped to the far
/// class; measured 0.93 and 0.44 on the rows the finding lists (see below); the whole table
/// gives 0.91 and 0.42 (`noisy_label_eval` example).
const NOISY_LABEL_PRECISION: f64 = 0.8;
const NOISY_LABEL_RECALL: f64 = 0.33;

/// SplitMix64, for a seeded choice of the judgments to flip.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Flips `share` of all judgments (a seeded draw from those labelled low, under 1.67, or high,
/// over 2.33: a middle label has no far class) to the mirror label on the 1–3 scale (1.33 ↔
/// 2.67, 1 ↔ 3), writes the table to `dir`, and returns the file and the flipped row ids.
fn flip_home_depot(
    src: &std::path::Path,
    dir: &std::path::Path,
    share: f64,
    seed: u64,
) -> (PathBuf, BTreeSet<u64>) {
    let mut r = csv::Reader::from_path(src).unwrap();
    let header = r.headers().unwrap().clone();
    let l = header.iter().position(|h| h == "relevance").unwrap();
    let mut rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let label = |r: &csv::StringRecord| r[l].parse::<f64>().unwrap();
    let mut far: Vec<usize> = (0..rows.len())
        .filter(|&i| !(1.66..=2.34).contains(&label(&rows[i])))
        .collect();
    let mut state = seed;
    for i in (1..far.len()).rev() {
        far.swap(i, (splitmix(&mut state) % (i as u64 + 1)) as usize);
    }
    far.truncate((share * rows.len() as f64).round() as usize);
    for &i in &far {
        let flipped = format!("{:.2}", 4.0 - label(&rows[i]));
        let mut rec: Vec<String> = rows[i].iter().map(str::to_string).collect();
        rec[l] = flipped;
        rows[i] = csv::StringRecord::from(rec);
    }
    let path = dir.join("judgments.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(&header).unwrap();
    for rec in &rows {
        w.write_record(rec).unwrap();
    }
    w.flush().unwrap();
    (path, far.iter().map(|&i| i as u64).collect())
}

#[test]
fn home_depot_noisy_labels_find_flipped_labels() {
    let Some(src) = data("homedepot/judgments_dev.csv") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (path, flipped) = flip_home_depot(&src, tmp.path(), 0.10, 7);
    assert_eq!(flipped.len(), 3753);
    let r = run(vec![(TableKind::Judgments, path)], None);
    let f = finding(&r, "JU004", |_| true).expect("a noisy-label finding");
    // A finding lists the 1000 smallest of its row ids, so precision and recall are measured
    // on the rows up to the last one listed (the flips are a uniform draw, so that prefix is a
    // fair sample); the total count is checked against the whole table.
    let flagged: BTreeSet<u64> = f.row_ids.iter().copied().collect();
    let upto = if f.row_ids_truncated {
        *f.row_ids.last().unwrap()
    } else {
        u64::MAX
    };
    let flipped_upto: BTreeSet<u64> = flipped.range(..=upto).copied().collect();
    let hits = flagged.intersection(&flipped_upto).count() as f64;
    let precision = hits / flagged.len() as f64;
    let recall = hits / flipped_upto.len() as f64;
    eprintln!(
        "home depot, 10% flipped: {} flagged in all; up to row {upto}: {} flagged, {} flipped, precision {precision:.3} recall {recall:.3}",
        f.rows_affected,
        flagged.len(),
        flipped_upto.len()
    );
    assert!(
        precision >= NOISY_LABEL_PRECISION && recall >= NOISY_LABEL_RECALL,
        "precision {precision:.3} (floor {NOISY_LABEL_PRECISION}), recall {recall:.3} (floor {NOISY_LABEL_RECALL})"
    );
    assert!(
        (1000..=4500).contains(&f.rows_affected),
        "{} flagged for 3753 flipped",
        f.rows_affected
    );
    // The evidence states the model and the strongest suspects in words.
    let shown = f.evidence["shown_suspects"].as_array().unwrap();
    assert_eq!(shown.len(), 20);
    assert!(
        shown[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("labelled ")
    );
}

#[test]
fn esci_sample_titles_come_from_the_catalog() {
    let (Some(j), Some(c)) = (
        data("esci/test-sample.parquet"),
        data("esci/sample-products.jsonl"),
    ) else {
        return;
    };
    let r = run(
        vec![(TableKind::Judgments, j), (TableKind::Catalog, c)],
        None,
    );
    // The judgments carry ASINs only; noisy-label joins the catalog's titles (the plan fails
    // loudly if that SQL breaks) and, with 16 judgments of one query, trains no model.
    let ran = r
        .checks
        .iter()
        .find(|c| c.code == "JU004")
        .expect("noisy-label planned on ESCI judgments with a catalog");
    assert_eq!(ran.table, "judgments");
    assert_eq!(ran.rows_affected, 0);
}

#[test]
fn taobao_without_header() {
    let Some(p) = data("taobao_userbehavior/UserBehavior_head.csv") else {
        return;
    };
    let r = run(vec![(TableKind::Events, p)], None);
    let t = &r.tables[0];
    assert_eq!(t.preset.as_deref(), Some("taobao-userbehavior"));
    assert_eq!(t.rows, 4_321, "first line is data, not a header");
    assert!(t.roles.contains_key("event") && t.roles.contains_key("timestamp"));
    assert_eq!(rows(&r, "SC001", None), 0, "unix seconds parse");

    // FN001 against a count made here from the file: carts and purchases (cart, buy) whose user
    // has no pv of the item at or before that second.
    let text = std::fs::read_to_string(data("taobao_userbehavior/UserBehavior_head.csv").unwrap())
        .unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    let mut first_view = std::collections::HashMap::new();
    for l in lines.iter().filter(|l| l[3] == "pv") {
        let ts: i64 = l[4].parse().unwrap();
        let v = first_view.entry((l[0], l[1])).or_insert(ts);
        *v = (*v).min(ts);
    }
    let (mut never, mut later) = (0u64, 0u64);
    for l in lines.iter().filter(|l| l[3] == "cart" || l[3] == "buy") {
        match first_view.get(&(l[0], l[1])) {
            None => never += 1,
            Some(&v) if v > l[4].parse::<i64>().unwrap() => later += 1,
            Some(_) => {}
        }
    }
    assert!(
        never + later > 0,
        "the sample has conversions without a view"
    );
    let fn001: Vec<&Finding> = r.findings.iter().filter(|f| f.code == "FN001").collect();
    let count = |key: &str| {
        fn001
            .iter()
            .filter(|f| f.evidence.to_string().contains(key))
            .map(|f| f.rows_affected)
            .sum::<u64>()
    };
    assert_eq!(
        (count("never_viewed"), count("viewed_later")),
        (never, later),
        "{fn001:#?}"
    );
}

#[test]
fn icecat_zipped_json() {
    let Some(p) = data("icecat/1.json.zip") else {
        return;
    };
    let r = run(vec![(TableKind::Catalog, p)], None);
    let t = &r.tables[0];
    assert_eq!(t.preset.as_deref(), Some("icecat"));
    assert!(t.rows > 4_000, "rows: {}", t.rows);
    assert!(t.columns.iter().any(|c| c.starts_with("attr_t_")));
    // Icecat repeats titles under different EANs, but item ids are unique.
    assert_eq!(rows(&r, "DU002", None), 0);
}

#[test]
fn multicpr_chinese_queries() {
    let Some(p) = data("multicpr_ecom/dev.query.txt") else {
        return;
    };
    let r = run(vec![(TableKind::Queries, p)], None);
    let t = &r.tables[0];
    assert_eq!(t.preset.as_deref(), Some("multicpr-queries"));
    assert_eq!(t.rows, 1_000);
    assert_eq!(t.encoding, "UTF-8");
    assert_eq!(rows(&r, "TX002", None), 0, "Chinese text is not mojibake");
}

#[test]
fn diginetica_semicolons_and_na() {
    let Some(p) = data("diginetica/sample_train-item-views.csv") else {
        return;
    };
    let r = run(vec![(TableKind::Events, p)], None);
    let t = &r.tables[0];
    assert_eq!(t.preset.as_deref(), Some("diginetica"));
    assert_eq!(t.rows, 12_391);
    assert_eq!(t.columns.len(), 5, "split on ';'");
    let na = finding(&r, "MV002", |f| f.column.as_deref() == Some("user_id"))
        .expect("NA user ids are reported");
    assert_eq!(na.evidence["value"], "NA");
}

/// Floors under the measured F1 (0.844 and 0.544 when set; 0.836 and 0.522 since variety
/// variants: flavours swapped in titles without codes, which cost Amazon-Google the software
/// titles that swap `Mac` for `Software`): a regression fails the test.
const F1_ABT_BUY: f64 = 0.82;
const F1_AMAZON_GOOGLE: f64 = 0.52;

/// Loads both shop tables of a Leipzig matching benchmark as one catalog (a UTF-8 CSV in a
/// temporary folder: id, name, description, manufacturer, price), audits it, and scores the
/// judged duplicate pairs against the perfect mapping. Only pairs across the two shops count,
/// as in the benchmark; pairs within one shop are reported separately.
fn leipzig_matching(dir: &str, a: &str, b: &str, mapping: &str) -> Option<(f64, f64, f64)> {
    let base = data(&format!("leipzig/{dir}"))?;
    let read = |file: &str| {
        let bytes = std::fs::read(base.join(file)).unwrap();
        let text = encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned();
        let mut r = csv::Reader::from_reader(std::io::Cursor::new(text));
        let h = r.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        (h, rows)
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("catalog.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["id", "name", "description", "manufacturer", "price"])
        .unwrap();
    let mut shop_of = BTreeMap::new();
    for (shop, file) in [(0, a), (1, b)] {
        let (h, rows) = read(file);
        let col = |names: &[&str]| h.iter().position(|x| names.contains(&x));
        let cols = [
            col(&["id"]),
            col(&["name", "title"]),
            col(&["description"]),
            col(&["manufacturer"]),
            col(&["price"]),
        ];
        for r in &rows {
            let rec: Vec<&str> = cols.iter().map(|c| c.map_or("", |c| &r[c])).collect();
            assert!(
                shop_of.insert(rec[0].to_string(), shop).is_none(),
                "ids overlap"
            );
            w.write_record(&rec).unwrap();
        }
    }
    w.flush().unwrap();
    let (_, truth) = read(mapping);
    let truth: BTreeSet<(String, String)> = truth
        .iter()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();

    let r = run(vec![(TableKind::Catalog, path)], Some("leipzig-buy"));
    let pairs = r.duplicate_pairs.as_ref().expect("matching ran");
    let mut found = BTreeSet::new();
    let mut within = 0;
    for p in pairs {
        let (x, y) = (&p.item_a, &p.item_b);
        match (shop_of[x], shop_of[y]) {
            (0, 1) => found.insert((x.clone(), y.clone())),
            (1, 0) => found.insert((y.clone(), x.clone())),
            _ => {
                within += 1;
                false
            }
        };
    }
    let tp = found.intersection(&truth).count() as f64;
    let (p, rc) = (tp / found.len().max(1) as f64, tp / truth.len() as f64);
    let f1 = 2.0 * p * rc / (p + rc).max(1e-9);
    eprintln!(
        "{dir}: {} cross-shop pairs judged duplicates ({within} within one shop); precision {p:.3} recall {rc:.3} F1 {f1:.3}",
        found.len()
    );
    // The finding agrees with duplicates.csv.
    let du = finding(&r, "DU004", |_| true).expect("a duplicate-products finding");
    assert_eq!(du.evidence["pairs"].as_u64(), Some(pairs.len() as u64));
    Some((p, rc, f1))
}

#[test]
fn leipzig_abt_buy_duplicate_products() {
    let Some((p, r, f1)) = leipzig_matching(
        "abt-buy",
        "Abt.csv",
        "Buy.csv",
        "abt_buy_perfectMapping.csv",
    ) else {
        return;
    };
    assert!(
        f1 >= F1_ABT_BUY,
        "F1 {f1:.3} (P {p:.3}, R {r:.3}) below {F1_ABT_BUY}"
    );
}

#[test]
fn leipzig_amazon_google_duplicate_products() {
    let Some((p, r, f1)) = leipzig_matching(
        "amazon-googleproducts",
        "Amazon.csv",
        "GoogleProducts.csv",
        "Amzon_GoogleProducts_perfectMapping.csv",
    ) else {
        return;
    };
    assert!(
        f1 >= F1_AMAZON_GOOGLE,
        "F1 {f1:.3} (P {p:.3}, R {r:.3}) below {F1_AMAZON_GOOGLE}"
    );
}

/// Icecat, all four files, with a second truth (`same title`) because the first is empty:
/// no two Icecat records share an EAN, even with leading zeros dropped, so by "same EAN = same
/// product" every judged pair is a false positive. The 1,295 records under 529 repeated titles
/// are mostly distinct SKUs whose title omits what differs (three APC "Rack PDU"s with 8, 16
/// and 24 outlets; OKI "Type C8" toners of 2k, 5k and 6k pages: the description says so), so
/// the EAN reading is the right one; the same-title reading measures how many of the judged
/// pairs are at least indistinguishable by title. Ceilings and floors sit under the measured
/// figures (12,796 judged pairs; same-title P 0.155, R 1.000 when set).
const ICECAT_MAX_PAIRS: usize = 14_000;
const ICECAT_SAME_TITLE_PRECISION: f64 = 0.13;
const ICECAT_SAME_TITLE_RECALL: f64 = 0.97;

#[test]
fn icecat_duplicate_products() {
    let Some(dir) = data("icecat") else {
        return;
    };
    let mut records: Vec<serde_json::Value> = Vec::new();
    for i in 1..=4 {
        let file = std::fs::File::open(dir.join(format!("{i}.json.zip"))).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let entry = zip.by_index(0).unwrap();
        let serde_json::Value::Array(rows) = serde_json::from_reader(entry).unwrap() else {
            panic!("{i}.json.zip holds an array of products");
        };
        records.extend(rows);
    }
    // The columns matching reads (and the EANs), as one file the icecat preset recognises.
    let keep = [
        "id",
        "title",
        "ean",
        "supplier",
        "short_description",
        "price",
    ];
    let slim: Vec<serde_json::Value> = records
        .iter()
        .map(|r| keep.iter().map(|k| (k.to_string(), r[k].clone())).collect())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("icecat.json");
    std::fs::write(&path, serde_json::to_vec(&slim).unwrap()).unwrap();

    let mut by_ean: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut by_title: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut eans: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for r in &records {
        let id = r["id"].as_str().unwrap();
        for e in r["ean"].as_array().unwrap() {
            let e = e.as_str().unwrap().trim_start_matches('0').to_string();
            by_ean.entry(e.clone()).or_default().insert(id);
            eans.entry(id).or_default().insert(e);
        }
        by_title
            .entry(r["title"].as_str().unwrap())
            .or_default()
            .push(id);
    }
    let shared_eans = by_ean.values().filter(|ids| ids.len() > 1).count();
    let same_title: BTreeSet<(&str, &str)> = by_title
        .values()
        .flat_map(|ids| {
            ids.iter()
                .enumerate()
                .flat_map(move |(k, a)| ids[k + 1..].iter().map(move |b| (*a.min(b), *a.max(b))))
        })
        .collect();

    let r = run(vec![(TableKind::Catalog, path)], None);
    assert_eq!(r.tables[0].preset.as_deref(), Some("icecat"));
    let pairs = r.duplicate_pairs.as_ref().expect("matching ran");
    let judged: BTreeSet<(&str, &str)> = pairs
        .iter()
        .map(|p| {
            let (a, b) = (p.item_a.as_str(), p.item_b.as_str());
            (a.min(b), a.max(b))
        })
        .collect();
    let ean_tp = judged
        .iter()
        .filter(|(a, b)| !eans[a].is_disjoint(&eans[b]))
        .count();
    let tp = judged.intersection(&same_title).count() as f64;
    let (p, rc) = (
        tp / judged.len().max(1) as f64,
        tp / same_title.len().max(1) as f64,
    );
    let f1 = 2.0 * p * rc / (p + rc).max(1e-9);
    eprintln!(
        "icecat: {} records, {shared_eans} EANs shared by two records; {} pairs judged duplicates, {ean_tp} sharing an EAN; \
         same-title truth ({} pairs): precision {p:.3} recall {rc:.3} F1 {f1:.3}",
        records.len(),
        judged.len(),
        same_title.len()
    );
    // If a new copy of the data shares EANs, score against them instead of the titles.
    assert_eq!(shared_eans, 0, "Icecat now has products sharing an EAN");
    assert!(
        judged.len() <= ICECAT_MAX_PAIRS,
        "{} pairs judged duplicates on a catalog without any (ceiling {ICECAT_MAX_PAIRS})",
        judged.len()
    );
    assert!(
        p >= ICECAT_SAME_TITLE_PRECISION && rc >= ICECAT_SAME_TITLE_RECALL,
        "same-title P {p:.3} R {rc:.3} below {ICECAT_SAME_TITLE_PRECISION} / {ICECAT_SAME_TITLE_RECALL}"
    );
}

/// Open Bandit: the random policy's propensities are exactly 1/items at every position, so
/// PB002 finds nothing; the BTS policy logged one impression in `women` at propensity 1e-6,
/// whose weight is 87% of its position's. No campaign has a significant position inversion.
#[test]
fn open_bandit_positions_and_propensities() {
    for (campaign, dominant) in [
        ("random/all/all.csv", 0),
        ("random/men/men.csv", 0),
        ("random/women/women.csv", 0),
        ("bts/all/all.csv", 0),
        ("bts/men/men.csv", 0),
        ("bts/women/women.csv", 1),
    ] {
        let Some(p) = data(&format!("open_bandit/{campaign}")) else {
            return;
        };
        let r = run(vec![(TableKind::Events, p)], None);
        assert_eq!(
            r.tables[0].preset.as_deref(),
            Some("open-bandit"),
            "{campaign}"
        );
        assert_eq!(
            rows(&r, "PB001", None),
            0,
            "{campaign}: position inversions"
        );
        let pb002: Vec<_> = r.findings.iter().filter(|f| f.code == "PB002").collect();
        assert_eq!(
            pb002.iter().map(|f| f.rows_affected).sum::<u64>(),
            dominant,
            "{campaign}: {pb002:?}"
        );
        if dominant > 0 {
            assert_eq!(pb002[0].evidence["value"], "dominant");
            let share = pb002[0].evidence["examples"][0]["weight_share_pct"].as_f64();
            assert!(share > Some(80.0), "{campaign}: {share:?}");
        }
    }
}
