use crate::plan::{Check, Ctx, ProbeSpec};
use crate::semantic;

/// CA001
pub struct CategoryMismatch;

impl Check for CategoryMismatch {
    meta!(
        "CA001",
        "category-mismatch",
        Warning,
        Some("FixCategory"),
        "\
category-mismatch (CA001)

What: finds catalog items filed under a category their title does not belong to. Every title
(with the brand in front when the title lacks it) is embedded by the run's embedder, and the
10 most similar titles of other categorized items vote, weighted by similarity, on the
category path level by level. An item is flagged when one other top-level category gets at
least 70% of the vote and its own category at most 10%. The suggested path and the margin
(the winner's share minus the own category's share) are in the evidence, strongest first.
Needs a title and a category role and an embedder (`[lm] embedder` in shelf.toml or
`--embedder`); without an embedder it does not run.

Why: a shampoo filed under snacks is invisible to shoppers browsing hair care, pollutes the
snacks facet, and teaches a ranker or a category classifier the wrong thing.

Example: `Parachute Coconut Oil 500 ml` under `Snacks & Branded Foods`, whose 10 nearest
titles are 9 hair oils in `Beauty & Hygiene > Hair Care`: suggested `Beauty & Hygiene > Hair
Care > Hair Oil & Serum`, margin 0.9.

Settings ([checks.category-mismatch]): k (10 neighbours), min_share (0.7), max_own_share
(0.1), max_reference (50,000 labelled items that can vote; exact search costs items ×
reference), max_listed (1,000 suggestions in the evidence). The vote's settings are shared
with uncategorized-item (CA002); set them under either name.

Fix: review the suggestions and move the items (FixCategory); items that really are in two
aisles (a gift box) are expected to show up and need no change."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        semantic::plan_vote(ctx, self.severity(), semantic::MISMATCH)
    }
}
