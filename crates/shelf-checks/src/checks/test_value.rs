use shelf_core::RoleType;

use super::show;
use crate::plan::{Check, Ctx, ProbeSpec};

/// MV003
pub struct TestValue;

impl Check for TestValue {
    meta!(
        "MV003",
        "test-value",
        Warning,
        Some("DropRows"),
        "\
test-value (MV003)

What: finds text fields whose whole value is something people type while testing: `test`,
`测试`, `dummy`, `asdf`, `lorem ipsum`, `xxx`.

Why: test rows leak into production catalogs and logs; they get indexed, recommended and
counted.

Example: Online Retail has 3 order lines whose description is \"test\".

Fix: drop the rows (DropRows) after checking they are not real products."
    );

    fn plan(&self, ctx: &Ctx<'_>) -> Vec<ProbeSpec> {
        let mut out = Vec::new();
        for t in ctx.tables {
            for role in t.roles_of(&[
                RoleType::Text,
                RoleType::Label,
                RoleType::Category,
                RoleType::Id,
            ]) {
                out.push(ProbeSpec::rows(
                    t,
                    Some(role),
                    format!("shelf_test_value({})", role.as_str()),
                    show(t, role),
                    format!(
                        "{{n}} {{row has|rows have}} a test value (\"test\", \"测试\", \"dummy\"…) as {{its|their}} {}",
                        role
                    ),
                    self.severity(),
                ));
            }
        }
        out
    }
}
