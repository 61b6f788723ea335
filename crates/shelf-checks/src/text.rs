//! Text kernels: pure functions over one string, used by the UDFs and tested against simple
//! oracles. Each says what it looks for and why that is a good signal on real shop data.

use unicode_normalization::UnicodeNormalization;

/// Null or only whitespace (including full-width spaces).
pub fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// Strings that stand for "no value": exported nulls, spreadsheet placeholders, their Chinese
/// equivalents. Compared case-insensitively after trimming.
pub const NULL_LIKE: &[&str] = &[
    "nan",
    "null",
    "none",
    "nil",
    "n/a",
    "n.a.",
    "na/",
    "#n/a",
    "-",
    "--",
    "—",
    "?",
    "??",
    "undefined",
    "无",
    "暂无",
    "未知",
    "空",
    "不详",
];

/// True when `s` is one of [`NULL_LIKE`] or one of the extra tokens a preset declares.
pub fn is_null_like(s: &str, extra: &[String]) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return false;
    }
    in_token_list(t, NULL_LIKE) || extra.iter().any(|e| e.eq_ignore_ascii_case(t))
}

/// `t` equals one of `list` ignoring ASCII case. The lists hold lower-case ASCII or caseless
/// (Chinese, dash) tokens, so this agrees with comparing `t.to_lowercase()`, without
/// allocating: these kernels run on every value of every text column.
fn in_token_list(t: &str, list: &[&str]) -> bool {
    list.iter()
        .any(|tok| tok.len() == t.len() && tok.eq_ignore_ascii_case(t))
}

/// Calls `f` with `s` in ASCII lower case (what the marker lists need: they are lower-case
/// ASCII or caseless), on the stack when `s` is short, so the common case does not allocate.
fn with_ascii_lower<R>(s: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = [0u8; 128];
    match buf.get_mut(..s.len()) {
        Some(b) => {
            b.copy_from_slice(s.as_bytes());
            b.make_ascii_lowercase();
            // Lower-casing ASCII bytes keeps UTF-8 valid.
            f(std::str::from_utf8(b).unwrap_or(s))
        }
        None => f(&s.to_ascii_lowercase()),
    }
}

/// Values people type when they are testing, not selling.
pub const TEST_VALUES: &[&str] = &[
    "test",
    "testing",
    "test product",
    "test item",
    "测试",
    "测试商品",
    "dummy",
    "asdf",
    "qwerty",
    "xxx",
    "lorem ipsum",
    "foo",
    "foobar",
];

pub fn is_test_value(s: &str) -> bool {
    in_token_list(s.trim(), TEST_VALUES)
}

/// Titles that were never filled in: template text rather than a product name.
pub const PLACEHOLDER_TITLES: &[&str] = &[
    "product title",
    "product name",
    "title",
    "untitled",
    "no title",
    "new item",
    "new product",
    "item",
    "product",
    "name",
    "商品名称",
    "商品标题",
    "标题",
    "新商品",
    "宝贝标题",
    "tbd",
    "todo",
];

pub fn is_placeholder_title(s: &str) -> bool {
    in_token_list(s.trim(), PLACEHOLDER_TITLES)
}

