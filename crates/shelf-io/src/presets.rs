//! Presets: how to read and map known public formats, so a user with one of these files needs
//! no `shelf.toml`. Each preset is recognised by its columns (or, for headerless files, by the
//! shape of its values) and can be forced with `--preset NAME` (a preset's name or family).
//!
//! The table is sorted by name and greppable on purpose (STYLE.md §9).

use shelf_core::{Role, TableKind};

use crate::options::ReadOptions;

/// Declared scale of relevance labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LabelScale {
    /// Numeric labels within [min, max].
    Range(f64, f64),
    /// ESCI letters (E, S, C, I) or their words.
    Esci,
}

/// Recognises a headerless format from its first row's values.
pub type RowDetector = fn(&[Option<String>]) -> bool;

/// One known format.
#[derive(Debug)]
pub struct Preset {
    pub name: &'static str,
    /// Presets of one family can be named together (`--preset leipzig`).
    pub family: &'static str,
    pub kind: TableKind,
    pub about: &'static str,
    pub delimiter: Option<u8>,
    /// Column names for a headerless file.
    pub headerless: Option<&'static [&'static str]>,
    /// role → column(s); several columns form a path (category levels).
    pub roles: &'static [(Role, &'static [&'static str])],
    /// Multiply parsed prices by this (0.01 for prices in cents).
    pub price_scale: f64,
    pub label_scale: Option<LabelScale>,
    /// Extra strings that mean "no value" in this format (e.g. Diginetica's `NA`).
    pub null_tokens: &'static [&'static str],
    /// Columns that must all be present for the preset to be recognised.
    pub signature: &'static [&'static str],
    /// For headerless files: recognises the first row's values.
    pub detect_row: Option<RowDetector>,
}

impl Preset {
    /// Read options implied by the preset.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            header: self.headerless.map(|_| false),
            column_names: self
                .headerless
                .map(|c| c.iter().map(|s| s.to_string()).collect()),
            ..ReadOptions::default()
        }
    }

    /// Whether a staged table with these columns (and this first row) is in this format.
    pub fn matches(&self, columns: &[String], first_row: &[Option<String>]) -> bool {
        if let Some(names) = self.headerless {
            // Only a file read without a header: one whose header happens to spell the preset's
            // column names (`query_id,query`) is an ordinary file with a header.
            let generic = columns
                .iter()
                .enumerate()
                .all(|(i, c)| *c == format!("column_{}", i + 1));
            return columns.len() == names.len()
                && generic
                && self.detect_row.is_some_and(|d| d(first_row));
        }
        let lower: Vec<String> = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        self.signature
            .iter()
            .all(|s| lower.iter().any(|c| c == &s.to_ascii_lowercase()))
    }

    /// The column a preset name refers to in a staged table (headerless tables read without the
    /// preset have `column_N` names).
    pub fn resolve_column(&self, wanted: &str, columns: &[String]) -> Option<String> {
        if let Some(c) = columns.iter().find(|c| c.eq_ignore_ascii_case(wanted)) {
            return Some(c.clone());
        }
        let pos = self.headerless?.iter().position(|c| *c == wanted)?;
        columns.get(pos).cloned()
    }
}

