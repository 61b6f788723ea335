//! Star clusters of duplicate pairs, each with a proposed canonical record, and groups of
//! variants across clusters (connected components, by union-find).

use super::{Pair, Product};

/// Items judged to be one product.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Item positions, ascending.
    pub members: Vec<u32>,
    /// The record to keep: the most complete one (brand, price, description, then the longest
    /// title), the earliest on ties.
    pub canonical: u32,
}

/// Items of one product line that differ in a variant dimension. Members are canonical
/// records of their duplicate clusters (or single items).
#[derive(Debug, Clone, PartialEq)]
pub struct VariantGroup {
    pub members: Vec<u32>,
    /// The dimensions that differ, e.g. `capacity 128gb ≠ 256gb`.
    pub differences: Vec<String>,
}

/// Union-find with path halving.
#[derive(Debug)]
struct Sets(Vec<u32>);

impl Sets {
    fn new(n: usize) -> Self {
        Sets((0..n as u32).collect())
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let parent = self.0[self.0[x as usize] as usize];
            self.0[x as usize] = parent;
            x = parent;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            // The smaller root wins, so results never depend on pair order.
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.0[hi as usize] = lo;
        }
    }

    fn groups(&mut self, items: impl Iterator<Item = u32>) -> Vec<Vec<u32>> {
        let mut by_root: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for i in items {
            let r = self.find(i);
            by_root.entry(r).or_default().push(i);
        }
        by_root
            .into_values()
            .filter(|g| g.len() > 1)
            .map(|mut g| {
                g.sort_unstable();
                g.dedup();
                g
            })
            .collect()
    }
}

fn completeness(p: &Product) -> (usize, usize) {
    let filled = usize::from(p.brand.is_some())
        + usize::from(p.price.is_some())
        + usize::from(
            p.description
                .as_deref()
                .is_some_and(|d| !d.trim().is_empty()),
        );
    (filled, p.title.chars().count())
}

/// Star clusters of the duplicate pairs: the item with the most duplicate pairs (then the
/// most complete, then the earliest) takes every still-unclustered item it is directly paired
/// with, and so on. Connected components would chain `a ≈ b ≈ c ≈ …` into one cluster of
/// things that are not all the same product; a star holds only items judged equal to its
/// centre. Every judged pair still goes to `duplicates.csv`.
pub fn clusters(products: &[Product], duplicates: &[Pair]) -> Vec<Cluster> {
    let mut neighbours: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for p in duplicates {
        neighbours.entry(p.a).or_default().push(p.b);
        neighbours.entry(p.b).or_default().push(p.a);
    }
    let mut centres: Vec<u32> = neighbours.keys().copied().collect();
    centres.sort_by(|&x, &y| {
        neighbours[&y]
            .len()
            .cmp(&neighbours[&x].len())
            .then_with(|| {
                completeness(&products[y as usize]).cmp(&completeness(&products[x as usize]))
            })
            .then(x.cmp(&y))
    });
    let mut taken = vec![false; products.len()];
    let mut out = Vec::new();
    for c in centres {
        if taken[c as usize] {
            continue;
        }
        let mut members: Vec<u32> = neighbours[&c]
            .iter()
            .copied()
            .filter(|&m| !taken[m as usize])
            .collect();
        if members.is_empty() {
            continue;
        }
        members.push(c);
        members.sort_unstable();
        for &m in &members {
            taken[m as usize] = true;
        }
        let canonical = *members
            .iter()
            .max_by(|&&x, &&y| {
                completeness(&products[x as usize])
                    .cmp(&completeness(&products[y as usize]))
                    .then(y.cmp(&x))
            })
            .expect("a cluster has members");
        out.push(Cluster { members, canonical });
    }
    out.sort_by_key(|c| c.members[0]);
    out
}

/// Variant pairs joined into groups, counting each duplicate cluster once (its canonical).
pub fn variant_groups(clusters: &[Cluster], variants: &[Pair], n: usize) -> Vec<VariantGroup> {
    let mut canonical_of: Vec<u32> = (0..n as u32).collect();
    for c in clusters {
        for &m in &c.members {
            canonical_of[m as usize] = c.canonical;
        }
    }
    let mut sets = Sets::new(n);
    let mut linked = Vec::new();
    for p in variants {
        let (a, b) = (canonical_of[p.a as usize], canonical_of[p.b as usize]);
        if a != b {
            sets.union(a, b);
            linked.push((a, b, p));
        }
    }
    let groups = sets.groups(linked.iter().flat_map(|(a, b, _)| [*a, *b]));
    groups
        .into_iter()
        .map(|members| {
            let mut differences: Vec<String> = linked
                .iter()
                .filter(|(a, _, _)| members.binary_search(a).is_ok())
                .flat_map(|(_, _, p)| p.verdict.variant_differences.iter().cloned())
                .collect();
            differences.sort();
            differences.dedup();
            differences.truncate(10);
            VariantGroup {
                members,
                differences,
            }
        })
        .collect()
}
