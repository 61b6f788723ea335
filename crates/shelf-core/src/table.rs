//! Table kinds and what shelf learned about each input table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Role;

/// The five kinds of table shelf understands; each is optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Catalog,
    Events,
    Queries,
    Judgments,
    Reviews,
}

impl TableKind {
    pub const ALL: &'static [TableKind] = &[
        TableKind::Catalog,
        TableKind::Events,
        TableKind::Queries,
        TableKind::Judgments,
        TableKind::Reviews,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::Catalog => "catalog",
            TableKind::Events => "events",
            TableKind::Queries => "queries",
            TableKind::Judgments => "judgments",
            TableKind::Reviews => "reviews",
        }
    }

    pub fn parse(s: &str) -> Option<TableKind> {
        TableKind::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// Roles a table of this kind cannot be checked without.
    pub fn required_roles(self) -> &'static [Role] {
        match self {
            TableKind::Catalog => &[Role::ItemId],
            TableKind::Events => &[Role::ItemId],
            TableKind::Queries => &[Role::Query],
            TableKind::Judgments => &[Role::ItemId, Role::Label],
            TableKind::Reviews => &[Role::ItemId],
        }
    }

    /// Roles that make sense in this kind of table (inference only proposes these).
    pub fn known_roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            TableKind::Catalog => &[
                ItemId,
                Title,
                Description,
                Brand,
                Category,
                Price,
                Currency,
                Attributes,
                Image,
                CreatedAt,
                Stock,
            ],
            TableKind::Events => &[
                UserId, SessionId, ItemId, Event, Timestamp, Query, Position, Quantity, Price,
                OrderId, Device, Ip, Country, Click, Propensity, Title, Category,
            ],
            TableKind::Queries => &[QueryId, Query, Timestamp, ResultCount],
            TableKind::Judgments => &[QueryId, Query, ItemId, Label, Annotator, Title],
            TableKind::Reviews => &[ItemId, UserId, Rating, Text, Timestamp],
        }
    }
}

impl std::fmt::Display for TableKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a role binding came from, so the report can say how to override it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MappingSource {
    /// The user's `shelf.toml`.
    Config,
    /// A preset for a known public format.
    Preset,
    /// Guessed from the column's name and values.
    Inferred,
}

/// One role bound to one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleBinding {
    pub role: Role,
    pub column: String,
    pub source: MappingSource,
}

/// What was read for one table: reported in `summary.json` under `tables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    pub kind: TableKind,
    pub path: String,
    pub rows: u64,
    pub columns: Vec<String>,
    /// role → column
    pub roles: BTreeMap<String, String>,
    /// role → where the binding came from
    pub role_sources: BTreeMap<String, MappingSource>,
    pub encoding: String,
    pub format: String,
    /// The preset used, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}
