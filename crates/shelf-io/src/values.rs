//! Values as shops write them: prices (`$1,299.00`, `1.299,00 €`, `¥88`, `(12.50)`), numbers,
//! and times (ISO 8601, `12/1/2010 8:26`, unix seconds or milliseconds).
//!
//! Every parser returns `None` for text it cannot read; never panics, never guesses wildly.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

const CURRENCY_WORDS: &[&str] = &[
    "usd", "eur", "gbp", "cny", "rmb", "jpy", "inr", "rs.", "rs", "us$", "hk$", "元", "円", "块",
];

/// Parses a money amount. Thousands and decimal separators are told apart by position: the
/// last of `,`/`.` is the decimal separator when both appear; a lone separator followed by
/// exactly three digits in groups is a thousands separator (`1,299`, `1.299.000`), otherwise
/// decimal (`12,50`, `3.5`).
pub fn parse_price(s: &str) -> Option<f64> {
    let mut t = s.trim();
    if t.is_empty() || t.len() > 64 {
        return None;
    }
    let mut negative = false;
    if t.starts_with('(') && t.ends_with(')') {
        negative = true;
        t = &t[1..t.len() - 1];
    }
    let lower = t.to_lowercase();
    let mut cleaned = String::with_capacity(lower.len());
    let mut rest = lower.as_str();
    'outer: while !rest.is_empty() {
        for w in CURRENCY_WORDS {
            if let Some(r) = rest.strip_prefix(w) {
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("non-empty");
        rest = &rest[c.len_utf8()..];
        match c {
            '0'..='9' | '.' | ',' => cleaned.push(c),
            '-' | '−' if cleaned.is_empty() => negative = !negative,
            '$' | '€' | '£' | '¥' | '￥' | '₹' | '₩' | '₽' | ' ' | '\u{a0}' | '\u{202f}' | '\''
            | '+' => {}
            _ => return None,
        }
    }
    let v = parse_decimal(&cleaned)?;
    Some(if negative { -v } else { v })
}

fn parse_decimal(s: &str) -> Option<f64> {
    if s.is_empty() || !s.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let last_comma = s.rfind(',');
    let last_dot = s.rfind('.');
    let normalized: String = match (last_comma, last_dot) {
        (None, None) => s.to_string(),
        (Some(c), Some(d)) => {
            let (dec, thou) = if c > d { (',', '.') } else { ('.', ',') };
            if s.matches(dec).count() > 1 {
                return None;
            }
            s.chars()
                .filter(|&ch| ch != thou)
                .map(|ch| if ch == dec { '.' } else { ch })
                .collect()
        }
        (Some(_), None) => single_separator(s, ',')?,
        (None, Some(_)) => single_separator(s, '.')?,
    };
    normalized.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn single_separator(s: &str, sep: char) -> Option<String> {
    let groups: Vec<&str> = s.split(sep).collect();
    let thousands = groups.len() > 1
        && !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3)
        // `1.299` alone is read as a decimal (the usual meaning of a dot); `1,299` as thousands.
        && (sep == ',' || groups.len() > 2);
    if thousands {
        Some(groups.concat())
    } else if groups.len() == 2 {
        Some(format!("{}.{}", groups[0], groups[1]))
    } else {
        None
    }
}

/// Parses a plain number, accepting thousands separators as prices do.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite()).or_else(|| {
        if t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b',' | b'.' | b'-' | b'+' | b' '))
        {
            let (neg, body) = match t.strip_prefix('-') {
                Some(b) => (true, b),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            parse_decimal(&body.replace(' ', "")).map(|v| if neg { -v } else { v })
        } else {
            None
        }
    })
}

const DATETIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
];

const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y年%m月%d日",
];

/// Parses a time into microseconds since the unix epoch (UTC; times without an offset are read
/// as UTC). Integers are unix seconds (≥ 10⁸), milliseconds (≥ 10¹¹) or microseconds (≥ 10¹⁴).
pub fn parse_time(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.len() < 6 || t.len() > 40 {
        return None;
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return compact_date(t).or_else(|| parse_epoch(t));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.timestamp_micros());
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Some(dt.timestamp_micros());
        }
    }
    let t = t.strip_suffix('Z').unwrap_or(t);
    for f in DATETIME_FORMATS {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(dt.and_utc().timestamp_micros());
        }
    }
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros());
        }
    }
    None
}

