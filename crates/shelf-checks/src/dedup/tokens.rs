//! What a product title is made of, for matching: folded text, shingles for MinHash and
//! similarity, model codes, specification values (capacity, size) and colours.
//!
//! Chinese and English both: CJK runs become character bigrams (Chinese has no spaces, and
//! bigrams are the standard unsegmented unit), Latin-script text becomes words. NFKC folds
//! full-width forms (`ＩＰＨＯＮＥ１２` → `iphone12`), so a shop typing in either width matches.

use unicode_normalization::UnicodeNormalization;

/// NFKC, lower case.
pub fn fold(s: &str) -> String {
    s.nfkc().flat_map(char::to_lowercase).collect()
}

/// Han, kana and hangul: scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}'
        | '\u{3040}'..='\u{30ff}' | '\u{ac00}'..='\u{d7af}')
}

/// Shingles of folded text: Latin-script words of letters and digits, CJK character bigrams
/// (a lone CJK character is its own shingle), and every model code joined (`ps-lx350h` →
/// `pslx350h`) so differently punctuated codes share a shingle. Sorted, without repeats.
pub fn shingles(folded: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut cjk: Vec<char> = Vec::new();
    let flush_cjk = |cjk: &mut Vec<char>, out: &mut Vec<String>| {
        match cjk.len() {
            0 => {}
            1 => out.push(cjk[0].to_string()),
            _ => out.extend(cjk.windows(2).map(|w| w.iter().collect::<String>())),
        }
        cjk.clear();
    };
    for c in folded.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            cjk.push(c);
        } else if c.is_alphanumeric() {
            flush_cjk(&mut cjk, &mut out);
            word.push(c);
        } else {
            flush_cjk(&mut cjk, &mut out);
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
        }
    }
    flush_cjk(&mut cjk, &mut out);
    if !word.is_empty() {
        out.push(word);
    }
    out.extend(model_codes(folded));
    out.sort();
    out.dedup();
    out
}

/// Units that turn a number into a specification (`256gb`, `17in`, `500ml`), not a model code.
#[rustfmt::skip] // one unit per line made a 90-line list
pub(crate) const UNITS: &[&str] = &[
    "gb", "tb", "mb", "kb", "gm", "gms", "ghz", "mhz", "khz", "hz", "mm", "cm", "m", "km", "in",
    "inch", "\"", "'", "ft", "w", "kw", "v", "mah", "ah", "ml", "l", "kg", "g", "mg", "oz", "lb",
    "lbs", "x", "p", "k", "pc", "pcs", "pack", "pk", "dpi", "rpm", "mp", "bit", "gbps", "mbps",
    "db", "ms", "fps", "cc", "yd", "sheets", "ct", "count", "port", "ports", "piece", "pieces",
    "片", "个", "件", "克", "千克", "公斤", "毫升", "升", "寸", "英寸", "米", "厘米", "毫米",
    "只", "支", "瓶", "包", "毫安", "毫安时", "瓦", "千瓦", "伏",
];

/// A number with a unit (`256gb`, `1.5l`, `17"`) or a dimension (`1440x900`).
pub fn is_spec(token: &str) -> bool {
    let digits = token
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == ','))
        .map_or(token.len(), |(i, _)| i);
    if digits == 0 {
        return false;
    }
    let unit = &token[digits..];
    if unit.is_empty() {
        return false;
    }
    if UNITS.contains(&unit) {
        return true;
    }
    // 1440x900, 3x4
    unit.strip_prefix('x')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

/// Model codes in folded text: tokens of at least 5 ASCII letters/digits once `-`, `.` and `_`
/// are removed, with a digit in them, that are not specifications (`kdl-46v3000` →
/// `kdl46v3000`, `963293-0403` → `9632930403`). A bare number followed by a unit word
/// (`16000 dpi`) is a specification too.
pub fn model_codes(folded: &str) -> Vec<String> {
    let pieces: Vec<&str> = folded
        .split(|c: char| {
            c.is_whitespace() || !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        })
        .map(|p| p.trim_matches(|c: char| matches!(c, '-' | '.' | '_')))
        .filter(|p| !p.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let joined: String = p.chars().filter(char::is_ascii_alphanumeric).collect();
        if joined.len() < 5 || joined.len() > 24 || !joined.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        if is_spec(&joined) || p.contains('.') && p.chars().all(|c| c.is_ascii_digit() || c == '.')
        {
            continue;
        }
        // `3-button`, `4-port`, `10-pack`: a count and a word, not a code.
        let parts: Vec<&str> = p.split(['-', '_']).collect();
        if parts.len() == 2
            && parts[0].bytes().all(|b| b.is_ascii_digit())
            && parts[1].len() >= 3
            && parts[1].bytes().all(|b| b.is_ascii_alphabetic())
        {
            continue;
        }
        let all_digits = joined.bytes().all(|b| b.is_ascii_digit());
        if all_digits && pieces.get(i + 1).is_some_and(|n| UNITS.contains(n)) {
            continue;
        }
        out.push(joined);
    }
    out.sort();
    out.dedup();
    out
}