fn is_int(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

fn taobao_row(row: &[Option<String>]) -> bool {
    row.len() == 5
        && is_int(&row[0])
        && is_int(&row[1])
        && is_int(&row[2])
        && matches!(row[3].as_deref(), Some("pv" | "buy" | "cart" | "fav"))
        && is_int(&row[4])
}

fn multicpr_query_row(row: &[Option<String>]) -> bool {
    row.len() == 2
        && is_int(&row[0])
        && row[1]
            .as_deref()
            .is_some_and(|s| !s.chars().all(|c| c.is_ascii_digit()))
}

fn qrels_row(row: &[Option<String>]) -> bool {
    row.len() == 4 && row.iter().all(is_int)
}

use Role::*;

/// Every preset, sorted by name.
pub static PRESETS: &[Preset] = &[
    Preset {
        name: "avazu",
        family: "avazu",
        kind: TableKind::Events,
        about: "Avazu CTR impressions (id, click, hour, anonymised site/app/device fields)",
        delimiter: None,
        headerless: None,
        roles: &[(Click, &["click"])],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[
            "id",
            "click",
            "hour",
            "banner_pos",
            "site_id",
            "app_id",
            "device_ip",
        ],
        detect_row: None,
    },
    Preset {
        name: "bigbasket",
        family: "bigbasket",
        kind: TableKind::Catalog,
        about: "BigBasket grocery catalog (product, category, sub_category, brand, sale_price, …)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["index"]),
            (Title, &["product"]),
            (Category, &["category", "sub_category", "type"]),
            (Brand, &["brand"]),
            (Price, &["sale_price"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[
            "product",
            "category",
            "sub_category",
            "brand",
            "sale_price",
            "market_price",
        ],
        detect_row: None,
    },
    Preset {
        name: "criteo",
        family: "criteo",
        kind: TableKind::Events,
        about: "Criteo display-ads CTR format (label, I1–I13 counts, C1–C26 hashed categories)",
        delimiter: None,
        headerless: None,
        roles: &[(Click, &["label"])],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["label", "I1", "I13", "C1", "C26"],
        detect_row: None,
    },
    Preset {
        name: "diginetica",
        family: "diginetica",
        kind: TableKind::Events,
        about: "CIKM Cup 2016 (Diginetica) item views: `;`-separated, user_id \"NA\"",
        delimiter: Some(b';'),
        headerless: None,
        roles: &[
            (SessionId, &["session_id"]),
            (UserId, &["user_id"]),
            (ItemId, &["item_id"]),
            (Timestamp, &["eventdate", "timeframe"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &["NA"],
        signature: &["session_id", "user_id", "item_id", "timeframe", "eventdate"],
        detect_row: None,
    },
    Preset {
        name: "esci-judgments",
        family: "esci",
        kind: TableKind::Judgments,
        about: "Amazon ESCI judgments (query, docId, rating) as exported by Search Relevance Workbench",
        delimiter: None,
        headerless: None,
        roles: &[
            (Query, &["query"]),
            (ItemId, &["docId"]),
            (Label, &["rating"]),
        ],
        price_scale: 1.0,
        label_scale: Some(LabelScale::Range(0.0, 100.0)),
        null_tokens: &[],
        signature: &["query", "docId", "rating"],
        detect_row: None,
    },
    Preset {
        name: "esci-labels",
        family: "esci",
        kind: TableKind::Judgments,
        about: "Amazon ESCI examples (query_id, query, product_id, esci_label E/S/C/I)",
        delimiter: None,
        headerless: None,
        roles: &[
            (QueryId, &["query_id"]),
            (Query, &["query"]),
            (ItemId, &["product_id"]),
            (Label, &["esci_label"]),
        ],
        price_scale: 1.0,
        label_scale: Some(LabelScale::Esci),
        null_tokens: &[],
        signature: &["query_id", "product_id", "esci_label"],
        detect_row: None,
    },
    Preset {
        name: "esci-products",
        family: "esci",
        kind: TableKind::Catalog,
        about: "Amazon ESCI product sample (Vespa feed: fields.id, fields.title, …)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["fields.id"]),
            (Title, &["fields.title"]),
            (Description, &["fields.description"]),
            (Brand, &["fields.brand"]),
            (Attributes, &["fields.bullets"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["fields.id", "fields.title"],
        detect_row: None,
    },
    Preset {
        name: "esci-queries",
        family: "esci",
        kind: TableKind::Queries,
        about: "Amazon ESCI query set (queryText)",
        delimiter: None,
        headerless: None,
        roles: &[(Query, &["queryText"])],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["queryText"],
        detect_row: None,
    },
    Preset {
        name: "homedepot",
        family: "homedepot",
        kind: TableKind::Judgments,
        about: "Home Depot product search relevance (product_uid, product_title, search_term, relevance 1–3)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["product_uid"]),
            (Title, &["product_title"]),
            (Query, &["search_term"]),
            (Label, &["relevance"]),
        ],
        price_scale: 1.0,
        label_scale: Some(LabelScale::Range(1.0, 3.0)),
        null_tokens: &[],
        signature: &["product_uid", "search_term", "relevance"],
        detect_row: None,
    },
    Preset {
        name: "icecat",
        family: "icecat",
        kind: TableKind::Catalog,
        about: "Icecat open catalog JSON (title, ean, supplier, price in cents, attr_*)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["id"]),
            (Title, &["title"]),
            (Description, &["short_description"]),
            (Brand, &["supplier"]),
            (Price, &["price"]),
            (CreatedAt, &["date_released"]),
            (Image, &["img_high"]),
        ],
        price_scale: 0.01,
        label_scale: None,
        null_tokens: &[],
        signature: &["id", "title", "ean", "supplier", "short_description"],
        detect_row: None,
    },
    Preset {
        name: "leipzig-abt",
        family: "leipzig",
        kind: TableKind::Catalog,
        about: "Leipzig Abt-Buy benchmark, Abt table (id, name, description, price like $1,299.00)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["id"]),
            (Title, &["name"]),
            (Description, &["description"]),
            (Price, &["price"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["id", "name", "description", "price"],
        detect_row: None,
    },
    Preset {
        name: "leipzig-amazon",
        family: "leipzig",
        kind: TableKind::Catalog,
        about: "Leipzig Amazon-GoogleProducts benchmark, Amazon table (id, title, description, manufacturer, price)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["id"]),
            (Title, &["title"]),
            (Description, &["description"]),
            (Brand, &["manufacturer"]),
            (Price, &["price"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["id", "title", "description", "manufacturer", "price"],
        detect_row: None,
    },
    Preset {
        name: "leipzig-buy",
        family: "leipzig",
        kind: TableKind::Catalog,
        about: "Leipzig Abt-Buy / GoogleProducts tables (id, name, description, manufacturer, price)",
        delimiter: None,
        headerless: None,
        roles: &[
            (ItemId, &["id"]),
            (Title, &["name"]),
            (Description, &["description"]),
            (Brand, &["manufacturer"]),
            (Price, &["price"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["id", "name", "description", "manufacturer", "price"],
        detect_row: None,
    },
    Preset {
        name: "multicpr-qrels",
        family: "multicpr",
        kind: TableKind::Judgments,
        about: "Multi-CPR qrels (query id, 0, passage id, label), tab-separated, no header",
        delimiter: Some(b'\t'),
        headerless: Some(&["query_id", "iteration", "passage_id", "label"]),
        roles: &[
            (QueryId, &["query_id"]),
            (ItemId, &["passage_id"]),
            (Label, &["label"]),
        ],
        price_scale: 1.0,
        label_scale: Some(LabelScale::Range(0.0, 1.0)),
        null_tokens: &[],
        signature: &[],
        detect_row: Some(qrels_row),
    },
    Preset {
        name: "multicpr-queries",
        family: "multicpr",
        kind: TableKind::Queries,
        about: "Multi-CPR e-commerce queries (query id, Chinese query), tab-separated, no header",
        delimiter: Some(b'\t'),
        headerless: Some(&["query_id", "query"]),
        roles: &[(QueryId, &["query_id"]), (Query, &["query"])],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[],
        detect_row: Some(multicpr_query_row),
    },
    Preset {
        name: "open-bandit",
        family: "open-bandit",
        kind: TableKind::Events,
        about: "Open Bandit Dataset impressions (timestamp, item_id, position, click, propensity_score)",
        delimiter: None,
        headerless: None,
        roles: &[
            (Timestamp, &["timestamp"]),
            (ItemId, &["item_id"]),
            (Position, &["position"]),
            (Click, &["click"]),
            (Propensity, &["propensity_score"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[
            "timestamp",
            "item_id",
            "position",
            "click",
            "propensity_score",
        ],
        detect_row: None,
    },
    Preset {
        name: "retailrocket",
        family: "retailrocket",
        kind: TableKind::Events,
        about: "Retailrocket events (timestamp ms, visitorid, event view/addtocart/transaction, itemid, transactionid)",
        delimiter: None,
        headerless: None,
        roles: &[
            (Timestamp, &["timestamp"]),
            (UserId, &["visitorid"]),
            (Event, &["event"]),
            (ItemId, &["itemid"]),
            (OrderId, &["transactionid"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["timestamp", "visitorid", "event", "itemid", "transactionid"],
        detect_row: None,
    },
    Preset {
        name: "taobao-userbehavior",
        family: "taobao",
        kind: TableKind::Events,
        about: "Tianchi Taobao UserBehavior (user, item, category, pv/cart/fav/buy, unix seconds), no header",
        delimiter: Some(b','),
        headerless: Some(&["user_id", "item_id", "category_id", "behavior", "timestamp"]),
        roles: &[
            (UserId, &["user_id"]),
            (ItemId, &["item_id"]),
            (Category, &["category_id"]),
            (Event, &["behavior"]),
            (Timestamp, &["timestamp"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[],
        detect_row: Some(taobao_row),
    },
    Preset {
        name: "uci-online-retail",
        family: "uci-online-retail",
        kind: TableKind::Events,
        about: "UCI Online Retail transactions (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country)",
        delimiter: None,
        headerless: None,
        roles: &[
            (OrderId, &["InvoiceNo"]),
            (ItemId, &["StockCode"]),
            (Title, &["Description"]),
            (Quantity, &["Quantity"]),
            (Timestamp, &["InvoiceDate"]),
            (Price, &["UnitPrice"]),
            (UserId, &["CustomerID"]),
            (Country, &["Country"]),
        ],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &[
            "InvoiceNo",
            "StockCode",
            "Quantity",
            "UnitPrice",
            "CustomerID",
        ],
        detect_row: None,
    },
    Preset {
        name: "wands-queries",
        family: "wands",
        kind: TableKind::Queries,
        about: "Wayfair WANDS queries (query_id, query, query_class), tab-separated",
        delimiter: Some(b'\t'),
        headerless: None,
        roles: &[(QueryId, &["query_id"]), (Query, &["query"])],
        price_scale: 1.0,
        label_scale: None,
        null_tokens: &[],
        signature: &["query_id", "query", "query_class"],
        detect_row: None,
    },
];

/// Presets whose name or family is `name`.
pub fn by_name(name: &str) -> Vec<&'static Preset> {
    PRESETS
        .iter()
        .filter(|p| p.name == name || p.family == name)
        .collect()
}

/// Every preset and family name, for error messages.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = PRESETS.iter().flat_map(|p| [p.name, p.family]).collect();
    v.sort_unstable();
    v.dedup();
    v
}
