//! MinHash signatures and LSH banding: candidate pairs in time near-linear in the catalog.
//!
//! A signature keeps, for each of `num_perm` hash functions, the smallest hash over an item's
//! shingles; two items agree on one position with probability equal to their Jaccard
//! similarity. Banding (`bands` × `rows` = `num_perm`) makes two items candidates when they
//! agree on every position of at least one band. Nothing compares all pairs: a bucket that
//! grows past `max_bucket` items (a shingle set so common it says nothing) is paired by sorted
//! neighbourhood instead — each member with its `window` nearest members in title order.

use std::collections::HashMap;

/// 64-bit FNV-1a of a shingle: stable across runs and platforms.
pub fn hash_shingle(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A finaliser with full avalanche (SplitMix64's).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `num_perm` seeded hash functions.
#[derive(Debug, Clone)]
pub struct MinHasher {
    seeds: Vec<u64>,
}

impl MinHasher {
    pub fn new(num_perm: usize, seed: u64) -> Self {
        let seeds = (0..num_perm as u64)
            .map(|i| mix(seed ^ mix(i.wrapping_add(0x9e37_79b9_7f4a_7c15))))
            .collect();
        Self { seeds }
    }

    pub fn num_perm(&self) -> usize {
        self.seeds.len()
    }

    /// The signature of a set of shingle hashes; all `u32::MAX` for an empty set (which then
    /// matches nothing: [`candidate_pairs`] skips empty signatures).
    pub fn signature(&self, shingles: &[u64], out: &mut Vec<u32>) {
        out.clear();
        out.resize(self.seeds.len(), u32::MAX);
        for &h in shingles {
            for (slot, &seed) in out.iter_mut().zip(&self.seeds) {
                let v = (mix(h ^ seed) >> 32) as u32;
                if v < *slot {
                    *slot = v;
                }
            }
        }
    }
}

/// How a signature is cut into bands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Banding {
    pub bands: usize,
    pub rows: usize,
}

impl Banding {
    /// The banding whose S-curve best separates pairs above `threshold` from those below,
    /// weighing false positives and false negatives equally (the same criterion as the
    /// `datasketch` library, so both can be compared at one threshold).
    pub fn for_threshold(threshold: f64, num_perm: usize) -> Self {
        let integrate = |f: &dyn Fn(f64) -> f64, lo: f64, hi: f64| {
            let steps = 200;
            let h = (hi - lo) / steps as f64;
            (0..steps)
                .map(|i| f(lo + (i as f64 + 0.5) * h) * h)
                .sum::<f64>()
        };
        let mut best = (
            f64::INFINITY,
            Banding {
                bands: 1,
                rows: num_perm,
            },
        );
        for bands in 1..=num_perm {
            let max_rows = num_perm / bands;
            for rows in 1..=max_rows {
                let p = |s: f64| 1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32);
                let fp = integrate(&|s| p(s), 0.0, threshold);
                let fnr = integrate(&|s| 1.0 - p(s), threshold, 1.0);
                let err = 0.5 * fp + 0.5 * fnr;
                if err < best.0 {
                    best = (err, Banding { bands, rows });
                }
            }
        }
        best.1
    }
}

/// Candidate pairs `(i, j)`, `i < j`, sorted, without repeats. `signatures` is flat, `num_perm`
/// values per item; `order` ranks items for the sorted-neighbourhood fallback (e.g. by folded
/// title) and must hold one entry per item.
///
/// Bands are bucketed in parallel; the buckets are paired by [`bucket_pairs`].
pub fn candidate_pairs(
    signatures: &[u32],
    num_perm: usize,
    banding: Banding,
    max_bucket: usize,
    window: usize,
    order: &[u32],
) -> Vec<(u32, u32)> {
    use rayon::prelude::*;
    let n = signatures.len() / num_perm.max(1);
    let empty = |i: usize| signatures[i * num_perm] == u32::MAX;
    let groups: Vec<Vec<Vec<u32>>> = (0..banding.bands)
        .into_par_iter()
        .map(|band| {
            let lo = band * banding.rows;
            let mut buckets: HashMap<u64, Vec<u32>> = HashMap::new();
            for i in (0..n).filter(|&i| !empty(i)) {
                let key = signatures[i * num_perm + lo..i * num_perm + lo + banding.rows]
                    .iter()
                    .fold(band as u64, |h, &v| mix(h ^ u64::from(v)));
                buckets.entry(key).or_default().push(i as u32);
            }
            buckets.into_values().filter(|m| m.len() > 1).collect()
        })
        .collect();
    bucket_pairs(groups.into_iter().flatten(), n, max_bucket, window, order)
}

