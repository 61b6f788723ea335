//! The tokenizer of a GGUF file, built from its metadata: GGUF files carry no
//! `tokenizer.json`, only `tokenizer.ggml.*` arrays.
//!
//! Key decision: build a `tokenizers::Tokenizer` programmatically (byte-level BPE model,
//! llama.cpp's split regexes for the file's `tokenizer.ggml.pre` as `Split` pre-tokenizers,
//! then the byte-to-unicode `ByteLevel` mapping) instead of porting BPE: the library is already
//! in the build for the BERT embedders and is the reference implementation of these
//! vocabularies. Control tokens (`<|im_start|>`, `<|im_end|>`, …) are special added tokens, so
//! they are recognised inside a templated prompt and left out of decoded text, as llama.cpp
//! does.

use std::collections::HashMap;
use std::path::Path;

use candle_core::quantized::gguf_file::Value;
use shelf_core::{ShelfError, ShelfResult};
use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::models::bpe::{BPE, Vocab};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, PreTokenizerWrapper, SplitDelimiterBehavior, Tokenizer};

/// GPT-2's split: contractions, letters, digits, other symbols, whitespace.
const GPT2_SPLIT: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";

/// Qwen2's split: case-insensitive contractions, one digit at a time, CJK runs kept whole.
const QWEN2_SPLIT: &str = r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The pre-tokenizer types (`tokenizer.ggml.pre`) shelf knows, each with the regexes llama.cpp
/// applies in order (each splits the pieces the previous one left).
const PRE_TYPES: &[(&str, &[&str])] = &[
    ("gpt2", &[GPT2_SPLIT]),
    ("qwen2", &[QWEN2_SPLIT]),
    ("smollm", &[r"\p{N}", GPT2_SPLIT]),
];

/// GGUF token types (llama.cpp's `llama_token_type`) that are special tokens.
const CONTROL: i32 = 3;
const USER_DEFINED: i32 = 4;

/// A GGUF file's byte-level BPE tokenizer.
pub struct GgufTokenizer {
    inner: Tokenizer,
    add_bos: Option<u32>,
}

impl GgufTokenizer {
    /// Builds the tokenizer `path`'s metadata describes; a vocabulary type or pre-tokenizer
    /// shelf does not know is a user error that lists the known ones.
    pub fn from_metadata(path: &Path, metadata: &HashMap<String, Value>) -> ShelfResult<Self> {
        let meta = Meta { path, metadata };
        let model = meta.string("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(ShelfError::user(format!(
                "{}: tokenizer type `{model}` is not supported; shelf reads GGUF files with \
                 byte-level BPE (gpt2-type) vocabularies, as Qwen2 and SmolLM2 have",
                path.display()
            )));
        }
        let pre = meta
            .string("tokenizer.ggml.pre")
            .unwrap_or_else(|_| "gpt2".into());
        let splits = PRE_TYPES
            .iter()
            .find(|(name, _)| *name == pre)
            .map(|(_, r)| *r)
            .ok_or_else(|| {
                let known: Vec<_> = PRE_TYPES.iter().map(|(n, _)| *n).collect();
                ShelfError::user(format!(
                    "{}: pre-tokenizer `{pre}` is not supported; shelf knows {}",
                    path.display(),
                    known.join(", ")
                ))
            })?;
        let tokens = meta.strings("tokenizer.ggml.tokens")?;
        let merges = meta.strings("tokenizer.ggml.merges")?;
        let types = meta.ints("tokenizer.ggml.token_type").unwrap_or_default();
        let mut inner = Tokenizer::new(bpe(path, &tokens, &merges)?);
        inner.with_pre_tokenizer(Some(pre_tokenizer(path, splits)?));
        inner.with_decoder(Some(ByteLevel::default()));
        inner.add_special_tokens(&special_tokens(&tokens, &types));
        let add_bos = metadata
            .get("tokenizer.ggml.add_bos_token")
            .and_then(|v| v.to_bool().ok())
            .unwrap_or(false)
            .then(|| metadata.get("tokenizer.ggml.bos_token_id"))
            .flatten()
            .and_then(|v| v.to_u32().ok());
        Ok(Self { inner, add_bos })
    }

    /// The ids of `text`, special tokens in it recognised, with BOS first when the model
    /// asks for it (`tokenizer.ggml.add_bos_token`).
    pub fn encode(&self, text: &str) -> ShelfResult<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| ShelfError::backend("gguf", format!("tokenizing: {e}")))?;
        let mut ids: Vec<u32> = self.add_bos.into_iter().collect();
        ids.extend_from_slice(enc.get_ids());
        Ok(ids)
    }

    /// The text of `ids`, special tokens left out.
    pub fn decode(&self, ids: &[u32]) -> ShelfResult<String> {
        self.inner
            .decode(ids, true)
            .map_err(|e| ShelfError::backend("gguf", format!("decoding: {e}")))
    }

    /// The id of the token spelled `token`, if the vocabulary has it.
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }
}

