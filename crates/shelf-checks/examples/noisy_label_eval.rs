//! noisy-label (JU004) on the Home Depot judgments, straight from the CSV (no audit pipeline):
//! precision and recall of the suspects against labels flipped on purpose, and the time the
//! heavy part takes (features, then features + 5-fold training + confident learning).
//!
//! `cargo run --release --example noisy_label_eval -p shelf-checks -- [--share 0.1] [--seed 7]
//! [--copies 1] [--top 0] [--min-margin 0]`
//!
//! `--share S` flips S × all judgments to the far class (mirrors the 1–3 label: 1.33 ↔ 2.67,
//! 3 ↔ 1), drawn with `--seed` from the judgments that have a far class (low or high; a middle
//! label has none). `--copies N` replicates the table N times for timing: copy k's queries get
//! their own keys and its titles a ` v{k}` suffix, so the IDF corpus and the query groups grow
//! with it. `--top K` prints the K strongest suspects. Threads: RAYON_NUM_THREADS.
//! Prints one JSON object.

use std::collections::BTreeSet;
use std::time::Instant;

use shelf_checks::relevance::{self, Classes, Judgment, NoiseParams, features};
use shelf_io::presets::LabelScale;

struct Row {
    query: String,
    title: String,
    label: f64,
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_string())
}

/// SplitMix64, for a seeded choice of the rows to flip.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let share: f64 = arg(&args, "--share", "0.1").parse().unwrap();
    let seed: u64 = arg(&args, "--seed", "7").parse().unwrap();
    let copies: usize = arg(&args, "--copies", "1").parse().unwrap();
    let top: usize = arg(&args, "--top", "0").parse().unwrap();
    let min_margin: f64 = arg(&args, "--min-margin", "0").parse().unwrap();
    let path = arg(
        &args,
        "--data",
        "../shared/data/homedepot/judgments_dev.csv",
    );

    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (q, t, l) = (col("search_term"), col("product_title"), col("relevance"));
    let mut rows: Vec<Row> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            Row {
                query: rec[q].to_string(),
                title: rec[t].to_string(),
                label: rec[l].parse().unwrap(),
            }
        })
        .collect();

    let scale = Some(LabelScale::Range(1.0, 3.0));
    let labels: Vec<f64> = rows.iter().map(|r| r.label).collect();
    let classes = Classes::for_scale(scale, &labels).unwrap();
    let mut candidates: Vec<usize> = (0..rows.len())
        .filter(|&i| classes.of(rows[i].label) != 1)
        .collect();
    let mut state = seed;
    for i in (1..candidates.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        candidates.swap(i, j);
    }
    let n_flip = ((share * rows.len() as f64).round() as usize).min(candidates.len());
    let flipped: BTreeSet<usize> = candidates[..n_flip].iter().copied().collect();
    for &i in &flipped {
        rows[i].label = 4.0 - rows[i].label;
    }

    let (mut keys, mut titles) = (Vec::new(), Vec::new());
    for k in 0..copies {
        for r in &rows {
            keys.push(format!("{k}\u{1f}{}", r.query));
            titles.push(if k == 0 {
                r.title.clone()
            } else {
                format!("{} v{k}", r.title)
            });
        }
    }
    let n = rows.len();
    // SHELF_EMBEDDER=NAME_OR_PATH adds the query-title meaning features (see noisy-label).
    let meaning: Option<Vec<f64>> = std::env::var("SHELF_EMBEDDER").ok().map(|spec| {
        let opts = shelf_lm::LmOptions {
            cache_dir: Some(shelf_lm::cache::default_dir()),
            ..shelf_lm::LmOptions::default()
        };
        let e = shelf_lm::open_embedder(&spec, &opts).unwrap();
        let queries: Vec<&str> = rows.iter().map(|r| r.query.as_str()).collect();
        let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
        let q = e.embed(&queries, shelf_core::lm::TextKind::Query).unwrap();
        let t = e.embed(&titles, shelf_core::lm::TextKind::Passage).unwrap();
        (0..n)
            .map(|i| f64::from(shelf_core::lm::dot(q.row(i), t.row(i))))
            .collect()
    });
    let judgments: Vec<Judgment<'_>> = (0..n * copies)
        .map(|i| Judgment {
            query_key: &keys[i],
            query: &rows[i % n].query,
            title: &titles[i],
            label: rows[i % n].label,
            meaning: meaning.as_ref().map(|m| m[i % n]),
        })
        .collect();

    let start = Instant::now();
    let pairs: Vec<features::Pair<'_>> = judgments
        .iter()
        .enumerate()
        .map(|(i, j)| features::Pair {
            group: (i / n) as u32,
            query: j.query,
            title: j.title,
            meaning: j.meaning,
        })
        .collect();
    let _ = features::features(&pairs);
    let features_s = start.elapsed().as_secs_f64();

    let params = NoiseParams {
        min_margin,
        ..NoiseParams::default()
    };
    let start = Instant::now();
    let review = relevance::review(&judgments, classes.clone(), &params);
    let review_s = start.elapsed().as_secs_f64();

    // Precision and recall on the first copy (the only one when not timing).
    let flagged: BTreeSet<usize> = review
        .suspects
        .iter()
        .filter(|s| s.row < n)
        .map(|s| s.row)
        .collect();
    let hits = flagged.intersection(&flipped).count() as f64;
    for s in review.suspects.iter().take(top) {
        let r = &judgments[s.row];
        let f = &review.facts[s.row];
        println!(
            "{:.3} row {} {:?} -> {:?} label {} ({} -> {}), {}/{} terms, rank {}/{}{}",
            s.margin(),
            s.row,
            r.query,
            r.title,
            r.label,
            classes.name(s.given),
            classes.name(s.likely),
            f.matched_terms,
            f.query_terms,
            f.rank,
            f.judged_in_query,
            if flipped.contains(&s.row) {
                " FLIPPED"
            } else {
                ""
            }
        );
    }
    println!(
        "{{\"judgments\": {}, \"share\": {share}, \"flipped\": {}, \"flagged\": {}, \"precision\": {:.4}, \"recall\": {:.4}, \"accuracy\": {:.4}, \"majority\": {:.4}, \"thresholds\": {:?}, \"features_s\": {features_s:.3}, \"review_s\": {review_s:.3}}}",
        judgments.len(),
        flipped.len(),
        flagged.len(),
        hits / flagged.len().max(1) as f64,
        hits / flipped.len().max(1) as f64,
        review.accuracy,
        review.majority_share,
        review
            .thresholds
            .iter()
            .map(|t| (t * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
    );
}