/// HTML tags or entities left in text (`<p>`, `<br/>`, `&nbsp;`, `&amp;`).
pub fn has_markup(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'<' => {
                let rest = &s[i + 1..];
                let tag = rest.trim_start_matches('/');
                let name_len = tag
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .count();
                if name_len > 0 && tag.as_bytes()[0].is_ascii_alphabetic() {
                    let name = tag[..name_len].to_ascii_lowercase();
                    let after = tag.as_bytes().get(name_len).copied();
                    if KNOWN_TAGS.contains(&name.as_str())
                        && matches!(after, Some(b'>' | b' ' | b'/' | b'\t' | b'\n'))
                    {
                        return true;
                    }
                }
            }
            b'&' => {
                let rest = &s[i + 1..];
                let n = rest
                    .bytes()
                    .take(10)
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'#')
                    .count();
                if n > 1 && rest.as_bytes().get(n) == Some(&b';') {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

const KNOWN_TAGS: &[&str] = &[
    "a", "b", "i", "u", "p", "br", "div", "span", "li", "ul", "ol", "table", "tr", "td", "th",
    "img", "strong", "em", "h1", "h2", "h3", "h4", "h5", "h6", "font", "script", "style", "iframe",
    "hr", "sup", "sub", "center", "tbody", "thead", "small", "big", "section", "article", "meta",
    "link",
];

/// Text decoded with the wrong encoding: UTF-8 bytes read as Windows-1252 (`Ã©`, `â€™`,
/// `Ã¼`), or GBK bytes read as latin-1 (runs of Latin-1 supplement letters with no ASCII
/// letters between them, e.g. `Á¬ÒÂÈ¹`), or the replacement character U+FFFD.
pub fn has_mojibake(s: &str) -> bool {
    if s.is_ascii() {
        return false;
    }
    if s.contains('\u{fffd}') {
        return true;
    }
    let chars: Vec<char> = s.chars().collect();
    for (i, &a) in chars.iter().enumerate() {
        // A UTF-8 lead byte read as cp1252, followed by its continuation bytes shown as cp1252
        // (0x80–0xBF). Two-byte leads (Ã = C3, Â = C2, Ð/Ñ for Cyrillic…) need one; three-byte
        // leads (â = E2, ä–é for CJK) need two, since a correct é or â is often followed by one
        // such character (`Nescafé®`, `Rosé »`).
        let needed = match a {
            'Ã' | 'Â' | 'Å' | 'Ä' | 'Ð' | 'Ñ' => 1,
            'â' | 'ä' | 'å' | 'æ' | 'ç' | 'è' | 'é' => 2,
            _ => continue,
        };
        if chars.len() > i + needed
            && chars[i + 1..=i + needed]
                .iter()
                .all(|&c| is_cp1252_continuation(c))
        {
            return true;
        }
    }
    cjk_mojibake_run(&chars)
}

/// Continuation bytes 0x80–0xBF as Windows-1252 shows them.
fn is_cp1252_continuation(c: char) -> bool {
    matches!(c, '\u{a0}'..='\u{bf}') || "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".contains(c)
}

/// A run of ≥ 4 characters from Latin-1's upper half (À–ÿ and the cp1252 extras) with no
/// ASCII letter: no European word looks like that, GBK or UTF-8 bytes read as latin-1 do.
fn cjk_mojibake_run(chars: &[char]) -> bool {
    let mut run = 0;
    for &c in chars {
        if matches!(c, '\u{a1}'..='\u{ff}') && c != '×' && c != '÷' || is_cp1252_continuation(c) {
            run += 1;
            if run >= 4 {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Control characters other than tab, line feed and carriage return (bell, escape, NUL…), and
/// zero-width / bidi controls that hide in copy-pasted titles.
pub fn has_control_chars(s: &str) -> bool {
    if s.is_ascii() {
        return s
            .bytes()
            .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f);
    }
    s.chars().any(|c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            // Zero-width space, direction marks and embeddings, word joiner, soft hyphen and a
            // stray byte-order mark: invisible, and they break matching and tokenizing. (The
            // zero-width joiner U+200D is left alone: emoji sequences need it.)
            || matches!(c, '\u{200b}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{00ad}' | '\u{feff}')
    })
}

/// ALL CAPS: at least 8 upper-case letters, none lower case, and not mostly uncased script
/// (Chinese with a capitalised brand, `OPPO 2025新款 智能手机`, is not shouting).
pub fn is_all_caps(s: &str) -> bool {
    let (mut upper, mut uncased) = (0usize, 0usize);
    for c in s.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            upper += 1;
        } else if c.is_alphabetic() {
            uncased += 1;
        }
    }
    upper >= 8 && uncased * 2 <= upper
}

/// Keyword stuffing: how often the most repeated token occurs (tokens of ≥ 2 characters, not
/// numbers, units or quantities, split on spaces and punctuation, compared ignoring case), or,
/// when higher, the most repeated 2–4 character sequence inside unspaced Chinese.
pub fn max_token_repeats(s: &str) -> usize {
    let tokens: Vec<&str> = s
        .split(|c: char| {
            c.is_whitespace()
                || (c.is_ascii_punctuation() && c != '-' && c != '.')
                || matches!(c, '，' | '。' | '、' | '；' | '：' | '！' | '？')
        })
        .filter(|tok| {
            tok.chars().nth(1).is_some()
                && !tok.chars().all(|c| c.is_ascii_digit() || c == '.')
                && !is_unit_or_quantity(tok)
        })
        .collect();
    // Titles have a handful of tokens: comparing pairs beats hashing lower-cased copies.
    if tokens.len() <= 32 && tokens.iter().all(|t| t.is_ascii()) {
        return (0..tokens.len())
            .map(|i| {
                tokens[i..]
                    .iter()
                    .filter(|t| t.eq_ignore_ascii_case(tokens[i]))
                    .count()
            })
            .max()
            .unwrap_or(0);
    }
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for tok in tokens {
        *counts.entry(tok.to_lowercase()).or_default() += 1;
    }
    let words = counts.values().copied().max().unwrap_or(0);
    words.max(max_cjk_repeats(s))
}

/// A unit or a quantity with one (`Gm`, `200G`, `500ml`): a combo listing repeats them
/// ("Chicken 15 Gm + Meat 15 Gm + …") without stuffing anything.
fn is_unit_or_quantity(token: &str) -> bool {
    use crate::dedup::tokens::{UNITS, is_spec};
    token.len() <= 12 && with_ascii_lower(token, |t| UNITS.contains(&t) || is_spec(t))
}

/// Chinese is written without spaces, so a stuffed title repeats a word inside one run of
/// characters (`连衣裙女装连衣裙夏季连衣裙雪纺连衣裙`): the most times any 2–4 character
/// sequence occurs without overlapping itself in the CJK runs of `s` (sequences of one repeated
/// character, such as `哈哈`, do not count).
fn max_cjk_repeats(s: &str) -> usize {
    let chars: Vec<char> = s.chars().collect();
    let is_cjk = |c: char| crate::dedup::tokens::is_cjk(c);
    // Four repeats of a two-character word need eight CJK characters; most titles stop here.
    if chars.iter().filter(|&&c| is_cjk(c)).nth(7).is_none() {
        return 0;
    }
    // (occurrences, end of the last counted one) per sequence.
    let mut seen: std::collections::HashMap<&[char], (usize, usize)> =
        std::collections::HashMap::new();
    let mut best = 0;
    for len in 2..=4 {
        for start in 0..chars.len().saturating_sub(len - 1) {
            let seq = &chars[start..start + len];
            if !seq.iter().all(|&c| is_cjk(c)) || seq.iter().all(|&c| c == seq[0]) {
                continue;
            }
            let e = seen.entry(seq).or_insert((0, 0));
            if e.0 == 0 || start >= e.1 {
                e.0 += 1;
                e.1 = start + len;
                best = best.max(e.0);
            }
        }
    }
    best
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Other,
}

fn script(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match c {
        'A'..='Z' | 'a'..='z' | '\u{c0}'..='\u{24f}' => Script::Latin,
        '\u{400}'..='\u{52f}' => Script::Cyrillic,
        '\u{370}'..='\u{3ff}' => Script::Greek,
        _ => Script::Other,
    })
}

/// Ω, μ or µ written as a unit: at a word's start or after a digit or an SI prefix.
fn is_unit_symbol(c: char, prev: Option<char>) -> bool {
    matches!(c, 'Ω' | 'μ' | 'µ')
        && prev.is_none_or(|p| p.is_ascii_digit() || matches!(p, 'k' | 'M' | 'm' | 'G'))
}

/// A single word mixing Latin with Cyrillic or Greek letters (`iPhоne` with a Cyrillic `о`):
/// look-alike letters that break search matching. Chinese next to Latin (`华为P40`) is normal
/// in shop titles and is not flagged.
pub fn has_mixed_script_word(s: &str) -> bool {
    if s.is_ascii() {
        return false;
    }
    s.split(|c: char| !c.is_alphanumeric()).any(|w| {
        let mut seen = (false, false);
        let mut prev: Option<char> = None;
        for c in w.chars() {
            match script(c) {
                Some(Script::Latin) => seen.0 = true,
                // Ω and µ/μ after a number or an SI prefix are unit symbols (`10kΩ`, `100μF`),
                // not look-alike letters.
                Some(Script::Greek) if is_unit_symbol(c, prev) => {}
                Some(Script::Cyrillic | Script::Greek) => seen.1 = true,
                _ => {}
            }
            prev = Some(c);
        }
        seen.0 && seen.1
    })
}

/// The form two spellings of one query share: NFKC (full-width → half-width), lower case,
/// without whitespace or punctuation (a decimal point between digits stays). `ＩＰＨＯＮＥ　１２`,
/// `iPhone12` and `iphone 12` → `iphone12`; `2.5 kg` → `2.5kg`.
pub fn normalize_query(s: &str) -> String {
    // NFKC, lower-casing and dropping characters can each expose work for the others (a
    // dropped mark joins two letters NFKC composes), so repeat to a fixed point.
    let mut cur = normalize_once(s);
    for _ in 0..4 {
        let next = normalize_once(&cur);
        if next == cur {
            break;
        }
        cur = next;
    }
    cur
}

fn normalize_once(s: &str) -> String {
    let chars: Vec<char> = s.nfkc().flat_map(char::to_lowercase).collect();
    let digit_at = |i: Option<usize>| {
        i.and_then(|i| chars.get(i))
            .is_some_and(char::is_ascii_digit)
    };
    chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            // A decimal point is part of the number: `2.5kg` and `25kg` are different queries.
            let decimal = c == '.' && digit_at(i.checked_sub(1)) && digit_at(Some(i + 1));
            decimal || !c.is_whitespace() && !c.is_ascii_punctuation() && !is_cjk_punct(c)
        })
        .map(|(_, &c)| c)
        .collect()
}

