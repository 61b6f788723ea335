use shelf_core::Role;

use super::per_role;
use crate::plan::{Check, Ctx, ProbeSpec};

/// TX008
pub struct PlaceholderTitle;

impl Check for PlaceholderTitle {
    meta!(
        "TX008",
        "placeholder-title",
        Error,
        Some("GenerateTitles"),
        "\
placeholder-title (TX008)

What: finds titles that are template text rather than a product name: `Product Title`,
`untitled`, `New Item`, `商品名称`, `宝贝标题`, `TBD`.

Why: the listing was published before it was filled in; it cannot be found and shows garbage
to customers.

Example: a title `商品名称`.

Fix: write the title from the product's attributes (GenerateTitles)."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        per_role(
            ctx,
            &[Role::Title],
            self.severity(),
            |_, r| Some(format!("shelf_placeholder_title({r})")),
            |t, _| {
                format!(
                    "{{n}} {{title|titles}} in {} {{is|are}} template text such as \"Product Title\"",
                    t.column(Role::Title).unwrap_or_default()
                )
            },
        )
    }
}