/// The pairs of every bucket, sorted, each once: within a bucket of up to `max_bucket` members
/// every pair, in a larger one each member with its `window` nearest in `order` (sorted
/// neighbourhood), so a huge bucket costs linear, not quadratic. `buckets` hold item positions
/// below `items`, ascending; `order` ranks every item.
///
/// Each item, in parallel, gathers its partners from the buckets it is in and keeps each once,
/// so the pairs of all buckets are never listed together: near-identical items share many
/// buckets, and on 1 M Icecat titles that list held 173 M entries for 60 M distinct pairs.
/// A bucket whose exact member list another already gave is dropped first.
pub fn bucket_pairs(
    buckets: impl IntoIterator<Item = Vec<u32>>,
    items: usize,
    max_bucket: usize,
    window: usize,
    order: &[u32],
) -> Vec<(u32, u32)> {
    use rayon::prelude::*;
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Vec<u32>> = Vec::new();
    for mut members in buckets {
        let id = members.iter().fold(0u64, |h, &m| mix(h ^ u64::from(m)));
        if members.len() > 1 && seen.insert((id, members.len())) {
            if members.len() > max_bucket {
                members.sort_by_key(|&m| order[m as usize]);
            }
            kept.push(members);
        }
    }
    // Each item's (bucket, position in it), as one flat list per item.
    let mut start = vec![0usize; items + 1];
    for members in &kept {
        for &m in members {
            start[m as usize + 1] += 1;
        }
    }
    for i in 0..items {
        start[i + 1] += start[i];
    }
    let mut memberships = vec![(0u32, 0u32); start[items]];
    let mut next = start.clone();
    for (b, members) in kept.iter().enumerate() {
        for (pos, &m) in members.iter().enumerate() {
            memberships[next[m as usize]] = (b as u32, pos as u32);
            next[m as usize] += 1;
        }
    }
    (0..items)
        .into_par_iter()
        .with_min_len(256)
        .flat_map_iter(|a| {
            let mut partners = Vec::new();
            for &(b, pos) in &memberships[start[a]..start[a + 1]] {
                let members = &kept[b as usize];
                let pos = pos as usize;
                if members.len() <= max_bucket {
                    // Ascending positions: the partners above `a` follow it.
                    partners.extend_from_slice(&members[pos + 1..]);
                } else {
                    let (lo, hi) = (
                        pos.saturating_sub(window),
                        (pos + window).min(members.len() - 1),
                    );
                    partners.extend(members[lo..=hi].iter().filter(|&&m| m as usize > a));
                }
            }
            partners.sort_unstable();
            partners.dedup();
            partners.into_iter().map(move |b| (a as u32, b))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference the search is checked against: every pair of a bucket up to `max_bucket`
    /// members, else each member with its next `window` in `order`, as `(min, max)` keys.
    fn pair_bucket(
        members: &mut [u32],
        max_bucket: usize,
        window: usize,
        order: &[u32],
        pairs: &mut Vec<(u32, u32)>,
    ) {
        let pair = |a: u32, b: u32| (a.min(b), a.max(b));
        if members.len() <= max_bucket {
            for (k, &a) in members.iter().enumerate() {
                pairs.extend(members[k + 1..].iter().map(|&b| pair(a, b)));
            }
        } else {
            members.sort_by_key(|&m| order[m as usize]);
            for (k, &a) in members.iter().enumerate() {
                for &b in members.iter().skip(k + 1).take(window) {
                    pairs.push(pair(a, b));
                }
            }
        }
    }

    fn sig(m: &MinHasher, words: &[&str]) -> Vec<u32> {
        let h: Vec<u64> = words.iter().map(|w| hash_shingle(w)).collect();
        let mut out = Vec::new();
        m.signature(&h, &mut out);
        out
    }

    #[test]
    fn agreement_estimates_jaccard() {
        let m = MinHasher::new(256, 7);
        let a: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let b: Vec<String> = (50..150).map(|i| format!("w{i}")).collect();
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let b: Vec<&str> = b.iter().map(String::as_str).collect();
        let (sa, sb) = (sig(&m, &a), sig(&m, &b));
        let agree = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        // True Jaccard 50/150 = 0.333; 256 permutations give a standard error of about 0.03.
        assert!((agree - 1.0 / 3.0).abs() < 0.1, "{agree}");
    }

    #[test]
    fn candidate_pairs_are_every_buckets_pairs_once() {
        // Random signatures over few values, so bands collide into buckets of every size,
        // some over `max_bucket`; the reference pairs each distinct bucket with
        // `pair_bucket` and sorts the lot.
        let (n, num_perm, banding) = (400usize, 8, Banding { bands: 4, rows: 2 });
        let mut seed = 11u64;
        let mut signatures = Vec::new();
        for i in 0..n {
            for _ in 0..num_perm {
                seed = mix(seed);
                signatures.push(if i % 50 == 7 {
                    u32::MAX
                } else {
                    (seed % 5) as u32
                });
            }
        }
        let order: Vec<u32> = (0..n as u32).map(|i| (i * 37) % n as u32).collect();
        let (max_bucket, window) = (12, 3);
        let mut keys = Vec::new();
        for band in 0..banding.bands {
            let mut buckets: HashMap<Vec<u32>, Vec<u32>> = HashMap::new();
            for i in 0..n {
                let sig = &signatures[i * num_perm..][..num_perm];
                if sig[0] != u32::MAX {
                    let key = sig[band * banding.rows..][..banding.rows].to_vec();
                    buckets.entry(key).or_default().push(i as u32);
                }
            }
            for mut members in buckets.into_values() {
                pair_bucket(&mut members, max_bucket, window, &order, &mut keys);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let want = keys;
        let got = candidate_pairs(&signatures, num_perm, banding, max_bucket, window, &order);
        assert!(
            want.len() > 1000,
            "{} pairs: too few to test much",
            want.len()
        );
        assert_eq!(got, want);
    }

    #[test]
    fn banding_follows_the_threshold() {
        let low = Banding::for_threshold(0.3, 64);
        let high = Banding::for_threshold(0.8, 64);
        assert!(low.rows < high.rows, "{low:?} {high:?}");
        assert!(low.bands * low.rows <= 64 && high.bands * high.rows <= 64);
    }

    #[test]
    fn similar_items_are_candidates_and_unrelated_are_not() {
        let m = MinHasher::new(64, 1);
        let items = [
            vec!["sony", "turntable", "pslx350h", "belt", "drive"],
            vec!["sony", "pslx350h", "turntable", "black"],
            vec!["bose", "acoustimass", "speaker", "am53bk"],
            vec![],
        ];
        let mut flat = Vec::new();
        for it in &items {
            flat.extend(sig(&m, it));
        }
        let pairs = candidate_pairs(
            &flat,
            64,
            Banding::for_threshold(0.3, 64),
            100,
            5,
            &[0, 1, 2, 3],
        );
        assert_eq!(pairs, vec![(0, 1)]);
    }

    #[test]
    fn oversized_buckets_pair_only_neighbours() {
        let m = MinHasher::new(16, 1);
        let mut flat = Vec::new();
        for _ in 0..50 {
            flat.extend(sig(&m, &["same", "title"]));
        }
        let order: Vec<u32> = (0..50).collect();
        let pairs = candidate_pairs(&flat, 16, Banding { bands: 4, rows: 4 }, 10, 2, &order);
        // Each member pairs with its next 2: 49 + 48 pairs, never all 1,225.
        assert_eq!(pairs.len(), 97);
    }
}
