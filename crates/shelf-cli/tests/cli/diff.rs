//! `shelf diff OLD NEW`: on real data (Online Retail's December 2010 against its 2011 months,
//! split from the real Parquet file), on the example store (a copy with shifted prices and a
//! renamed column; two seeds of the generator), and on inputs it must refuse.

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::TimestampNanosecondType;
use serde_json::Value;

use crate::real_data::data;
use crate::support::{CLEAN_CATALOG, Work, assert_refused, leftovers, shelf};

fn diff_json(out: &Path) -> Value {
    let p = out.join("diff.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

fn table<'a>(d: &'a Value, kind: &str) -> &'a Value {
    d["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} table in {d}"))
}

fn column<'a>(t: &'a Value, role: &str) -> &'a Value {
    t["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["role"] == role)
        .unwrap_or_else(|| panic!("no column for {role} in {}", t["kind"]))
}

fn key<'a>(t: &'a Value, role: &str) -> &'a Value {
    t["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|c| c["role"] == role)
        .unwrap_or_else(|| panic!("no key {role} in {}", t["kind"]))
}

fn examples(v: &Value) -> Vec<&str> {
    v["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|e| e["value"].as_str().expect("value"))
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// Writes the rows of a real Parquet file whose `InvoiceDate` is before (or from) 2011 into
/// two new Parquet files.
fn split_by_year(src: &Path, w: &Work) -> (PathBuf, PathBuf) {
    let file = std::fs::File::open(src).expect("open the real file");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let (old_path, new_path) = (w.path("retail_2010.parquet"), w.path("retail_2011.parquet"));
    let mut writers: Option<[parquet::arrow::ArrowWriter<std::fs::File>; 2]> = None;
    // 2011-01-01T00:00:00 in nanoseconds.
    const CUT: i64 = 1_293_840_000_000_000_000;
    for batch in reader {
        let batch: RecordBatch = batch.expect("batch");
        let writers = writers.get_or_insert_with(|| {
            [&old_path, &new_path].map(|p| {
                parquet::arrow::ArrowWriter::try_new(
                    std::fs::File::create(p).expect("create"),
                    batch.schema(),
                    None,
                )
                .expect("writer")
            })
        });
        let idx = batch.schema().index_of("InvoiceDate").expect("InvoiceDate");
        let dates = batch.column(idx).as_primitive::<TimestampNanosecondType>();
        let before: BooleanArray = (0..dates.len())
            .map(|i| Some(dates.is_valid(i) && dates.value(i) < CUT))
            .collect();
        let after = arrow::compute::not(&before).expect("not");
        for (mask, writer) in [before, after].iter().zip(writers.iter_mut()) {
            let part = arrow::compute::filter_record_batch(&batch, mask).expect("filter");
            writer.write(&part).expect("write");
        }
    }
    for w in writers.expect("the file has rows") {
        w.close().expect("close");
    }
    (old_path, new_path)
}

#[test]
fn online_retail_december_2010_against_2011() {
    let Some(src) = data("uci_online_retail/online_retail_raw.parquet") else {
        return;
    };
    let w = Work::new();
    let (old, new) = split_by_year(&src, &w);
    let out = w.path("diff");
    // The kind comes from the preset that recognises the columns.
    let run = shelf(&["diff"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    run.expect_no_panic().expect_code(0);
    assert!(run.stdout.trim().is_empty(), "stdout is data only\n{run}");
    let d = diff_json(&out);
    let t = table(&d, "events");
    // Row counts and sets below are what pandas finds on the same split.
    assert_eq!(t["rows"]["old"], 42_481);
    assert_eq!(t["rows"]["new"], 499_428);
    assert_eq!(d["old"]["tables"][0]["preset"], "uci-online-retail");
    // Same shop, same mix: the UK's share moves from 94.5 % to 91.2 %, prices and quantities
    // barely, so no column is called drift.
    for role in ["country", "price", "quantity", "title", "timestamp"] {
        let c = column(t, role);
        assert_eq!(c["drift"], "none", "{role}: {c}");
        assert!(f(&c["psi"]) < 0.1, "{role}: {c}");
    }
    let country = column(t, "country");
    let uk = country["bins"][0].clone();
    assert_eq!(uk["label"], "United Kingdom");
    assert!((f(&uk["old"]) - 0.94454).abs() < 1e-4, "{uk}");
    assert!((f(&uk["new"]) - 0.91175).abs() < 1e-4, "{uk}");
    // 14 countries first buy in 2011, Lithuania only in December 2010.
    let cats = &country["categories"];
    assert_eq!(cats["distinct"]["old"], 24);
    assert_eq!(cats["distinct"]["new"], 37);
    assert_eq!(cats["appeared"]["count"], 14);
    assert!(examples(&cats["appeared"]).contains(&"USA"), "{cats}");
    assert_eq!(cats["vanished"]["count"], 1);
    assert_eq!(examples(&cats["vanished"]), ["Lithuania"]);
    // Items: 2,745 stock codes sold in both, 1,248 new ones carry 106,479 lines of 2011.
    let items = key(t, "item_id");
    assert_eq!(items["distinct"]["old"], 2_822);
    assert_eq!(items["shared"], 2_745);
    assert_eq!(items["appeared"]["count"], 1_248);
    assert_eq!(items["appeared"]["rows"], 106_479);
    assert_eq!(items["vanished"]["count"], 77);
    // Invoice numbers run on: no invoice is in both.
    assert_eq!(key(t, "order_id")["shared"], 0);
    let range = &column(t, "timestamp")["time_range"];
    assert_eq!(range["old"][1], "2010-12-23T17:41:00Z");
    assert_eq!(range["new"][0], "2011-01-04T10:00:00Z");
    // Prices: the median line got cheaper (2.52 → 2.08), which KS sees.
    let price = column(t, "price");
    assert!(f(&price["ks"]) > 0.1, "{price}");
    assert!(f(&price["stats"]["new"]["median"]) < f(&price["stats"]["old"]["median"]));
    // The audit: the two negative prices ("Adjust bad debt", August 2011) are new.
    let moved = d["findings"]["moved"].as_array().expect("moved");
    let nu002 = moved
        .iter()
        .find(|m| m["code"] == "NU002")
        .unwrap_or_else(|| panic!("NU002 did not move: {moved:?}"));
    assert_eq!(nu002["change"], "appeared");
    assert_eq!(nu002["new"]["rows_affected"], 2);
    // Missing CustomerID: 15,631 → 119,449 rows, a smaller share (36.8 % → 23.9 %).
    let mv001 = moved
        .iter()
        .find(|m| m["code"] == "MV001" && m["column"] == "CustomerID")
        .expect("MV001 moved");
    assert_eq!(mv001["old"]["rows_affected"], 15_631);
    assert_eq!(mv001["new"]["rows_affected"], 119_449);
    assert_eq!(mv001["change"], "down");
    let html = std::fs::read_to_string(out.join("diff.html")).expect("diff.html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Lithuania"));
}

/// `shelf generate` into `dir` with `seed`; returns its shelf.toml.
fn generate(w: &Work, dir: &str, seed: u64) -> PathBuf {
    let out = w.path(dir);
    shelf(&["generate", "--items", "600"])
        .opt("--seed", seed.to_string())
        .opt("--out", &out)
        .run()
        .expect_no_panic()
        .expect_code(0);
    out.join("shelf.toml")
}

/// A copy of an example store whose catalog has every parseable price tripled, its `brand`
/// column renamed `maker` (mapped in shelf.toml) and its `stock` column dropped.
fn shifted_copy(w: &Work, from: &str, to: &str) -> PathBuf {
    let (src, dst) = (w.path(from), w.path(to));
    std::fs::create_dir_all(&dst).expect("mkdir");
    for name in ["events.csv", "queries.csv", "judgments.csv"] {
        std::fs::copy(src.join(name), dst.join(name)).expect("copy");
    }
    let mut r = csv::Reader::from_path(src.join("catalog.csv")).expect("catalog");
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let at = |n: &str| header.iter().position(|h| h == n).expect(n);
    let (price, stock) = (at("price"), at("stock"));
    let mut wr = csv::Writer::from_path(dst.join("catalog.csv")).expect("write catalog");
    let renamed: Vec<&str> = header
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != stock)
        .map(|(_, h)| if h == "brand" { "maker" } else { h.as_str() })
        .collect();
    wr.write_record(&renamed).expect("header");
    for rec in r.records() {
        let rec = rec.expect("record");
        let row: Vec<String> = rec
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != stock)
            .map(|(i, v)| match shelf_io::values::parse_price(v) {
                Some(p) if i == price => format!("{:.2}", p * 3.0),
                _ => v.to_string(),
            })
            .collect();
        wr.write_record(&row).expect("row");
    }
    wr.flush().expect("flush");
    let toml = std::fs::read_to_string(src.join("shelf.toml"))
        .expect("shelf.toml")
        .replace(
            "[tables.catalog]\npath = \"catalog.csv\"\n",
            "[tables.catalog]\npath = \"catalog.csv\"\n[tables.catalog.roles]\nbrand = \"maker\"\n",
        );
    assert!(
        toml.contains("brand = \"maker\""),
        "the generated shelf.toml changed shape"
    );
    std::fs::write(dst.join("shelf.toml"), toml).expect("shelf.toml");
    dst.join("shelf.toml")
}

#[test]
fn demo_store_with_tripled_prices_flags_price_only() {
    let w = Work::new();
    let old = generate(&w, "store", 7);
    let new = shifted_copy(&w, "store", "store-shifted");
    let out = w.path("diff");
    let run = shelf(&["diff"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    // Major drift exits 1, like an error finding with the default --fail-on.
    run.expect_no_panic().expect_code(1);
    assert!(run.stderr.contains("major"), "{run}");
    let d = diff_json(&out);
    let cat = table(&d, "catalog");
    let price = column(cat, "price");
    assert_eq!(price["drift"], "major", "{price}");
    // Prices span four decades, so tripling them moves the CDF by about a third (0.36 here).
    assert!(f(&price["ks"]) > 0.25, "{price}");
    let (mo, mn) = (
        f(&price["stats"]["old"]["median"]),
        f(&price["stats"]["new"]["median"]),
    );
    assert!((mn / mo - 3.0).abs() < 0.05, "median {mo} → {mn}");
    // The brand column was renamed, its values were not: a mapping change, not drift.
    let brand = column(cat, "brand");
    assert_eq!(brand["drift"], "none", "{brand}");
    assert_eq!(f(&brand["psi"]), 0.0);
    assert_eq!(brand["column"]["old"], "brand");
    assert_eq!(brand["column"]["new"], "maker");
    let m = &cat["mapping"];
    assert_eq!(m["roles_changed"][0]["role"], "brand");
    assert_eq!(m["roles_changed"][0]["new"], "maker");
    assert_eq!(m["roles_removed"][0]["role"], "stock");
    assert_eq!(m["columns_added"], serde_json::json!(["maker"]));
    assert_eq!(m["columns_removed"], serde_json::json!(["brand", "stock"]));
    for role in ["title", "description", "category", "currency"] {
        assert_eq!(f(&column(cat, role)["psi"]), 0.0, "{role} is untouched");
    }
    let items = key(cat, "item_id");
    assert_eq!(items["appeared"]["count"], 0);
    assert_eq!(items["vanished"]["count"], 0);
    // The other tables are the same files: nothing moved there, in distributions or findings.
    for kind in ["events", "queries", "judgments"] {
        let t = table(&d, kind);
        assert_eq!(t["drift"], "none", "{kind}");
        for c in t["columns"].as_array().expect("columns") {
            assert_eq!(f(&c["psi"]), 0.0, "{kind} {}", c["role"]);
        }
    }
    // Findings move in the catalog, and where events meet it: order lines now disagree with
    // the tripled catalog prices (order-price-mismatch goes up).
    let moved = d["findings"]["moved"].as_array().expect("moved");
    for m in moved {
        assert!(
            m["table"] == "catalog" || m["code"] == "NU007",
            "only catalog findings should move: {m}"
        );
    }
    let nu007 = moved
        .iter()
        .find(|m| m["code"] == "NU007")
        .expect("order-price-mismatch moved");
    assert_eq!(nu007["table"], "events");
    assert_eq!(nu007["change"], "up");
    assert!(f(&nu007["new"]["rows_affected"]) > 10.0 * f(&nu007["old"]["rows_affected"]));
    assert_eq!(d["counts"]["major"], 1, "{}", d["counts"]);

    // The same comparison with --fail-on never reports it and exits 0.
    let out2 = w.path("diff-never");
    shelf(&["diff", "--fail-on", "never", "--no-audit"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out2)
        .run()
        .expect_no_panic()
        .expect_code(0);
    assert!(diff_json(&out2)["findings"].is_null());
    let html = std::fs::read_to_string(out.join("diff.html")).expect("diff.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(external),
            "diff.html reaches out: {external}"
        );
    }
    assert!(leftovers(w.root()).is_empty());
}

#[test]
fn two_seeds_of_the_generator_have_a_stable_catalog() {
    let w = Work::new();
    let (a, b) = (generate(&w, "a", 1), generate(&w, "b", 2));
    let out = w.path("diff");
    let run = shelf(&["diff", "--no-audit", "--kind", "catalog"])
        .arg(&a)
        .arg(&b)
        .opt("--out", &out)
        .run();
    run.expect_no_panic().expect_code(0);
    let d = diff_json(&out);
    assert_eq!(d["tables"].as_array().expect("tables").len(), 1);
    let cat = table(&d, "catalog");
    // The same generator draws from the same distributions: every column stays stable…
    for c in cat["columns"].as_array().expect("columns") {
        assert_eq!(c["drift"], "none", "{c}");
    }
    // …while the item ids are drawn afresh: almost none is shared.
    let items = key(cat, "item_id");
    assert!(
        f(&items["shared"]) < 0.05 * f(&items["distinct"]["old"]),
        "{items}"
    );
}

#[test]
fn different_kinds_are_refused_naming_both() {
    let (Some(taobao), Some(homedepot)) = (
        data("taobao_userbehavior/UserBehavior_head.csv"),
        data("homedepot/judgments_dev.csv"),
    ) else {
        return;
    };
    let w = Work::new();
    let out = w.path("diff");
    let run = shelf(&["diff"])
        .arg(&taobao)
        .arg(&homedepot)
        .opt("--out", &out)
        .run();
    assert_refused(
        &run,
        &out,
        Some("UserBehavior_head.csv"),
        &["judgments_dev.csv", "events", "judgments", "same"],
    );
}

#[test]
fn configs_with_different_tables_are_refused() {
    let w = Work::new();
    w.write("catalog.csv", CLEAN_CATALOG);
    w.write("events.csv", "user_id,item_id\nu1,A001\nu2,A002\n");
    let old = w.write("old.toml", "[tables.catalog]\npath = \"catalog.csv\"\n");
    let new = w.write("new.toml", "[tables.events]\npath = \"events.csv\"\n");
    let out = w.path("diff");
    let run = shelf(&["diff"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    assert_refused(
        &run,
        &out,
        Some("old.toml"),
        &["new.toml", "catalog", "events"],
    );
    // --kind names a table one of them lacks.
    let run = shelf(&["diff", "--kind", "catalog"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    assert_refused(
        &run,
        &out,
        Some("new.toml"),
        &["--kind catalog", "no catalog table"],
    );
}

#[test]
fn a_missing_file_is_refused() {
    let w = Work::new();
    let old = w.write("catalog.csv", CLEAN_CATALOG);
    let out = w.path("diff");
    let run = shelf(&["diff", "--kind", "catalog"])
        .arg(&old)
        .arg(w.path("nope.csv"))
        .opt("--out", &out)
        .run();
    assert_refused(&run, &out, Some("nope.csv"), &["does not exist"]);
}

#[test]
fn an_unrecognised_file_needs_kind() {
    let w = Work::new();
    let old = w.write("old.csv", CLEAN_CATALOG);
    let new = w.write("new.csv", CLEAN_CATALOG);
    let out = w.path("diff");
    let run = shelf(&["diff"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    assert_refused(&run, &out, Some("old.csv"), &["--kind"]);
    // With the kind, identical files compare clean.
    let run = shelf(&["diff", "--kind", "catalog"])
        .arg(&old)
        .arg(&new)
        .opt("--out", &out)
        .run();
    run.expect_no_panic().expect_code(0);
    let d = diff_json(&out);
    assert_eq!(d["counts"]["major"], 0);
    assert_eq!(d["findings"]["moved"], serde_json::json!([]));
}
