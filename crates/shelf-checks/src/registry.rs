//! The registry: every built-in check, sorted by code. Explicit on purpose (STYLE.md §9): grep
//! a code and you find its line here and its file in `checks/`.

use crate::checks::*;
use crate::plan::Check;

/// Every built-in check, sorted by code. Codes are stable and never reused.
pub static CHECKS: &[&dyn Check] = &[
    &bot_traffic::BotTraffic,
    &category_mismatch::CategoryMismatch,
    &uncategorized_item::UncategorizedItem,
    &duplicate_rows::DuplicateRows,
    &conflicting_duplicate_ids::ConflictingDuplicateIds,
    &duplicate_events::DuplicateEvents,
    &duplicate_products::DuplicateProducts,
    &product_variants::ProductVariants,
    &conversion_without_view::ConversionWithoutView,
    &click_without_impression::ClickWithoutImpression,
    &conversion_after_session_end::ConversionAfterSessionEnd,
    &conflicting_labels::ConflictingLabels,
    &single_label_query::SingleLabelQuery,
    &label_out_of_scale::LabelOutOfScale,
    &noisy_label::NoisyLabel,
    &missing_value::MissingValue,
    &null_like_string::NullLikeString,
    &test_value::TestValue,
    &zero_price::ZeroPrice,
    &negative_price::NegativePrice,
    &implausible_price::ImplausiblePrice,
    &non_positive_quantity::NonPositiveQuantity,
    &implausible_quantity::ImplausibleQuantity,
    &price_outlier_in_category::PriceOutlierInCategory,
    &order_price_mismatch::OrderPriceMismatch,
    &cancellation_line::CancellationLine,
    &non_product_line::NonProductLine,
    &position_ctr_anomaly::PositionCtrAnomaly,
    &propensity_problem::PropensityProblem,
    &empty_query::EmptyQuery,
    &duplicate_queries::DuplicateQueries,
    &query_too_long::QueryTooLong,
    &zero_result_query::ZeroResultQuery,
    &never_clicked_query::NeverClickedQuery,
    &unknown_item::UnknownItem,
    &item_without_interactions::ItemWithoutInteractions,
    &unparseable_value::UnparseableValue,
    &mixed_types::MixedTypes,
    &future_timestamp::FutureTimestamp,
    &outside_data_window::OutsideDataWindow,
    &out_of_order_in_session::OutOfOrderInSession,
    &markup_in_text::MarkupInText,
    &mojibake::Mojibake,
    &control_characters::ControlCharacters,
    &text_too_short::TextTooShort,
    &text_too_long::TextTooLong,
    &shouting_text::ShoutingText,
    &keyword_stuffing::KeywordStuffing,
    &placeholder_title::PlaceholderTitle,
    &mixed_scripts::MixedScripts,
];

/// Finds a check by code (`MV001`, case-insensitive) or name (`missing-value`).
pub fn find(code_or_name: &str) -> Option<&'static dyn Check> {
    CHECKS
        .iter()
        .copied()
        .find(|c| c.code().eq_ignore_ascii_case(code_or_name) || c.name() == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sorted_unique_and_named() {
        let codes: Vec<&str> = CHECKS.iter().map(|c| c.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            codes, sorted,
            "registry must be sorted by code, without repeats"
        );
        for c in CHECKS {
            assert!(
                c.name()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
                "{} is not kebab-case",
                c.name()
            );
            let doc = c.doc();
            assert!(
                doc.starts_with(&format!("{} ({})", c.name(), c.code())),
                "{} doc must open with its name and code",
                c.code()
            );
            for part in ["What:", "Why:", "Example:", "Fix:"] {
                assert!(doc.contains(part), "{} doc lacks {part}", c.code());
            }
        }
    }
}