/// Specification values in folded text, normalised (`256 GB` and `256gb` → `256gb`).
pub fn specs(folded: &str) -> Vec<String> {
    // Typographic feet and inches (`12’`, `6”`), which NFKC leaves alone, read as ' and ".
    let folded = folded.replace(['’', '′'], "'").replace(['”', '″'], "\"");
    let words: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '/' | '(' | ')' | '-' | '|'))
        // `300 pcs.`, `7-ft.`: an abbreviation's full stop is not part of the unit.
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        // `10片装`, `24瓶装`: a count "packed as" — the same pack size as `10片`.
        let packed = w.strip_suffix('装').filter(|p| is_spec(p));
        if let Some(p) = packed {
            out.push(normalise_number(p));
        } else if is_spec(w) {
            out.push(normalise_number(w));
        } else if w.chars().all(|c| c.is_ascii_digit() || c == '.')
            && w.chars().next().is_some_and(|c| c.is_ascii_digit())
            && let Some(unit) = words.get(i + 1)
            && UNITS.contains(unit)
            && !matches!(*unit, "x" | "p" | "k" | "in")
        {
            out.push(normalise_number(&format!("{w}{unit}")));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn normalise_number(s: &str) -> String {
    s.replace(',', ".").replace("inch", "in").replace('"', "in")
}

/// Words naming an edition, licence or platform: `upgrade` and full version, `academic` and
/// retail, `mac` and `windows` are different products with the same name.
const EDITIONS: &[&str] = &[
    "upgrade",
    "academic",
    "student",
    "professional",
    "premium",
    "deluxe",
    "standard",
    "ultimate",
    "enterprise",
    "lite",
    "oem",
    "mac",
    "windows",
    "spanish",
    "french",
    "german",
    "refurbished",
    "renewed",
    "used",
    "升级版",
    "学生版",
    "专业版",
    "企业版",
    "标准版",
    "豪华版",
];

/// Whether folded text has `word`: as a whole word for Latin script, as a substring for CJK
/// (which has no spaces).
fn mentions(folded: &str, word: &str) -> bool {
    if word.is_ascii() {
        folded
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == word)
    } else {
        folded.contains(word)
    }
}

/// Words that make a title an accessory or spare part *for* another product (`replacement belt
/// for PS-LX350H`, `适用于 iPhone 15 的手机壳`), which then names that product's model code.
const ACCESSORY_MARKERS: &[&str] = &[
    "replacement",
    "compatible",
    "fits",
    "spare",
    "适用",
    "适配",
    "配件",
    "兼容",
    "替换",
    "专用",
];

/// How a title reads as an accessory for another product: `Some("replacement")` for a marker
/// word, `Some("for")` when "for" is followed within three words by one of its model codes
/// (`belt for sony ps-lx350h`); `None` when it reads as the product itself.
pub fn accessory_marker(folded: &str, codes: &[String]) -> Option<&'static str> {
    if let Some(m) = ACCESSORY_MARKERS.iter().find(|m| mentions(folded, m)) {
        return Some(m);
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    let joined = |w: &str| -> String { w.chars().filter(|c| c.is_ascii_alphanumeric()).collect() };
    words
        .iter()
        .enumerate()
        .any(|(i, w)| {
            *w == "for"
                && words[i + 1..]
                    .iter()
                    .take(3)
                    .any(|n| codes.contains(&joined(n)))
        })
        .then_some("for")
}

/// Edition words in folded text.
pub fn editions(folded: &str) -> Vec<String> {
    EDITIONS
        .iter()
        .filter(|e| {
            if e.is_ascii() {
                folded
                    .split(|ch: char| !ch.is_alphanumeric())
                    .any(|w| w == **e)
            } else {
                folded.contains(**e)
            }
        })
        .map(|e| (*e).to_string())
        .collect()
}

