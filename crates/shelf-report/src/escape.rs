//! HTML/XML escaping, shared by the page and its inline SVG.

use std::fmt::Write;

/// Escapes `s` for HTML text and for attribute values in double or single quotes (and for
/// SVG, which is XML): `& < > " '` become entities, everything else (Chinese included) is
/// kept as UTF-8.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// [`escape`] that appends to `out` instead of allocating: the page is built in one buffer.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
}

pub(crate) use shelf_core::group_digits as group;

/// `s` cut to at most `max` characters (not bytes: titles are often CJK), with `…` when cut.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) => {
            let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
            t.push('…');
            t
        }
    }
}

/// Writes `args` to a `String`; formatting into a `String` cannot fail.
pub(crate) fn w(out: &mut String, args: std::fmt::Arguments<'_>) {
    let _ = out.write_fmt(args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_keeps_unicode() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script> 冰淇淋"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt; 冰淇淋"
        );
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }

    #[test]
    fn truncates_by_chars() {
        assert_eq!(truncate_chars("冰淇淋蛋糕", 3), "冰淇…");
        assert_eq!(truncate_chars("abc", 3), "abc");
    }
}