fn is_cjk_punct(c: char) -> bool {
    // NFKC already maps full-width ASCII punctuation to ASCII; these are the CJK marks it keeps.
    matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff01}'..='\u{ff0f}' | '“' | '”' | '‘' | '’' | '·' | '…')
}

/// The kind a value looks like, for mixed-type detection.
pub fn looks_numeric(s: &str) -> bool {
    let t = s.trim();
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// A cancellation or return marker in an order id (Online Retail's `C536379`) or event name.
pub fn is_cancellation_marker(s: &str) -> bool {
    let t = s.trim();
    let mut chars = t.chars();
    if let Some(first) = chars.next()
        && (first == 'C' || first == 'c')
        && t.len() > 1
        && chars.all(|c| c.is_ascii_digit())
    {
        return true;
    }
    with_ascii_lower(t, |lower| {
        ["cancel", "return", "refund", "取消", "退货", "退款"]
            .iter()
            .any(|m| lower.contains(m))
            // Un-favouriting, un-following and leaving the cart are not orders undone.
            && !["取消收藏", "取消关注", "取消点赞", "取消加购"]
                .iter()
                .any(|m| lower.contains(m))
    })
}

/// The funnel step an event name stands for: `impression` (impression, show, expose: the item
/// was shown), `click` (click, clk), `view` (pv, view, detail), `cart` (cart, addtocart,
/// add_to_cart) or `purchase` (buy, purchase, order, transaction); `None` for other events
/// (fav, search). A click is a view of the item for funnel purposes. Compared ignoring case,
/// `-`, `_` and spaces.
pub fn event_kind(s: &str) -> Option<&'static str> {
    let mut buf = [0u8; 32];
    let mut n = 0;
    for b in s.trim().bytes() {
        if matches!(b, b'-' | b'_' | b' ') {
            continue;
        }
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    match std::str::from_utf8(&buf[..n]).ok()? {
        "impression" | "impressions" | "imp" | "show" | "expose" | "exposure" | "曝光" | "展现" => {
            Some("impression")
        }
        "click" | "clk" | "clicked" | "点击" => Some("click"),
        "pv" | "view" | "pageview" | "itemview" | "detail" | "浏览" => Some("view"),
        "cart" | "addtocart" | "addcart" | "加购" => Some("cart"),
        "buy" | "purchase" | "order" | "transaction" | "checkout" | "购买" => Some("purchase"),
        _ => None,
    }
}

/// How much text a string holds, in Latin characters: a CJK character counts two, since one
/// Chinese character carries about what two Latin letters do (`茶杯` "teacup" is as long as
/// `Mug` is, `包` alone is not).
pub fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if crate::dedup::tokens::is_cjk(c) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// Words in a title: whitespace-separated for Latin script; Chinese, written without spaces,
/// counts a word per two CJK characters (the usual length of a Chinese word).
fn words_in(title: &str) -> usize {
    title
        .split_whitespace()
        .map(|w| {
            let han = w
                .chars()
                .filter(|c| crate::dedup::tokens::is_cjk(*c))
                .count();
            if han == 0 { 1 } else { han.div_ceil(2) }
        })
        .sum()
}

/// Lines in an item or order table that are not products: postage, fees, adjustments.
/// Recognised by the title, or by a code made only of letters (`POST`, `BANK CHARGES`, `M`).
pub fn is_non_product(item_id: Option<&str>, title: Option<&str>) -> bool {
    const WORDS: &[&str] = &[
        "postage",
        "carriage",
        "shipping",
        "delivery charge",
        "delivery fee",
        "bank charges",
        "amazon fee",
        "commission",
        "discount",
        "manual",
        "adjust bad debt",
        "adjustment",
        "samples",
        "service charge",
        "handling fee",
        "运费",
        "邮费",
        "手续费",
        "补差价",
        "邮费补拍",
    ];
    if let Some(t) = title {
        // A fee line is named by the fee, in a few words ("DOTCOM POSTAGE", "Bank Charges",
        // "邮费补拍 差价链接"); a product title that mentions "free shipping" (包运费险) is still
        // a product.
        if words_in(t) <= 4 && with_ascii_lower(t, |lower| WORDS.iter().any(|w| lower.contains(w)))
        {
            return true;
        }
    }
    if let Some(id) = item_id {
        let id = id.trim();
        let letters_only = !id.is_empty()
            && id.len() <= 4
            && id
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '_');
        // Short codes made only of letters are fee/service codes in SKU schemes that otherwise carry
        // digits (`POST`, `DOT`, `M`, `BANK CHARGES`, `AMAZONFEE`).
        if letters_only {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mojibake_examples() {
        assert!(has_mojibake("CafÃ© au lait"));
        assert!(has_mojibake("Itâ€™s great"));
        assert!(has_mojibake("Á¬ÒÂÈ¹ Å®×°")); // 连衣裙 女装 in GBK read as latin-1
        assert!(has_mojibake("bad \u{fffd} byte"));
        assert!(!has_mojibake("Café au lait"));
        assert!(!has_mojibake("Müller Größe 42"));
        assert!(!has_mojibake("华为 P40 手机"));
        assert!(!has_mojibake("Crème brûlée"));
        assert!(!has_mojibake("Señor Ñandú"));
    }

    #[test]
    fn markup_examples() {
        assert!(has_markup("<p>Great</p>"));
        assert!(has_markup("a<br/>b"));
        assert!(has_markup("Tom &amp; Jerry"));
        assert!(has_markup("size&nbsp;M"));
        assert!(!has_markup("3 < 5 and 6 > 2"));
        assert!(!has_markup("AT&T phone"));
        assert!(!has_markup("Q&A"));
    }

    #[test]
    fn queries_normalise() {
        assert_eq!(normalize_query("ＩＰＨＯＮＥ　１２"), "iphone12");
        assert_eq!(normalize_query("iPhone12"), "iphone12");
        assert_eq!(normalize_query("iphone 12"), "iphone12");
        assert_eq!(normalize_query("华为 P40！"), "华为p40");
    }

    #[test]
    fn other_signals() {
        assert!(is_all_caps("WHITE HANGING HEART T-LIGHT HOLDER"));
        assert!(!is_all_caps("USB C"));
        assert!(!is_all_caps("White Hanging Heart"));
        assert_eq!(
            max_token_repeats("cheap shoes cheap shoes cheap shoes cheap shoes"),
            4
        );
        assert_eq!(max_token_repeats("连衣裙 连衣裙 连衣裙 连衣裙 女装"), 4);
        assert_eq!(max_token_repeats("2 x 2 x 2 x 2"), 0);
        assert!(has_mixed_script_word("iPh\u{43e}ne 12"));
        assert!(!has_mixed_script_word("华为P40 Pro"));
        assert!(has_control_chars("bell\u{7}"));
        assert!(!has_control_chars("line\nbreak"));
        assert!(is_null_like(" N/A ", &[]));
        assert!(is_null_like("暂无", &[]));
        assert!(!is_null_like("NA", &[]));
        assert!(is_null_like("NA", &["NA".into()]));
        assert_eq!(event_kind("pv"), Some("view"));
        assert_eq!(event_kind("Add_To_Cart"), Some("cart"));
        assert_eq!(event_kind("transaction"), Some("purchase"));
        assert_eq!(event_kind("fav"), None);
        assert_eq!(event_kind("Impression"), Some("impression"));
        assert_eq!(event_kind("曝光"), Some("impression"));
        assert_eq!(event_kind("click"), Some("click"));
        assert!(is_cancellation_marker("C536379"));
        assert!(!is_cancellation_marker("536379"));
        assert!(!is_cancellation_marker("C"));
        assert!(is_non_product(Some("POST"), Some("POSTAGE")));
        assert!(is_non_product(Some("M"), Some("Manual")));
        assert!(is_non_product(Some("85123A"), Some("DOTCOM POSTAGE")));
        assert!(!is_non_product(
            Some("85123A"),
            Some("WHITE HANGING HEART T-LIGHT HOLDER")
        ));
    }

    #[test]
    fn false_alarms_found_by_the_fixtures() {
        // A correct é or â followed by one Latin-1 sign is text, not mojibake.
        assert!(!has_mojibake("Nescafé® Gold"));
        assert!(!has_mojibake("Vinho Rosé\u{a0}!"));
        assert!(has_mojibake("Itâ€™s"));
        assert!(has_mojibake("CafÃ©"));
        // Unit symbols are not look-alike letters; a Greek α inside a Latin word is.
        assert!(!has_mixed_script_word("Resistor kit 10kΩ"));
        assert!(!has_mixed_script_word("Capacitor 100μF"));
        assert!(has_mixed_script_word("Samsung Gαlaxy"));
        // Un-favouriting is not a cancelled order.
        assert!(!is_cancellation_marker("取消收藏"));
        assert!(is_cancellation_marker("取消订单"));
        // A long Chinese product title that mentions shipping insurance is a product.
        assert!(!is_non_product(
            None,
            Some("保温杯不锈钢大容量男女士便携茶杯水杯赠运费险")
        ));
        assert!(is_non_product(None, Some("邮费补拍 差价链接")));
        assert!(is_non_product(None, Some("运费")));
    }

    #[test]
    fn invisible_characters_are_control_characters() {
        for c in ['\u{feff}', '\u{2060}', '\u{ad}', '\u{200b}'] {
            assert!(has_control_chars(&format!("iPhone{c}15")), "{c:?}");
        }
        assert!(!has_control_chars("👨\u{200d}👩\u{200d}👧 family mug"));
    }

    #[test]
    fn decimal_points_stay_in_normalized_queries() {
        assert_eq!(normalize_query("2.5kg 哑铃"), "2.5kg哑铃");
        assert_ne!(normalize_query("2.5kg 哑铃"), normalize_query("25kg 哑铃"));
        assert_eq!(normalize_query("Ｔ-shirt. Women"), "tshirtwomen");
    }

    #[test]
    fn chinese_counts_double_and_stuffing_without_spaces_is_seen() {
        assert_eq!(width("茶杯"), 4);
        assert_eq!(width("Mug"), 3);
        assert_eq!(max_token_repeats("连衣裙女装连衣裙夏季连衣裙雪纺连衣裙"), 4);
        assert_eq!(max_token_repeats("哈哈哈哈哈哈哈哈 笑脸杯"), 1);
        assert_eq!(max_token_repeats("夏季新款连衣裙"), 1);
        // Units and quantities repeat in combo listings.
        assert_eq!(
            max_token_repeats(
                "Masala Combo - Chicken 15 Gm + Meat 15 Gm + Punjabi 15 Gm + Garam 40 Gm"
            ),
            1
        );
        assert_eq!(
            max_token_repeats("Cumin 200G + Mustard 200G + Pepper 200G + Methi 200G"),
            1
        );
    }

    proptest::proptest! {
        // The allocation-free kernels agree with the plain lower-casing definitions.
        #[test]
        fn fast_kernels_match_their_definitions(s in "(?i)(nan|none|test|item|cancel|[a-z]{2,3}|暂无| |,){0,8}") {
            let lower = s.trim().to_lowercase();
            proptest::prop_assert_eq!(is_null_like(&s, &[]), !lower.is_empty() && NULL_LIKE.contains(&lower.as_str()));
            proptest::prop_assert_eq!(is_test_value(&s), TEST_VALUES.contains(&lower.as_str()));
            proptest::prop_assert_eq!(is_placeholder_title(&s), PLACEHOLDER_TITLES.contains(&lower.as_str()));
            let mut counts = std::collections::HashMap::<String, usize>::new();
            for tok in s.split(|c: char| c.is_whitespace() || c == ',') {
                if tok.chars().count() >= 2 && !is_unit_or_quantity(tok) {
                    *counts.entry(tok.to_lowercase()).or_default() += 1;
                }
            }
            let words = counts.values().copied().max().unwrap_or(0);
            proptest::prop_assert_eq!(max_token_repeats(&s), words.max(max_cjk_repeats(&s)));
        }

        #[test]
        fn kernels_never_panic(s in "\\PC{0,60}") {
            let _ = (has_markup(&s), has_mojibake(&s), has_control_chars(&s), is_all_caps(&s));
            let _ = (max_token_repeats(&s), has_mixed_script_word(&s), is_non_product(Some(&s), Some(&s)));
        }

        #[test]
        fn normalisation_is_idempotent(s in "\\PC{0,40}") {
            let once = normalize_query(&s);
            proptest::prop_assert_eq!(normalize_query(&once), once.clone());
        }

        #[test]
        fn all_caps_matches_oracle(s in "[A-Za-z ]{0,30}") {
            let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
            let oracle = letters.len() >= 8 && letters.iter().all(|c| c.is_uppercase());
            proptest::prop_assert_eq!(is_all_caps(&s), oracle);
        }
    }
}
