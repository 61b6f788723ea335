//! Roles: what a column means, independent of what the user called it.

use serde::{Deserialize, Serialize};

/// How a role's values are parsed and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleType {
    /// An identifier: compared as text, never as a number.
    Id,
    /// Free text (titles, descriptions, queries, reviews).
    Text,
    /// A short label from a small vocabulary (event type, currency, device, brand).
    Label,
    /// A money amount, in any of the forms shops write (`$1,299.00`, `1.299,00 €`, cents).
    Money,
    /// A plain number (quantity, position, rating, relevance label, stock).
    Number,
    /// A point in time (ISO, `12/1/2010 8:26`, unix seconds or milliseconds).
    Time,
    /// A category path such as `frozen > ice cream`.
    Category,
}

macro_rules! roles {
    ($($variant:ident => $name:literal, $ty:ident;)*) => {
        /// A column's meaning. The names are the snake_case strings used in `shelf.toml`,
        /// presets and every output.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Role { $($variant,)* }

        impl Role {
            /// Every role, in declaration order.
            pub const ALL: &'static [Role] = &[$(Role::$variant,)*];

            /// The snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $(Role::$variant => $name,)* }
            }

            /// How the role's values are parsed.
            pub fn role_type(self) -> RoleType {
                match self { $(Role::$variant => RoleType::$ty,)* }
            }
        }
    };
}

roles! {
    ItemId => "item_id", Id;
    Title => "title", Text;
    Description => "description", Text;
    Brand => "brand", Label;
    Category => "category", Category;
    Price => "price", Money;
    Currency => "currency", Label;
    Attributes => "attributes", Text;
    Image => "image", Text;
    CreatedAt => "created_at", Time;
    Stock => "stock", Number;
    UserId => "user_id", Id;
    SessionId => "session_id", Id;
    Event => "event", Label;
    Timestamp => "timestamp", Time;
    Query => "query", Text;
    Position => "position", Number;
    Quantity => "quantity", Number;
    OrderId => "order_id", Id;
    Device => "device", Label;
    Ip => "ip", Label;
    Country => "country", Label;
    Click => "click", Number;
    Propensity => "propensity", Number;
    QueryId => "query_id", Id;
    ResultCount => "result_count", Number;
    Label => "label", Number;
    Annotator => "annotator", Id;
    Rating => "rating", Number;
    Text => "text", Text;
}

impl Role {
    /// Parses a role name (`item_id`, `title`, …).
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// The names of all roles, for error messages that list the valid choices.
    pub fn names() -> Vec<&'static str> {
        Role::ALL.iter().map(|r| r.as_str()).collect()
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
