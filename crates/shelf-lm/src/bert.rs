//! BERT-family sentence embedders through candle: tokenize, bucket by length, run the encoder,
//! mean-pool over real tokens, L2-normalize.
//!
//! Two ways in: [`BertEmbedder::from_folder`] reads the usual folder (`config.json`,
//! `tokenizer.json`, `model.safetensors`); [`crate::e5s1`] reads multilingual-e5-small from
//! its `E5S1` file and hands the tensors and a tokenizer to [`BertEmbedder::new`].

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use rayon::prelude::*;
use shelf_core::lm::{Embedder, Embeddings, TextKind};
use shelf_core::{ShelfError, ShelfResult};

use crate::device::{self, candle_err};

/// Text → token ids, with the model's special tokens already added (`[CLS] … [SEP]`).
pub trait TokenIds: Send + Sync {
    /// The ids of `text`, special tokens included, not truncated.
    fn ids(&self, text: &str) -> ShelfResult<Vec<u32>>;
    /// The id padding uses (masked out, so any valid id works).
    fn pad_id(&self) -> u32;
}

/// A `tokenizer.json` tokenizer.
pub struct HfTokenizer {
    backend: String,
    inner: tokenizers::Tokenizer,
    pad_id: u32,
}

impl HfTokenizer {
    /// Reads `path`; its truncation and padding settings are switched off (the embedder
    /// truncates and pads itself, per batch).
    pub fn from_file(backend: &str, path: &Path) -> ShelfResult<Self> {
        let mut inner = tokenizers::Tokenizer::from_file(path).map_err(|e| {
            ShelfError::backend(
                backend,
                format!("{}: not a tokenizer.json: {e}", path.display()),
            )
        })?;
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| ShelfError::backend(backend, format!("tokenizer: {e}")))?;
        let pad_id = ["[PAD]", "<pad>"]
            .iter()
            .find_map(|t| inner.token_to_id(t))
            .unwrap_or(0);
        Ok(Self {
            backend: backend.to_string(),
            inner,
            pad_id,
        })
    }
}

impl TokenIds for HfTokenizer {
    fn ids(&self, text: &str) -> ShelfResult<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| ShelfError::backend(&self.backend, format!("tokenizing: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }
    fn pad_id(&self) -> u32 {
        self.pad_id
    }
}

/// What an embedder prepends to each kind of text (e5: `query: ` / `passage: `).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefixes {
    pub query: String,
    pub passage: String,
}

/// How an embedder batches and how many threads it uses.
#[derive(Debug, Clone, Copy)]
pub struct BatchOptions {
    /// At most this many texts per forward pass.
    pub max_batch: usize,
    /// At most this many (padded) tokens per forward pass: long texts go in smaller batches.
    pub max_batch_tokens: usize,
    /// Texts are cut to this many tokens (special tokens included).
    pub max_len: usize,
    /// Threads for the model (0 = one per core).
    pub threads: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            max_batch: 64,
            max_batch_tokens: 8192,
            max_len: 256,
            threads: 0,
        }
    }
}

/// A BERT encoder with mean pooling and L2 normalization.
pub struct BertEmbedder {
    id: String,
    model: BertModel,
    tokens: Box<dyn TokenIds>,
    device: Device,
    pool: rayon::ThreadPool,
    dim: usize,
    prefixes: Prefixes,
    batch: BatchOptions,
}

impl BertEmbedder {
    /// Builds an embedder from loaded tensors (names as in a Hugging Face BERT checkpoint).
    pub fn new(
        id: String,
        config: &Config,
        vb: VarBuilder,
        tokens: Box<dyn TokenIds>,
        prefixes: Prefixes,
        mut batch: BatchOptions,
    ) -> ShelfResult<Self> {
        let model = BertModel::load(vb, config).map_err(|e| candle_err(&id, "loading BERT", e))?;
        batch.max_len = batch.max_len.min(config.max_position_embeddings).max(2);
        Ok(Self {
            pool: device::pool(&id, batch.threads)?,
            device: model.device.clone(),
            dim: config.hidden_size,
            id,
            model,
            tokens,
            prefixes,
            batch,
        })
    }