/// The byte-level BPE model: token `i` of the vocabulary has id `i`; merges are "left right".
fn bpe(path: &Path, tokens: &[String], merges: &[String]) -> ShelfResult<BPE> {
    let vocab: Vocab = tokens.iter().cloned().zip(0u32..).collect();
    let merges = merges
        .iter()
        .map(|m| {
            m.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    ShelfError::user(format!(
                        "{}: merge `{m}` in tokenizer.ggml.merges is not `left right`",
                        path.display()
                    ))
                })
        })
        .collect::<ShelfResult<Vec<_>>>()?;
    BPE::builder()
        .vocab_and_merges(vocab, merges)
        .build()
        .map_err(|e| ShelfError::user(format!("{}: its BPE vocabulary: {e}", path.display())))
}

/// The split regexes, each isolating its matches, then the byte-to-unicode mapping (without
/// its own GPT-2 regex: the splits already did that work).
fn pre_tokenizer(path: &Path, splits: &[&str]) -> ShelfResult<PreTokenizerWrapper> {
    let mut steps = Vec::with_capacity(splits.len() + 1);
    for regex in splits {
        let split = Split::new(
            SplitPattern::Regex((*regex).to_string()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| ShelfError::internal(format!("{}: split regex: {e}", path.display())))?;
        steps.push(PreTokenizerWrapper::Split(split));
    }
    steps.push(PreTokenizerWrapper::ByteLevel(ByteLevel::new(
        false, false, false,
    )));
    Ok(PreTokenizerWrapper::Sequence(Sequence::new(steps)))
}

/// Control and user-defined tokens, matched whole in the input text.
fn special_tokens(tokens: &[String], types: &[i32]) -> Vec<AddedToken> {
    tokens
        .iter()
        .zip(types)
        .filter(|(_, t)| matches!(**t, CONTROL | USER_DEFINED))
        .map(|(tok, _)| AddedToken::from(tok.clone(), true).normalized(false))
        .collect()
}

/// Typed reads of the metadata, with errors that name the file and key.
struct Meta<'a> {
    path: &'a Path,
    metadata: &'a HashMap<String, Value>,
}

impl Meta<'_> {
    fn get(&self, key: &str) -> ShelfResult<&Value> {
        self.metadata.get(key).ok_or_else(|| {
            ShelfError::user(format!(
                "{}: has no `{key}` in its metadata; is it a complete GGUF chat model?",
                self.path.display()
            ))
        })
    }

    fn bad(&self, key: &str, e: candle_core::Error) -> ShelfError {
        ShelfError::user(format!("{}: metadata `{key}`: {e}", self.path.display()))
    }

    fn string(&self, key: &str) -> ShelfResult<String> {
        self.get(key)?
            .to_string()
            .cloned()
            .map_err(|e| self.bad(key, e))
    }

    fn strings(&self, key: &str) -> ShelfResult<Vec<String>> {
        let values = self.get(key)?.to_vec().map_err(|e| self.bad(key, e))?;
        values
            .iter()
            .map(|v| v.to_string().cloned().map_err(|e| self.bad(key, e)))
            .collect()
    }

    fn ints(&self, key: &str) -> ShelfResult<Vec<i32>> {
        let values = self.get(key)?.to_vec().map_err(|e| self.bad(key, e))?;
        values
            .iter()
            .map(|v| v.to_i32().map_err(|e| self.bad(key, e)))
            .collect()
    }
}
