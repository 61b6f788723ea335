use shelf_core::{Severity, TableKind};

use crate::plan::{Check, Ctx, ProbeSpec};

/// A rule the user wrote in `shelf.toml`:
///
/// ```toml
/// [[rule]]
/// name = "price-under-cap"
/// table = "catalog"
/// expect = "price < 50000"      # SQL over role names; rows where it is false are reported
/// severity = "warning"
/// mostly = 0.99                 # optional: tolerate up to 1% failing rows
/// ```
///
/// Rows where `expect` is NULL (e.g. a missing price) are not counted: missing values have
/// their own checks.
#[derive(Debug, Clone)]
pub struct UserRule {
    pub code: &'static str,
    pub name: &'static str,
    pub table: TableKind,
    pub expect: String,
    pub severity: Severity,
    pub message: Option<String>,
}

impl Check for UserRule {
    fn code(&self) -> &'static str {
        self.code
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn doc(&self) -> &'static str {
        "A rule written by the user in shelf.toml ([[rule]]): rows where its `expect` SQL predicate is false are reported."
    }
    fn severity(&self) -> Severity {
        self.severity
    }
    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let Some(t) = ctx.table(self.table) else {
            return vec![];
        };
        let show: Vec<String> = t.roles.keys().take(4).map(|r| t.raw_text(*r)).collect();
        let message = self.message.clone().unwrap_or_else(|| {
            format!(
                "{{n}} of {{total}} rows {{breaks|break}} the rule `{}`",
                self.expect
            )
        });
        vec![ProbeSpec::rows(
            t,
            None,
            format!("NOT ({})", self.expect),
            show,
            message,
            self.severity,
        )]
    }
}
