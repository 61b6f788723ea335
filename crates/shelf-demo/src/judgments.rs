//! Graded relevance judgments (0–3) by five annotators, some pairs judged twice.

use std::collections::BTreeSet;

use crate::catalog::{Catalog, SkuPool};
use crate::queries::Query;
use crate::rng::Rng;
use crate::vocab::TYPES;
use crate::{Row, count};

pub(crate) const HEADER: [&str; 5] = ["query_id", "query", "item_id", "label", "annotator"];

// The full column map, whether or not the generator names every column.
#[allow(dead_code)]
pub(crate) mod col {
    pub(crate) const QUERY_ID: usize = 0;
    pub(crate) const QUERY: usize = 1;
    pub(crate) const ITEM_ID: usize = 2;
    pub(crate) const LABEL: usize = 3;
    pub(crate) const ANNOTATOR: usize = 4;
}
use col::*;

const ANNOTATORS: [&str; 5] = ["a1", "a2", "a3", "a4", "a5"];

/// Relevance of an item to a query: its type and brand against the query's.
fn relevance(rng: &mut Rng, q: &Query, ty: usize, brand: &str) -> i64 {
    let base = if ty == q.ty {
        match q.brand {
            Some(b) if b == brand => 3,
            Some(_) => 2,
            None if rng.chance(0.5) => 3,
            None => 2,
        }
    } else if TYPES[ty].top() == TYPES[q.ty].top() {
        1
    } else {
        0
    };
    // Annotators disagree with the rubric now and then, by one grade.
    if rng.chance(0.1) {
        (base + *rng.pick(&[-1, 1])).clamp(0, 3)
    } else {
        base
    }
}

fn label(r: &Row) -> i64 {
    r.cells[LABEL].parse().unwrap_or(-99)
}

fn group_for(rng: &mut Rng, q: &Query, cat: &Catalog) -> Vec<Row> {
    let same_top: Vec<usize> = (0..TYPES.len())
        .filter(|&t| t != q.ty && TYPES[t].top() == TYPES[q.ty].top())
        .collect();
    let other_top: Vec<usize> = (0..TYPES.len())
        .filter(|&t| TYPES[t].top() != TYPES[q.ty].top())
        .collect();
    loop {
        let n_same = rng.range(3, 5) as usize;
        let mut picked: Vec<usize> = rng.sample(&cat.by_type[q.ty], n_same);
        for _ in 0..rng.range(0, 2) {
            if !same_top.is_empty() {
                let t = *rng.pick(&same_top);
                picked.push(*rng.pick(&cat.by_type[t]));
            }
        }
        for _ in 0..rng.range(1, 2) {
            let t = *rng.pick(&other_top);
            picked.push(*rng.pick(&cat.by_type[t]));
        }
        let mut uniq = BTreeSet::new();
        picked.retain(|i| uniq.insert(*i));
        rng.shuffle(&mut picked);

        let mut rows = Vec::new();
        for i in picked {
            let item = &cat.items[i];
            let l = relevance(rng, q, item.ty, &item.brand);
            let a = rng.below(ANNOTATORS.len());
            let mk = |l: i64, a: usize| {
                let cells = vec![
                    q.id.clone(),
                    q.text.clone(),
                    item.sku.clone(),
                    l.to_string(),
                    ANNOTATORS[a].to_string(),
                ];
                Row::new(cells, item.ty)
            };
            rows.push(mk(l, a));
            if rng.chance(0.15) {
                let a2 = (a + 1 + rng.below(ANNOTATORS.len() - 1)) % ANNOTATORS.len();
                let l2 = (l + rng.range(-1, 1)).clamp(0, 3);
                rows.push(mk(l2, a2));
            }
        }
        let labels: BTreeSet<i64> = rows.iter().map(label).collect();
        if rows.len() >= 3 && labels.len() >= 2 {
            return rows;
        }
    }
}

