//! Role inference from column names and values, used when neither `shelf.toml` nor a preset
//! maps a column. The report lists every inferred binding so a user can correct it.

use shelf_core::{Role, TableKind};

/// Synonyms per role, compared after lower-casing and removing everything but letters and
/// digits. Order matters: the first role whose synonym matches a column wins that column.
const SYNONYMS: &[(Role, &[&str])] = &[
    (
        Role::ItemId,
        &[
            "itemid",
            "productid",
            "productuid",
            "sku",
            "asin",
            "stockcode",
            "goodsid",
            "pid",
            "iid",
            "docid",
            "articleid",
            "itemcode",
            "productcode",
            "商品id",
        ],
    ),
    (
        Role::UserId,
        &[
            "userid",
            "customerid",
            "visitorid",
            "memberid",
            "buyerid",
            "uid",
            "clientid",
            "用户id",
        ],
    ),
    (Role::SessionId, &["sessionid", "session", "sid", "visitid"]),
    (Role::QueryId, &["queryid", "qid"]),
    (
        Role::OrderId,
        &[
            "orderid",
            "invoiceno",
            "invoice",
            "invoiceid",
            "transactionid",
            "orderno",
            "订单id",
        ],
    ),
    (
        Role::Title,
        &[
            "title",
            "name",
            "productname",
            "producttitle",
            "itemname",
            "goodsname",
            "product",
            "商品名称",
            "标题",
            "名称",
        ],
    ),
    (
        Role::Description,
        &[
            "description",
            "desc",
            "shortdescription",
            "longdescription",
            "details",
            "productdescription",
            "描述",
            "详情",
        ],
    ),
    (
        Role::Brand,
        &[
            "brand",
            "manufacturer",
            "supplier",
            "vendor",
            "maker",
            "brandname",
            "品牌",
        ],
    ),
    (
        Role::Category,
        &[
            "category",
            "categorypath",
            "categoryname",
            "productcategory",
            "categoryid",
            "cat",
            "subcategory",
            "类目",
            "分类",
        ],
    ),
    (
        Role::Price,
        &[
            "price",
            "saleprice",
            "unitprice",
            "listprice",
            "cost",
            "sellingprice",
            "价格",
            "售价",
            "单价",
        ],
    ),
    (
        Role::Currency,
        &["currency", "curr", "currencycode", "币种"],
    ),
    (
        Role::Attributes,
        &[
            "attributes",
            "attrs",
            "specs",
            "specifications",
            "properties",
            "属性",
        ],
    ),
    (
        Role::Image,
        &[
            "image",
            "imageurl",
            "img",
            "imghigh",
            "picture",
            "imagelink",
            "图片",
        ],
    ),
    (
        Role::CreatedAt,
        &[
            "createdat",
            "created",
            "datereleased",
            "releasedate",
            "dateadded",
            "listedat",
            "上架时间",
        ],
    ),
    (
        Role::Stock,
        &["stock", "inventory", "stockqty", "qtyavailable", "库存"],
    ),
    (
        Role::Event,
        &[
            "event",
            "eventtype",
            "behavior",
            "behaviour",
            "action",
            "interaction",
            "type",
            "行为",
        ],
    ),
    (
        Role::Timestamp,
        &[
            "timestamp",
            "ts",
            "time",
            "datetime",
            "eventtime",
            "date",
            "eventdate",
            "invoicedate",
            "clicktime",
            "时间",
        ],
    ),
    (
        Role::Query,
        &[
            "query",
            "searchterm",
            "searchquery",
            "keyword",
            "keywords",
            "querytext",
            "q",
            "查询",
            "搜索词",
        ],
    ),
    (Role::Position, &["position", "rank", "pos", "slot"]),
    (Role::Quantity, &["quantity", "qty", "units", "数量"]),
    (Role::Device, &["device", "devicetype", "platform"]),
    (Role::Ip, &["ip", "ipaddress", "clientip"]),
    (Role::Country, &["country", "countrycode", "region"]),
    (Role::Click, &["click", "clicked", "isclick"]),
    (
        Role::Propensity,
        &["propensity", "propensityscore", "pscore", "loggingprob"],
    ),
    (
        Role::ResultCount,
        &["resultcount", "results", "numresults", "hits"],
    ),
    (
        Role::Label,
        &[
            "label",
            "relevance",
            "grade",
            "esclabel",
            "judgment",
            "judgement",
            "relevancelabel",
        ],
    ),
    (
        Role::Annotator,
        &["annotator", "rater", "judge", "worker", "assessor"],
    ),
    (Role::Rating, &["rating", "stars", "score", "评分"]),
    (
        Role::Text,
        &[
            "text",
            "review",
            "reviewtext",
            "comment",
            "content",
            "body",
            "评论",
            "内容",
        ],
    ),
];

