//! The candle BERT embedder against sentence-transformers' own vectors for all-MiniLM-L6-v2.
//!
//! `fixtures/minilm_reference.json` was written by
//! `bench/embed_vs_sentence_transformers.py --write-fixture` (sentence-transformers on PyTorch
//! CPU, max_seq_length 256, mean pooling, L2 normalization): ten product titles, one 300+ word
//! text that both sides must truncate to 256 tokens, and the empty string. shelf's vector for
//! each must match with cosine >= 0.9999; a pooling, truncation or tokenizer difference shows
//! up as a much lower cosine on at least one of them.

use shelf_core::lm::{TextKind, dot};

const FIXTURE: &str = include_str!("fixtures/minilm_reference.json");

#[derive(serde::Deserialize)]
struct Reference {
    max_seq_length: usize,
    untruncated_tokens: Vec<usize>,
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

fn reference() -> Reference {
    let r: Reference = serde_json::from_str(FIXTURE).expect("fixtures/minilm_reference.json");
    assert_eq!(r.texts.len(), r.vectors.len());
    assert_eq!(r.texts.len(), r.untruncated_tokens.len());
    r
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

#[test]
fn fixture_exercises_truncation_and_the_empty_text() {
    let r = reference();
    assert_eq!(r.max_seq_length, 256);
    assert!(r.untruncated_tokens.iter().any(|&n| n > r.max_seq_length));
    assert!(r.texts.iter().any(|t| t.split_whitespace().count() >= 300));
    assert!(r.texts.iter().any(String::is_empty));
}

#[test]
fn vectors_match_sentence_transformers() {
    let r = reference();
    let e = super::embedder("all-minilm-l6-v2");
    let texts: Vec<&str> = r.texts.iter().map(String::as_str).collect();
    let got = e.embed(&texts, TextKind::Passage).unwrap();
    assert_eq!(got.len(), texts.len());
    let mut worst = (1.0f32, "");
    for (i, want) in r.vectors.iter().enumerate() {
        assert_eq!(want.len(), got.dim());
        let c = cosine(got.row(i), want);
        if c < worst.0 {
            worst = (c, texts[i]);
        }
    }
    let short: String = worst.1.chars().take(60).collect();
    assert!(
        worst.0 >= 0.9999,
        "cosine {} against sentence-transformers for {short:?}",
        worst.0
    );
}