/// Clean rows whose (query, item) pair has no second judgment, in untouched groups.
fn singletons(groups: &[Vec<Row>], touched: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (g, rows) in groups.iter().enumerate() {
        if touched[g] {
            continue;
        }
        for (r, row) in rows.iter().enumerate() {
            let pair = rows
                .iter()
                .filter(|o| o.cells[ITEM_ID] == row.cells[ITEM_ID])
                .count();
            if row.is_clean() && pair == 1 {
                out.push((g, r));
            }
        }
    }
    out
}

pub(crate) fn build(
    rng: &mut Rng,
    queries: &[Query],
    cat: &Catalog,
    skus: &mut SkuPool,
) -> Vec<Row> {
    let n_judged = (queries.len() * 2 / 5).max(12).min(queries.len());
    let mut judged: Vec<usize> = rng.sample(&(0..queries.len()).collect::<Vec<_>>(), n_judged);
    judged.sort_unstable();
    let mut groups: Vec<Vec<Row>> = judged
        .iter()
        .map(|&i| group_for(rng, &queries[i], cat))
        .collect();
    let mut touched = vec![false; groups.len()];
    let total: usize = groups.iter().map(Vec::len).sum();
    let k = count(total, 0.01);

    // JU002: a lazy annotator gives every item of a query the same grade.
    let n_single = ((groups.len() as f64 * 0.03).round() as usize).max(3);
    for g in rng.sample(&(0..groups.len()).collect::<Vec<_>>(), n_single) {
        touched[g] = true;
        let l = rng.range(0, 3).to_string();
        let n = groups[g].len();
        for r in &mut groups[g] {
            r.cells[LABEL] = l.clone();
            r.tag("JU002", format!("all {n} judgments set to {l}"));
        }
    }
    // JU001: a second annotator who disagrees by two grades or more.
    for _ in 0..k {
        let (g, r) = *rng.pick(&singletons(&groups, &touched));
        let orig = &groups[g][r];
        let l = label(orig);
        let l2 = if l >= 2 {
            rng.range(0, l - 2)
        } else {
            rng.range(l + 2, 3)
        };
        let a = ANNOTATORS
            .iter()
            .position(|a| *a == orig.cells[ANNOTATOR])
            .unwrap_or(0);
        let a2 = (a + 1 + rng.below(ANNOTATORS.len() - 1)) % ANNOTATORS.len();
        let mut second = Row::new(orig.cells.clone(), orig.ty);
        second.cells[LABEL] = l2.to_string();
        second.cells[ANNOTATOR] = ANNOTATORS[a2].to_string();
        let note = format!("labels {l} and {l2} for the same pair");
        second.tag("JU001", note.clone());
        groups[g][r].tag("JU001", note);
        groups[g].insert(r + 1, second);
    }
    // JU003: a label off the 0–3 scale, where the query keeps two distinct labels without it.
    for j in 0..k {
        let cands: Vec<(usize, usize)> = singletons(&groups, &touched)
            .into_iter()
            .filter(|&(g, r)| {
                let others: BTreeSet<i64> = groups[g]
                    .iter()
                    .enumerate()
                    .filter(|&(o, _)| o != r)
                    .map(|(_, row)| label(row))
                    .filter(|l| (0..=3).contains(l))
                    .collect();
                others.len() >= 2
            })
            .collect();
        let (g, r) = *rng.pick(&cands);
        let v = ["7", "-1"][j % 2];
        groups[g][r].cells[LABEL] = v.to_string();
        groups[g][r].tag("JU003", format!("label set to {v}"));
    }
    // RI001: a judged item that has since left the catalog.
    for _ in 0..k {
        let (g, r) = *rng.pick(&singletons(&groups, &touched));
        let sku = skus.fresh(rng);
        groups[g][r].cells[ITEM_ID] = sku.clone();
        groups[g][r].tag(
            "RI001",
            format!("item_id set to {sku}, which is not in the catalog"),
        );
    }
    groups.into_iter().flatten().collect()
}