/// Lower-cases and keeps letters and digits only (`Product_UID` → `productuid`).
pub fn normalize_name(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// One inferred binding and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Inferred {
    pub role: Role,
    pub columns: Vec<String>,
    pub reason: String,
}

/// Infers roles for a table of `kind` from its column names and a sample of values per column.
/// `taken` lists columns already bound (by config or preset), which are skipped.
pub fn infer_roles(
    kind: TableKind,
    columns: &[String],
    sample: &dyn Fn(&str) -> Vec<String>,
    taken: &[String],
    bound: &[Role],
) -> Vec<Inferred> {
    let known = kind.known_roles();
    let mut out: Vec<Inferred> = Vec::new();
    let mut used: Vec<String> = taken.to_vec();
    let is_bound =
        |r: Role, out: &[Inferred]| bound.contains(&r) || out.iter().any(|i| i.role == r);
    // Names first.
    for (role, names) in SYNONYMS {
        if !known.contains(role) || is_bound(*role, &out) {
            continue;
        }
        // In a catalog, a bare `id` is the item id; in judgments/events it is usually a row id.
        let mut extra: Vec<&str> = Vec::new();
        if *role == Role::ItemId && kind == TableKind::Catalog {
            extra.push("id");
        }
        if *role == Role::Rating && kind == TableKind::Judgments {
            continue;
        }
        if *role == Role::Label && kind == TableKind::Judgments {
            extra.extend(["rating", "score"]);
        }
        if *role == Role::Text && kind == TableKind::Reviews {
            extra.push("description");
        }
        let matched: Vec<String> = columns
            .iter()
            .filter(|c| !used.contains(c))
            .filter(|c| {
                let n = normalize_name(c);
                names.contains(&n.as_str()) || extra.contains(&n.as_str())
            })
            .cloned()
            .collect();
        let matched = if *role == Role::Category {
            matched
        } else {
            matched.into_iter().take(1).collect()
        };
        if !matched.is_empty() {
            used.extend(matched.iter().cloned());
            out.push(Inferred {
                role: *role,
                columns: matched.clone(),
                reason: format!("column name {}", matched.join(" > ")),
            });
        }
    }
    // Then values, for columns whose names said nothing.
    for c in columns.iter().filter(|c| !used.contains(c)) {
        let values = sample(c);
        if values.is_empty() {
            continue;
        }
        let share = |pred: &dyn Fn(&str) -> bool| {
            values.iter().filter(|v| pred(v)).count() as f64 / values.len() as f64
        };
        if known.contains(&Role::Event) && !is_bound(Role::Event, &out) {
            const EVENTS: &[&str] = &[
                "pv",
                "view",
                "click",
                "cart",
                "addtocart",
                "buy",
                "purchase",
                "fav",
                "transaction",
                "impression",
                "order",
                "return",
            ];
            if share(&|v| EVENTS.contains(&v.to_ascii_lowercase().as_str())) > 0.9 {
                out.push(Inferred {
                    role: Role::Event,
                    columns: vec![c.clone()],
                    reason: "values look like event types".into(),
                });
                continue;
            }
        }
        if known.contains(&Role::Timestamp)
            && !is_bound(Role::Timestamp, &out)
            && share(&|v| crate::values::parse_time(v).is_some()) > 0.9
            && share(&|v| v.len() >= 10) > 0.9
        {
            out.push(Inferred {
                role: Role::Timestamp,
                columns: vec![c.clone()],
                reason: "values look like times".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn names_map_to_roles() {
        let c = cols(&[
            "SKU",
            "Product Name",
            "Sale Price",
            "Category",
            "Sub_Category",
            "Brand",
        ]);
        let got = infer_roles(TableKind::Catalog, &c, &|_| vec![], &[], &[]);
        let find = |r| got.iter().find(|i| i.role == r).map(|i| i.columns.clone());
        assert_eq!(find(Role::ItemId), Some(cols(&["SKU"])));
        assert_eq!(find(Role::Title), Some(cols(&["Product Name"])));
        assert_eq!(find(Role::Price), Some(cols(&["Sale Price"])));
        assert_eq!(
            find(Role::Category),
            Some(cols(&["Category", "Sub_Category"]))
        );
    }

    #[test]
    fn values_reveal_events() {
        let c = cols(&["column_1", "column_2"]);
        let got = infer_roles(
            TableKind::Events,
            &c,
            &|c| {
                if c == "column_2" {
                    vec!["pv".into(), "buy".into(), "cart".into()]
                } else {
                    vec!["1".into()]
                }
            },
            &[],
            &[],
        );
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].role, Role::Event);
    }
}