/// `20250314` and `20250314093000`: dates written without separators. Only years 1900–2100
/// count, so an eight-digit id or a unix time in milliseconds is not read as one.
fn compact_date(t: &str) -> Option<i64> {
    let dt = match t.len() {
        8 => NaiveDate::parse_from_str(t, "%Y%m%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?,
        14 => NaiveDateTime::parse_from_str(t, "%Y%m%d%H%M%S").ok()?,
        _ => return None,
    };
    (1900..=2100)
        .contains(&dt.year())
        .then(|| dt.and_utc().timestamp_micros())
}

fn parse_epoch(t: &str) -> Option<i64> {
    let v: f64 = t.parse().ok()?;
    let micros = if v >= 1e14 {
        v
    } else if v >= 1e11 {
        v * 1e3
    } else if v >= 1e8 {
        v * 1e6
    } else {
        return None; // too small to be a plausible unix time (20250314 is read by compact_date)
    };
    (micros < 9.0e18).then_some(micros as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_as_shops_write_them() {
        assert_eq!(parse_price("$1,299.00"), Some(1299.0));
        assert_eq!(parse_price("1.299,00 €"), Some(1299.0));
        assert_eq!(parse_price("¥88"), Some(88.0));
        assert_eq!(parse_price("￥88.5元"), Some(88.5));
        assert_eq!(parse_price("12,50"), Some(12.5));
        assert_eq!(parse_price("1,299"), Some(1299.0));
        assert_eq!(parse_price("1.299.000"), Some(1_299_000.0));
        assert_eq!(parse_price("-3.5"), Some(-3.5));
        assert_eq!(parse_price("(3.50)"), Some(-3.5));
        assert_eq!(parse_price("USD 15"), Some(15.0));
        assert_eq!(parse_price("Rs 499"), Some(499.0));
        assert_eq!(parse_price("call for price"), None);
        assert_eq!(parse_price(""), None);
        assert_eq!(parse_price("1.2.3,4,5"), None);
    }

    #[test]
    fn times() {
        let day = parse_time("2010-12-01").unwrap();
        assert_eq!(
            parse_time("12/1/2010 8:26"),
            Some(day + (8 * 3600 + 26 * 60) * 1_000_000)
        );
        assert_eq!(
            parse_time("2010-12-01T08:26:00Z"),
            parse_time("12/1/2010 8:26")
        );
        assert_eq!(parse_time("1511544070"), Some(1_511_544_070_000_000));
        assert_eq!(parse_time("1511544070000"), Some(1_511_544_070_000_000));
        assert!(parse_time("2019-11-24 00:00:34.762830+00:00").is_some());
        assert!(parse_time("2016-05-09").is_some());
        assert_eq!(parse_time("20250314"), parse_time("2025-03-14"));
        assert_eq!(
            parse_time("20250314093000"),
            parse_time("2025-03-14 09:30:00")
        );
        assert_eq!(
            parse_time("20251340"),
            None,
            "no 13th month, and too small for unix time"
        );
        assert_eq!(
            parse_time("12345678"),
            None,
            "year 1234 is an id, not a date"
        );
        assert!(parse_time("yesterday").is_none());
        assert!(parse_time("12").is_none());
    }

    proptest::proptest! {
        #[test]
        fn price_never_panics(s in "\\PC{0,40}") {
            let _ = parse_price(&s);
            let _ = parse_time(&s);
            let _ = parse_number(&s);
        }

        #[test]
        fn plain_decimals_roundtrip(cents in 0u64..100_000_000) {
            let v = cents as f64 / 100.0;
            let s = format!("{v:.2}");
            proptest::prop_assert!((parse_price(&s).unwrap() - v).abs() < 1e-9);
            let us = format!("${}", shelf_core::group_digits(cents / 100)) + &format!(".{:02}", cents % 100);
            proptest::prop_assert!((parse_price(&us).unwrap() - v).abs() < 1e-9, "{}", us);
        }
    }
}