const COLOURS: &[&str] = &[
    "black",
    "white",
    "silver",
    "red",
    "blue",
    "green",
    "grey",
    "gray",
    "gold",
    "pink",
    "purple",
    "yellow",
    "orange",
    "brown",
    "beige",
    "navy",
    "graphite",
    "titanium",
    "rose",
    "violet",
    "maroon",
    "teal",
    "turquoise",
    "cyan",
    "magenta",
    "lavender",
    "ivory",
    "cream",
    "khaki",
    "charcoal",
    "bronze",
    "copper",
    "peach",
    "olive",
    "黑色",
    "白色",
    "银色",
    "红色",
    "蓝色",
    "绿色",
    "灰色",
    "金色",
    "粉色",
    "紫色",
    "黄色",
    "橙色",
    "棕色",
    "米色",
    "卡其色",
    "青色",
    "酒红色",
    "石墨色",
];

/// Colour words that name the same colour as another: Chinese names read as their English
/// one, so a title and its translation (`黑色` / `Black`) agree on colour.
const COLOUR_ALIASES: [(&str, &str); 19] = [
    ("gray", "grey"),
    ("黑色", "black"),
    ("白色", "white"),
    ("银色", "silver"),
    ("红色", "red"),
    ("蓝色", "blue"),
    ("绿色", "green"),
    ("灰色", "grey"),
    ("金色", "gold"),
    ("粉色", "pink"),
    ("紫色", "purple"),
    ("黄色", "yellow"),
    ("橙色", "orange"),
    ("棕色", "brown"),
    ("米色", "beige"),
    ("卡其色", "khaki"),
    ("青色", "cyan"),
    ("酒红色", "maroon"),
    ("石墨色", "graphite"),
];

/// Colour words in folded text, each under one name ([`COLOUR_ALIASES`]: `gray` is read as
/// `grey`, `黑色` as `black`).
pub fn colours(folded: &str) -> Vec<String> {
    let mut out: Vec<String> = COLOURS
        .iter()
        .filter(|c| mentions(folded, c))
        .map(|c| {
            let name = COLOUR_ALIASES
                .iter()
                .find(|(alias, _)| alias == c)
                .map_or(*c, |(_, name)| *name);
            name.to_string()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_case_fold_to_the_same_shingles() {
        assert_eq!(
            shingles(&fold("ＩＰＨＯＮＥ　１２")),
            shingles(&fold("iphone 12"))
        );
    }

    #[test]
    fn a_colour_has_one_name_in_either_language() {
        assert_eq!(
            colours(&fold("苹果 iPhone 15 黑色")),
            colours(&fold("Apple iPhone 15 Black"))
        );
        assert_eq!(colours(&fold("Gray Sofa")), vec!["grey"]);
        assert_eq!(colours(&fold("罗技 鼠标 石墨色")), vec!["graphite"]);
    }

    #[test]
    fn chinese_runs_become_bigrams_and_latin_words_stay_whole() {
        let s = shingles(&fold("苹果手机 iPhone"));
        assert_eq!(s, vec!["iphone", "手机", "果手", "苹果"]);
    }

    #[test]
    fn model_codes_ignore_punctuation_and_specs() {
        assert_eq!(
            model_codes(&fold("Sony PS-LX350H Turntable")),
            vec!["pslx350h"]
        );
        assert_eq!(
            model_codes(&fold("Logitech - 963293-0403")),
            vec!["9632930403"]
        );
        assert!(model_codes(&fold("Apple iPhone 15 256GB 1440x900 16000 dpi")).is_empty());
        assert!(model_codes(&fold("ddr2 usb2 v1.2.3 3-button 10-pack")).is_empty());
    }

    #[test]
    fn specs_join_numbers_to_units() {
        assert_eq!(
            specs(&fold("iPhone 15 256 GB, 6.1\"")),
            vec!["256gb", "6.1in"]
        );
        assert_eq!(specs(&fold("可乐 500ml")), vec!["500ml"]);
        assert_eq!(specs(&fold("可乐 500 ml")), vec!["500ml"]);
        assert_eq!(specs(&fold("面膜 10片装")), vec!["10片"]);
        assert_eq!(specs(&fold("矿泉水 24瓶装 550ml")), vec!["24瓶", "550ml"]);
        // Abbreviations with a full stop, metres as a word, typographic feet.
        assert_eq!(specs(&fold("labels 300 pcs.")), vec!["300pcs"]);
        assert_eq!(specs(&fold("Patch Cable, 7-ft.")), vec!["7ft"]);
        assert_eq!(specs(&fold("networking cable 2.5 m")), vec!["2.5m"]);
        assert_eq!(specs(&fold("Avocent 12’ KVM cable")), vec!["12'"]);
    }

    #[test]
    fn colours_in_both_languages() {
        assert_eq!(colours(&fold("iPhone Gray 黑色")), vec!["black", "grey"]);
        assert!(colours(&fold("Redmi Note")).is_empty());
    }
}
