//! The heavy part of duplicate-products — shingling, MinHash signatures and LSH banding into
//! candidate pairs — timed on a file of titles (one per line), for `bench/dedup_vs_datasketch.py`.
//!
//! `lsh_bench TITLES SOURCES THRESHOLD NUM_PERM SAMPLE [MAX_BUCKET WINDOW]`: SOURCES holds, per
//! line, the index of the source record the title was made from (same source = same product).
//! MAX_BUCKET and WINDOW (default: the product's, 100 and 10) set when an LSH bucket is paired by
//! sorted neighbourhood and how wide, the knob that trades time for recall. Prints one JSON
//! object: seconds, candidate pairs, and the recall of same-source pairs among the first SAMPLE
//! items. Threads: rayon's default, set with RAYON_NUM_THREADS.

use std::time::Instant;

use shelf_checks::dedup::{MatchParams, Product};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let titles: Vec<String> = std::fs::read_to_string(&args[1])
        .expect("titles file")
        .lines()
        .map(str::to_string)
        .collect();
    let sources: Vec<u32> = std::fs::read_to_string(&args[2])
        .expect("sources file")
        .lines()
        .map(|l| l.parse().expect("source index"))
        .collect();
    let threshold: f64 = args[3].parse().unwrap();
    let num_perm: usize = args[4].parse().unwrap();
    let sample: usize = args[5].parse().unwrap();
    let defaults = MatchParams::default();
    let optional = |i: usize, default: usize| {
        args.get(i)
            .map_or(default, |v| v.parse().expect("a whole number"))
    };
    let params = MatchParams {
        lsh_threshold: threshold,
        num_perm,
        max_bucket: optional(6, defaults.max_bucket),
        window: optional(7, defaults.window),
        ..defaults
    };

    let start = Instant::now();
    let products: Vec<Product> = titles
        .iter()
        .map(|t| Product {
            title: t.clone(),
            ..Product::default()
        })
        .collect();
    let pairs = shelf_checks::dedup::lsh_candidates(&products, &params);
    let seconds = start.elapsed().as_secs_f64();

    // Recall over the sample: same-source pairs with at least one end in the sample.
    let sample = sample.min(titles.len());
    let mut by_source: std::collections::HashMap<u32, Vec<u32>> = Default::default();
    for (i, s) in sources.iter().enumerate() {
        by_source.entry(*s).or_default().push(i as u32);
    }
    let mut truth = 0usize;
    for i in 0..sample {
        truth += by_source[&sources[i]].len() - 1;
    }
    let found = pairs
        .iter()
        .filter(|(a, b)| {
            ((*a as usize) < sample || (*b as usize) < sample)
                && sources[*a as usize] == sources[*b as usize]
        })
        .map(|(a, b)| usize::from((*a as usize) < sample) + usize::from((*b as usize) < sample))
        .sum::<usize>();
    println!(
        "{{\"items\": {}, \"max_bucket\": {}, \"window\": {}, \"seconds\": {seconds:.3}, \"candidate_pairs\": {}, \"recall\": {:.4}}}",
        titles.len(),
        params.max_bucket,
        params.window,
        pairs.len(),
        found as f64 / truth.max(1) as f64
    );
}
