//! Writing RFC 4180 CSV: quote what needs it, double inner quotes, `\n` line ends.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Whether a field must be quoted to survive a round trip: separators, quotes, line breaks,
/// other control characters, and leading/trailing whitespace (which some readers trim).
fn needs_quotes(field: &str) -> bool {
    field
        .chars()
        .any(|c| c == ',' || c == '"' || c.is_control())
        || field.starts_with(char::is_whitespace)
        || field.ends_with(char::is_whitespace)
}

pub(crate) fn push_field(out: &mut String, field: &str) {
    if needs_quotes(field) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

pub(crate) fn render<'a>(header: &[&str], rows: impl IntoIterator<Item = &'a [String]>) -> String {
    let mut out = String::new();
    let mut line = |fields: &mut dyn Iterator<Item = &str>| {
        for (i, f) in fields.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_field(&mut out, f);
        }
        let _ = writeln!(out);
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// Write `dir/name` atomically: the content goes to `name.tmp` first and is renamed over the
/// target, so a reader never sees a half-written file.
pub(crate) fn write_atomic(dir: &Path, name: &str, content: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let dst = dir.join(name);
    std::fs::write(&tmp, content).map_err(|e| with_path(e, &tmp))?;
    std::fs::rename(&tmp, &dst).map_err(|e| with_path(e, &dst))
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        for f in ["plain", "a,b", "say \"hi\"", "two\nlines", " pad", ""] {
            push_field(&mut s, f);
            s.push('|');
        }
        assert_eq!(
            s,
            "plain|\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|\" pad\"||"
        );
    }
}