    /// Loads `folder`: `config.json`, `tokenizer.json` and `model.safetensors`. `id` names the
    /// backend and model (with the weights' hash) for the cache.
    pub fn from_folder(
        id: String,
        folder: &Path,
        prefixes: Prefixes,
        batch: BatchOptions,
    ) -> ShelfResult<Self> {
        let read = |name: &str| {
            let path = folder.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(ShelfError::user(format!(
                    "{}: no {name}; a BERT model folder holds config.json, tokenizer.json and \
                     model.safetensors (`shelf models fetch all-minilm-l6-v2` installs one)",
                    folder.display()
                )))
            }
        };
        let config_path = read("config.json")?;
        let config: Config = serde_json::from_slice(
            &std::fs::read(&config_path)
                .map_err(|e| ShelfError::io(&config_path, "cannot read", e))?,
        )
        .map_err(|e| {
            ShelfError::user(format!(
                "{}: not a BERT config ({e}); shelf reads BERT-family models",
                config_path.display()
            ))
        })?;
        let tokens = HfTokenizer::from_file(&id, &read("tokenizer.json")?)?;
        let weights = read("model.safetensors")?;
        let device = device::pick(&id)?;
        let tensors = candle_core::safetensors::load(&weights, &device)
            .map_err(|e| candle_err(&id, &format!("reading {}", weights.display()), e))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        Self::new(id, &config, vb, Box::new(tokens), prefixes, batch)
    }

    fn forward(&self, batch: &[&[u32]]) -> ShelfResult<Vec<f32>> {
        let err = |what: &str| {
            let id = self.id.clone();
            let what = what.to_string();
            move |e| candle_err(&id, &what, e)
        };
        let width = batch.iter().map(|ids| ids.len()).max().unwrap_or(1);
        let mut ids = Vec::with_capacity(batch.len() * width);
        let mut mask = Vec::with_capacity(batch.len() * width);
        for row in batch {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(self.tokens.pad_id(), width - row.len()));
            mask.extend(std::iter::repeat_n(1u32, row.len()));
            mask.extend(std::iter::repeat_n(0u32, width - row.len()));
        }
        let shape = (batch.len(), width);
        let ids = Tensor::from_vec(ids, shape, &self.device).map_err(err("ids"))?;
        let mask = Tensor::from_vec(mask, shape, &self.device).map_err(err("mask"))?;
        let types = ids.zeros_like().map_err(err("token types"))?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask))
            .map_err(err("BERT forward"))?;
        // Mean over real tokens: sum(hidden · mask) / sum(mask).
        let mask = mask
            .to_dtype(DType::F32)
            .and_then(|m| m.unsqueeze(2))
            .map_err(err("mask"))?;
        let summed = hidden
            .broadcast_mul(&mask)
            .and_then(|h| h.sum(1))
            .map_err(err("pooling"))?;
        let counts = mask.sum(1).map_err(err("pooling"))?;
        let mean = summed.broadcast_div(&counts).map_err(err("pooling"))?;
        let norm = mean
            .sqr()
            .and_then(|s| s.sum_keepdim(1))
            .and_then(|s| s.sqrt())
            .and_then(|s| s.clamp(1e-12, f64::MAX))
            .map_err(err("normalizing"))?;
        mean.broadcast_div(&norm)
            .and_then(|t| t.to_device(&Device::Cpu))
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(err("normalizing"))
    }
}

impl Embedder for BertEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str], kind: TextKind) -> ShelfResult<Embeddings> {
        let prefix = match kind {
            TextKind::Query => &self.prefixes.query,
            TextKind::Passage => &self.prefixes.passage,
        };
        let max_len = self.batch.max_len;
        self.pool.install(|| {
            let ids: Vec<Vec<u32>> = texts
                .par_iter()
                .map(|t| {
                    let mut ids = self.tokens.ids(&format!("{prefix}{t}"))?;
                    if ids.len() > max_len {
                        // Keep the closing special token ([SEP] / </s>).
                        let last = ids[ids.len() - 1];
                        ids.truncate(max_len - 1);
                        ids.push(last);
                    }
                    Ok(ids)
                })
                .collect::<ShelfResult<_>>()?;
            // Length bucketing: sorted by length, a batch pads to its own longest text only.
            let mut order: Vec<usize> = (0..ids.len()).collect();
            order.sort_by_key(|&i| (ids[i].len(), i));
            let mut out = vec![0f32; texts.len() * self.dim];
            let mut start = 0;
            while start < order.len() {
                let mut end = start;
                while end < order.len()
                    && end - start < self.batch.max_batch
                    && (end - start + 1) * ids[order[end]].len()
                        <= self.batch.max_batch_tokens.max(max_len)
                {
                    end += 1;
                }
                let batch: Vec<&[u32]> = order[start..end].iter().map(|&i| &ids[i][..]).collect();
                let vectors = self.forward(&batch)?;
                for (k, &i) in order[start..end].iter().enumerate() {
                    out[i * self.dim..(i + 1) * self.dim]
                        .copy_from_slice(&vectors[k * self.dim..(k + 1) * self.dim]);
                }
                start = end;
            }
            Embeddings::new(self.dim, out)
        })
    }
}
