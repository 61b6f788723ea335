use crate::plan::{Check, Ctx, ProbeSpec};
use crate::semantic;

/// CA002
pub struct UncategorizedItem;

impl Check for UncategorizedItem {
    meta!(
        "CA002",
        "uncategorized-item",
        Info,
        Some("FillCategory"),
        "\
uncategorized-item (CA002)

What: suggests a category for every catalog item without one. Every title (with the brand in
front when the title lacks it) is embedded by the run's embedder; the 10 most similar titles
of categorized items vote, weighted by similarity: the top level among all ten, the second
level among those that agreed on the top, and so on, so the suggestion is always a path that
exists. The evidence lists each suggestion with its share of the top-level vote, strongest
first. Needs a title and a category role and an embedder (`[lm] embedder` in shelf.toml or
`--embedder`); without an embedder it does not run (missing-value still counts the empty
categories).

Why: an item without a category is missing from every category page and facet, and
category-aware rankers and recommenders treat it as an unknown.

Example: `Amul Taaza Toned Milk 1 L` with no category, whose nearest titles are 9 milks
and a curd: suggested `Bakery, Cakes & Dairy > Dairy > Milk`, share 0.9.

Measured on BigBasket with all-MiniLM-L6-v2 (the bigbasket_categories test in
crates/shelf/tests/audit/semantic.rs): with 20% of the category paths hidden, the top-level
suggestion is right for 94% of them (84% for the first two levels, 77% for all three); the
evidence's share says how sure each one is.

Settings ([checks.uncategorized-item]): k (10), max_reference (50,000), max_listed (1,000),
min_share (0.7: suggestions at or above it are counted as confident). Shared with
category-mismatch (CA001).

Fix: accept confident suggestions (FillCategory) and review the rest."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        semantic::plan_vote(ctx, self.severity(), semantic::UNCATEGORIZED)
    }
}
