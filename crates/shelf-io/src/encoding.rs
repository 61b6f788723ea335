//! Text encodings: detect from the first bytes (BOM, UTF-8 validity, then a statistical guess
//! between the legacy encodings shops use — Windows-1252/latin-1 and GBK/GB18030), or take the
//! user's `--encoding`; then decode to UTF-8 as a stream.

use std::io::Read;

use encoding_rs::{Decoder, Encoding, UTF_8};
use shelf_core::{ShelfError, ShelfResult};

/// How many bytes detection looks at.
pub const SNIFF_BYTES: usize = 1 << 20;

/// The encoding chosen for a file and whether it was detected or given.
#[derive(Debug, Clone, Copy)]
pub struct Detected {
    pub encoding: &'static Encoding,
    /// Bytes of byte-order mark to skip.
    pub bom_len: usize,
}

impl Detected {
    /// The name reported in `summary.json` (`UTF-8`, `UTF-16LE`, `windows-1252`, `GB18030`…).
    pub fn name(&self) -> String {
        let base = self.encoding.name();
        if self.bom_len > 0 && self.encoding == UTF_8 {
            format!("{base} (BOM)")
        } else {
            base.to_string()
        }
    }
}

/// Resolves a user-given label (`latin-1`, `gbk`, `utf-16`, …), listing choices on failure.
pub fn from_label(label: &str) -> ShelfResult<&'static Encoding> {
    let l = label.trim().to_ascii_lowercase();
    let l = match l.as_str() {
        "latin1" | "latin-1" | "iso8859-1" => "iso-8859-1",
        "utf16" | "utf-16" => "utf-16le",
        "utf8" => "utf-8",
        // GB18030 is a superset of GBK and GB2312; decoding with it never loses characters.
        "gbk" | "gb2312" | "cp936" => "gb18030",
        other => other,
    };
    Encoding::for_label(l.as_bytes()).ok_or_else(|| {
        ShelfError::user(format!(
            "unknown encoding {label:?}; use one of utf-8, utf-16le, utf-16be, latin-1, windows-1252, gbk, gb18030, big5, shift_jis"
        ))
    })
}

/// Detects the encoding of `head` (the first bytes of a file).
pub fn detect(head: &[u8]) -> Detected {
    if let Some((enc, len)) = Encoding::for_bom(head) {
        return Detected {
            encoding: enc,
            bom_len: len,
        };
    }
    if let Some(enc) = utf16_without_bom(head) {
        return Detected {
            encoding: enc,
            bom_len: 0,
        };
    }
    if valid_utf8_prefix(head) {
        return Detected {
            encoding: UTF_8,
            bom_len: 0,
        };
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    det.feed(head, head.len() < SNIFF_BYTES);
    let guess = det.guess(None, chardetng::Utf8Detection::Allow);
    // chardetng says GBK for Chinese; GB18030 decodes the same bytes and more.
    let guess = if guess == encoding_rs::GBK {
        encoding_rs::GB18030
    } else {
        guess
    };
    Detected {
        encoding: guess,
        bom_len: 0,
    }
}

/// Valid UTF-8, allowing the sample to end in the middle of a character.
fn valid_utf8_prefix(head: &[u8]) -> bool {
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// UTF-16 without a BOM shows as a zero byte in every other position for ASCII-heavy text.
fn utf16_without_bom(head: &[u8]) -> Option<&'static Encoding> {
    let n = head.len().min(4096) & !1;
    if n < 8 {
        return None;
    }
    let (mut even0, mut odd0) = (0usize, 0usize);
    for i in (0..n).step_by(2) {
        even0 += usize::from(head[i] == 0);
        odd0 += usize::from(head[i + 1] == 0);
    }
    let pairs = n / 2;
    if odd0 * 10 > pairs * 7 && even0 * 10 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even0 * 10 > pairs * 7 && odd0 * 10 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// A reader that decodes its inner reader's bytes to UTF-8, chunk by chunk.
/// Counts replacement characters so the caller can report undecodable bytes.
pub struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
    eof: bool,
    pub replacements: u64,
}

impl<R: Read> DecodeReader<R> {
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        Self {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            raw: vec![0; 1 << 16],
            raw_len: 0,
            out: vec![0; (1 << 16) * 3 + 16],
            out_pos: 0,
            out_len: 0,
            eof: false,
            replacements: 0,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_pos == self.out_len {
            if self.eof && self.raw_len == 0 {
                return Ok(0);
            }
            if !self.eof && self.raw_len < self.raw.len() {
                let n = self.inner.read(&mut self.raw[self.raw_len..])?;
                if n == 0 {
                    self.eof = true;
                }
                self.raw_len += n;
            }
            let (_, read, written, had) =
                self.decoder
                    .decode_to_utf8(&self.raw[..self.raw_len], &mut self.out, self.eof);
            if had {
                // decode_to_utf8 reports only whether some replacement happened in this call;
                // count the U+FFFD characters actually written.
                let s = &self.out[..written];
                self.replacements +=
                    s.windows(3).filter(|w| w == &[0xEF, 0xBF, 0xBD]).count() as u64;
            }
            self.raw.copy_within(read..self.raw_len, 0);
            self.raw_len -= read;
            self.out_pos = 0;
            self.out_len = written;
            if self.eof && read == 0 && written == 0 {
                self.raw_len = 0;
            }
        }
        let n = buf.len().min(self.out_len - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}
