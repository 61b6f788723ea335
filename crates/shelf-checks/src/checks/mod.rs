//! One file per check. Each file holds the check's doc (what it does, why it matters, an
//! example, the fix) and its plan; the registry in `crate::registry` lists them all.

use shelf_core::{Role, RoleType, TableKind};

use crate::plan::{TableInfo, sql_str};

/// Implements the metadata half of [`crate::plan::Check`].
macro_rules! meta {
    ($code:literal, $name:literal, $sev:ident, $fix:expr, $doc:expr) => {
        fn code(&self) -> &'static str {
            $code
        }
        fn name(&self) -> &'static str {
            $name
        }
        fn doc(&self) -> &'static str {
            $doc
        }
        fn severity(&self) -> shelf_core::Severity {
            shelf_core::Severity::$sev
        }
        fn fix(&self) -> Option<&'static str> {
            $fix
        }
    };
}

pub mod bot_traffic;
pub mod cancellation_line;
pub mod category_mismatch;
pub mod click_without_impression;
pub mod conflicting_duplicate_ids;
pub mod conflicting_labels;
pub mod control_characters;
pub mod conversion_after_session_end;
pub mod conversion_without_view;
pub mod duplicate_events;
pub mod duplicate_products;
pub mod duplicate_queries;
pub mod duplicate_rows;
pub mod empty_query;
pub mod future_timestamp;
pub mod implausible_price;
pub mod implausible_quantity;
pub mod item_without_interactions;
pub mod keyword_stuffing;
pub mod label_out_of_scale;
pub mod markup_in_text;
pub mod missing_value;
pub mod mixed_scripts;
pub mod mixed_types;
pub mod mojibake;
pub mod negative_price;
pub mod never_clicked_query;
pub mod noisy_label;
pub mod non_positive_quantity;
pub mod non_product_line;
pub mod null_like_string;
pub mod order_price_mismatch;
pub mod out_of_order_in_session;
pub mod outside_data_window;
pub mod placeholder_title;
pub mod position_ctr_anomaly;
pub mod price_outlier_in_category;
pub mod product_variants;
pub mod propensity_problem;
pub mod query_too_long;
pub mod shouting_text;
pub mod single_label_query;
pub mod test_value;
pub mod text_too_long;
pub mod text_too_short;
pub mod uncategorized_item;
pub mod unknown_item;
pub mod unparseable_value;
pub mod user_rule;
pub mod zero_price;
pub mod zero_result_query;

/// Roles holding free text.
pub(crate) const TEXT_ROLES: &[Role] = &[Role::Title, Role::Description, Role::Query, Role::Text];

/// Bound roles among `roles`, in the given order.
pub(crate) fn bound(t: &TableInfo, roles: &[Role]) -> Vec<Role> {
    roles.iter().copied().filter(|r| t.has(*r)).collect()
}

/// Columns worth showing next to a flagged value: the row's id role, then the role itself.
pub(crate) fn show(t: &TableInfo, role: Role) -> Vec<String> {
    let mut v = Vec::new();
    for id in [Role::ItemId, Role::QueryId, Role::OrderId] {
        if t.has(id) && id != role {
            v.push(id.as_str().to_string());
            break;
        }
    }
    v.push(t.raw_text(role));
    v
}

/// Roles where a missing value is normal (only some events carry a query, a price…).
pub(crate) fn sparse(kind: TableKind, role: Role) -> bool {
    use Role::*;
    match kind {
        TableKind::Events => matches!(
            role,
            Query | Position | Quantity | Price | OrderId | Device | Ip | Click | Propensity
        ),
        TableKind::Catalog => matches!(role, Attributes | Currency | Stock | CreatedAt),
        TableKind::Judgments => matches!(role, Annotator | Title),
        TableKind::Reviews => matches!(role, Text),
        TableKind::Queries => matches!(role, ResultCount | Query),
    }
}

/// The `shelf_null_like` call for a value, with the table's extra tokens.
pub(crate) fn null_like(t: &TableInfo, expr: &str) -> String {
    format!(
        "shelf_null_like({expr}, {})",
        sql_str(&t.null_tokens.join("|"))
    )
}

/// A short human name for a role type, for messages.
pub(crate) fn type_name(role: Role) -> &'static str {
    match role.role_type() {
        RoleType::Money => "price",
        RoleType::Number => "number",
        RoleType::Time => "date/time",
        _ if role == Role::Label => "relevance label",
        _ => "value",
    }
}

/// The query key of a judgments or queries table: the query id when there is one, else the text.
pub(crate) fn query_key(t: &TableInfo) -> Option<&'static str> {
    if t.has(Role::QueryId) {
        Some("query_id")
    } else if t.has(Role::Query) {
        Some("query")
    } else {
        None
    }
}

/// A row probe per bound role in `roles`, flagging rows where `predicate(role)` holds.
pub(crate) fn per_role(
    ctx: &crate::plan::Ctx<'_>,
    roles: &[Role],
    severity: shelf_core::Severity,
    predicate: impl Fn(&TableInfo, Role) -> Option<String>,
    message: impl Fn(&TableInfo, Role) -> String,
) -> Vec<crate::plan::ProbeSpec> {
    let mut out = Vec::new();
    for t in ctx.tables {
        for role in bound(t, roles) {
            if let Some(p) = predicate(t, role) {
                out.push(crate::plan::ProbeSpec::rows(
                    t,
                    Some(role),
                    p,
                    show(t, role),
                    message(t, role),
                    severity,
                ));
            }
        }
    }
    out
}
