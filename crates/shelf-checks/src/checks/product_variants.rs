use serde_json::{Map, Value, json};

use super::duplicate_products::ProductMatcher;
use crate::dedup::Matches;
use crate::plan::{Check, Ctx, Outcome, ProbeSpec};

/// DU005
pub struct ProductVariants;

const CODE: &str = "DU005";
const SHOWN: usize = 20;

impl Check for ProductVariants {
    meta!(
        "DU005",
        "product-variants",
        Info,
        None,
        "\
product-variants (DU005)

What: finds groups of catalog items of one product line that differ in one variant dimension —
capacity (128GB / 256GB), size (46\" / 52\"), volume, weight, colour, a sibling model code
(LN46A650 / LN52A650), or, for titles without model codes, a variety: one or two words swapped
for unrelated ones (`Spread - Raspberry, Diet` / `Spread - Strawberry, Diet`; abbreviations and
misspellings such as `Std` / `Standard` do not count). They come out of the same matching as duplicate-products (DU004): a
pair that would score as a duplicate except for that difference is a variant pair. Needs a
catalog title; settings are duplicate-products'.

Why: variants are not duplicates — merging them loses real products — but a catalog that does
not link them shows ten near-identical results and cannot offer \"other sizes\"; their clicks
and reviews are split.

Example: `Apple iPhone 15 Pro 128GB Black` and `Apple iPhone 15 Pro 256GB Black`.

Fix: link each group as one product family (a parent id or variant attributes); do not merge."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        ProductMatcher::probe(
            ctx,
            "{n} catalog {item is a variant|items are variants} of one product line",
            self.severity(),
        )
    }
}

/// DU005's finding from the shared matching run.
pub(crate) fn outcome(
    m: &Matches,
    row_ids: &[u64],
    row: &dyn Fn(u32) -> Map<String, Value>,
) -> Option<Outcome> {
    if m.variant_groups.is_empty() {
        return None;
    }
    let mut rows: Vec<u64> = m
        .variant_groups
        .iter()
        .flat_map(|g| g.members.iter().map(|&i| row_ids[i as usize]))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let mut order: Vec<usize> = (0..m.variant_groups.len()).collect();
    order.sort_by_key(|&k| {
        let g = &m.variant_groups[k];
        (std::cmp::Reverse(g.members.len()), g.members[0])
    });
    let groups: Vec<Value> = order
        .iter()
        .take(SHOWN)
        .map(|&k| {
            let g = &m.variant_groups[k];
            json!({
                "differences": g.differences,
                "members": g.members.iter().map(|&i| Value::Object(row(i))).collect::<Vec<_>>(),
            })
        })
        .collect();
    let examples = order
        .iter()
        .take(5)
        .map(|&k| {
            let g = &m.variant_groups[k];
            let mut o = row(g.members[0]);
            o.insert(
                "variant_of_row_id".into(),
                json!(row_ids[g.members[1] as usize]),
            );
            o.insert(
                "variant_of_title".into(),
                row(g.members[1])["title"].clone(),
            );
            o.insert("differences".into(), json!(g.differences.join("; ")));
            o
        })
        .collect();
    let mut evidence = Map::new();
    evidence.insert("groups".into(), json!(m.variant_groups.len()));
    evidence.insert("pairs".into(), json!(m.variants.len()));
    evidence.insert("shown_groups".into(), Value::Array(groups));
    Some(Outcome {
        code: CODE,
        key: String::new(),
        row_ids: rows,
        rows_sql: None,
        examples,
        evidence,
        message: Some(format!(
            "{{n}} catalog items form {} variant groups: one product line in different sizes, capacities, colours, varieties or sibling models — link them as families, do not merge them",
            m.variant_groups.len()
        )),
    })
}
