//! The candle BERT embedder on all-MiniLM-L6-v2.

use shelf_core::lm::{Embedder, TextKind, dot};

fn minilm() -> &'static dyn Embedder {
    super::embedder("all-minilm-l6-v2")
}

#[test]
fn vectors_are_unit_length_and_rank_related_titles_first() {
    let e = minilm();
    assert_eq!(e.dim(), 384);
    assert!(
        e.id()
            .starts_with("candle:all-minilm-l6-v2@53aa51172d142c89"),
        "{}",
        e.id()
    );
    let titles = [
        "Apple iPhone 15 Pro Max 256GB Black",
        "iPhone 15 Pro Max, 256 GB, black (Apple)",
        "Stainless steel garden hose nozzle",
        "",
    ];
    let v = e.embed(&titles, TextKind::Passage).unwrap();
    assert_eq!(v.len(), 4);
    for row in v.rows() {
        assert!((dot(row, row) - 1.0).abs() < 1e-4);
    }
    let same = dot(v.row(0), v.row(1));
    let other = dot(v.row(0), v.row(2));
    assert!(same > 0.8 && other < 0.3, "same {same}, other {other}");
}

#[test]
fn a_text_embeds_the_same_alone_and_padded_in_a_batch() {
    let e = minilm();
    let long = "Bosch 18V cordless drill driver with two batteries, charger and carry case, \
                variable speed, LED light";
    let alone = e.embed(&["cordless drill"], TextKind::Query).unwrap();
    let batch = e
        .embed(&[long, "cordless drill", "a"], TextKind::Query)
        .unwrap();
    let drift: f32 = alone
        .row(0)
        .iter()
        .zip(batch.row(1))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(drift < 1e-4, "padding changed the vector by {drift}");
}

#[test]
fn no_texts_is_no_vectors() {
    let v = minilm().embed(&[], TextKind::Passage).unwrap();
    assert!(v.is_empty());
    assert_eq!(v.dim(), 384);
}
