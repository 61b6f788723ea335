//! shelf's own forward pass for quantized Llama and Qwen2 GGUF models on the CPU, with one KV
//! cache per sequence so several requests decode in one batch.
//!
//! Key decisions:
//! - Why not candle's `quantized_llama` / `quantized_qwen2`: they keep one KV cache inside the
//!   model and have no per-row mask, so prompts of different lengths cannot share a forward
//!   pass; and their weights are private, so candle's scalar Q4_1 kernel (77 % of SmolLM2's
//!   decode time) cannot be swapped for a fast one. candle still reads the file, and multiplies
//!   every weight type shelf has no kernel of its own for ([`quant`](super::quant)).
//! - A forward pass takes *rows*: every token of every sequence in the step, each with its own
//!   position and cache. Matrix products run over all rows at once (each weight row is read once
//!   per step); attention runs per row against its own sequence's cache only, which is the mask.
//!   A prompt and a decode step are the same call, and a row's numbers do not depend on what
//!   else is in the batch, so a request gives the same text alone or batched.
//! - Plain f32 buffers, no tensor library: decoding is ~200 small operations per token, and
//!   per-operation overhead matters at that size.
//! - The maths follows the GGUF conventions llama.cpp uses: RMSNorm, rotary embeddings with
//!   adjacent pairs for Llama and split halves ("NeoX") for Qwen2, grouped-query attention, a
//!   SiLU-gated MLP, and the token embedding reused as the output head when the file has no
//!   `output.weight`.

use std::fs::File;

use candle_core::Device;
use candle_core::quantized::gguf_file;
use rayon::prelude::*;

use shelf_core::lm::dot;

use super::quant::Matrix;

/// The shape numbers of a model, from its GGUF metadata.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) hidden: usize,
    pub(crate) heads: usize,
    pub(crate) kv_heads: usize,
    pub(crate) head_dim: usize,
    /// Leading dimensions of each head that rotate (`rope.dimension_count`).
    pub(crate) rope_dim: usize,
    pub(crate) rope_base: f32,
    /// Pairs `(i, i + rope_dim/2)` (Qwen2) rather than `(2i, 2i+1)` (Llama).
    pub(crate) rope_halves: bool,
    pub(crate) eps: f32,
    pub(crate) vocab: usize,
}

impl Config {
    fn from_metadata(arch: &str, content: &gguf_file::Content) -> candle_core::Result<Self> {
        let get = |key: &str| -> candle_core::Result<&gguf_file::Value> {
            content
                .metadata
                .get(&format!("{arch}.{key}"))
                .ok_or_else(|| candle_core::Error::Msg(format!("metadata has no {arch}.{key}")))
        };
        let int = |key: &str| -> candle_core::Result<usize> { Ok(get(key)?.to_u32()? as usize) };
        let hidden = int("embedding_length")?;
        let heads = int("attention.head_count")?;
        let kv_heads = int("attention.head_count_kv").unwrap_or(heads);
        let head_dim = hidden / heads;
        if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 || head_dim % 2 != 0 {
            candle_core::bail!("unsupported attention shape: {heads} heads, {kv_heads} kv heads");
        }
        let rope_dim = int("rope.dimension_count")
            .unwrap_or(head_dim)
            .min(head_dim);
        Ok(Self {
            hidden,
            heads,
            kv_heads,
            head_dim,
            rope_dim,
            rope_base: get("rope.freq_base")
                .and_then(|v| v.to_f32())
                .unwrap_or(10_000.0),
            rope_halves: arch == "qwen2",
            eps: get("attention.layer_norm_rms_epsilon")?.to_f32()?,
            vocab: 0,
        })
    }

    fn kv_dim(&self) -> usize {
        self.kv_heads * self.head_dim
    }
}

struct Layer {
    attn_norm: Vec<f32>,
    wq: Matrix,
    wk: Matrix,
    wv: Matrix,
    /// Qwen2's q/k/v biases; Llama files have none.
    bias: Option<[Vec<f32>; 3]>,
    wo: Matrix,
    ffn_norm: Vec<f32>,
    gate: Matrix,
    up: Matrix,
    down: Matrix,
}

/// The keys and values one sequence has seen, per layer (`len × kv_dim` each).
#[derive(Debug, Default)]
pub(crate) struct Cache {
    layers: Vec<(Vec<f32>, Vec<f32>)>,
    len: usize,
}

/// A loaded model.
pub(crate) struct Decoder {
    config: Config,
    /// Token vectors, one row per token id; also the output head when `output` is `None`.
    token_embd: Matrix,
    layers: Vec<Layer>,
    norm: Vec<f32>,
    /// `None`: the output head is `token_embd`.
    output: Option<Matrix>,
    inv_freq: Vec<f32>,
}

impl Decoder {
    pub(crate) fn load(
        arch: &str,
        content: &gguf_file::Content,
        file: &mut File,
    ) -> candle_core::Result<Self> {
        let mut config = Config::from_metadata(arch, content)?;
        let token_embd = matrix(content, file, "token_embd.weight")?;
        config.vocab = token_embd.rows();
        if token_embd.cols() != config.hidden {
            candle_core::bail!(
                "token_embd.weight is {} wide, the model's hidden size is {}",
                token_embd.cols(),
                config.hidden
            );
        }
        let output = if content.tensor_infos.contains_key("output.weight") {
            Some(matrix(content, file, "output.weight")?)
        } else {
            None
        };
        let norm = vector(content, file, "output_norm.weight")?;
        let count = content
            .metadata
            .get(&format!("{arch}.block_count"))
            .ok_or_else(|| candle_core::Error::Msg(format!("metadata has no {arch}.block_count")))?
            .to_u32()? as usize;
        let mut layers = Vec::with_capacity(count);
        for i in 0..count {
            let name = |part: &str| format!("blk.{i}.{part}");
            let bias = if content.tensor_infos.contains_key(&name("attn_q.bias")) {
                Some([
                    vector(content, file, &name("attn_q.bias"))?,
                    vector(content, file, &name("attn_k.bias"))?,
                    vector(content, file, &name("attn_v.bias"))?,
                ])
            } else {
                None
            };
            layers.push(Layer {
                wq: matrix(content, file, &name("attn_q.weight"))?,
                wk: matrix(content, file, &name("attn_k.weight"))?,
                wv: matrix(content, file, &name("attn_v.weight"))?,
                wo: matrix(content, file, &name("attn_output.weight"))?,
                gate: matrix(content, file, &name("ffn_gate.weight"))?,
                up: matrix(content, file, &name("ffn_up.weight"))?,
                down: matrix(content, file, &name("ffn_down.weight"))?,
                attn_norm: vector(content, file, &name("attn_norm.weight"))?,
                ffn_norm: vector(content, file, &name("ffn_norm.weight"))?,
                bias,
            });
        }
        let inv_freq = (0..config.rope_dim / 2)
            .map(|i| {
                1.0 / config
                    .rope_base
                    .powf(2.0 * i as f32 / config.rope_dim as f32)
            })
            .collect();
        Ok(Self {
            config,
            token_embd,
            layers,
            norm,
            output,
            inv_freq,
        })
    }

    /// An empty cache for a new sequence.
    pub(crate) fn cache(&self) -> Cache {
        Cache {
            layers: vec![(Vec::new(), Vec::new()); self.layers.len()],
            len: 0,
        }
    }

    /// Feeds `tokens[s]` to sequence `s` (after what its cache holds) for every `s`, and
    /// returns the logits after each sequence's last token: `vocab` values per sequence.
    /// Every sequence must have at least one token.
    pub(crate) fn forward(
        &self,
        caches: &mut [&mut Cache],
        tokens: &[&[u32]],
    ) -> candle_core::Result<Vec<f32>> {
        let c = &self.config;
        // (sequence, position) of every row.
        let rows: Vec<(usize, usize)> = tokens
            .iter()
            .enumerate()
            .flat_map(|(s, t)| (0..t.len()).map(move |i| (s, i)))
            .map(|(s, i)| (s, caches[s].len + i))
            .collect();
        let m = rows.len();
        let mut x = vec![0f32; m * c.hidden];
        for (row, &id) in x
            .chunks_exact_mut(c.hidden)
            .zip(tokens.iter().copied().flatten())
        {
            self.embed(id, row)?;
        }
        let (kv_dim, q_dim) = (c.kv_dim(), c.heads * c.head_dim);
        let mut xn = vec![0f32; m * c.hidden];
        let (mut q, mut k, mut v) = (
            vec![0f32; m * q_dim],
            vec![0f32; m * kv_dim],
            vec![0f32; m * kv_dim],
        );
        let mut attn = vec![0f32; m * q_dim];
        let mut proj = vec![0f32; m * c.hidden];
        let ffn = self.layers.first().map_or(0, |l| l.gate.rows());
        let (mut gate, mut up) = (vec![0f32; m * ffn], vec![0f32; m * ffn]);
        let rope: Vec<(Vec<f32>, Vec<f32>)> = rows.iter().map(|&(_, p)| self.rope_at(p)).collect();

        for (l, layer) in self.layers.iter().enumerate() {
            rms_norm(&x, &layer.attn_norm, c.eps, &mut xn);
            layer.wq.matmul(&xn, &mut q)?;
            layer.wk.matmul(&xn, &mut k)?;
            layer.wv.matmul(&xn, &mut v)?;
            if let Some([bq, bk, bv]) = &layer.bias {
                add_rows(&mut q, bq);
                add_rows(&mut k, bk);
                add_rows(&mut v, bv);
            }
            for (r, (cos, sin)) in rope.iter().enumerate() {
                for head in q[r * q_dim..(r + 1) * q_dim].chunks_exact_mut(c.head_dim) {
                    self.rotate(head, cos, sin);
                }
                for head in k[r * kv_dim..(r + 1) * kv_dim].chunks_exact_mut(c.head_dim) {
                    self.rotate(head, cos, sin);
                }
            }
            for (r, &(s, _)) in rows.iter().enumerate() {
                let (keys, values) = &mut caches[s].layers[l];
                keys.extend_from_slice(&k[r * kv_dim..(r + 1) * kv_dim]);
                values.extend_from_slice(&v[r * kv_dim..(r + 1) * kv_dim]);
            }
            let layer_caches: Vec<&(Vec<f32>, Vec<f32>)> =
                caches.iter().map(|cache| &cache.layers[l]).collect();
            // One task per row (all its heads): a row's attention is small next to dispatch.
            attn.par_chunks_mut(q_dim)
                .zip(q.par_chunks(q_dim))
                .zip(rows.par_iter())
                .for_each(|((out, q), &(s, p))| {
                    let (keys, values) = layer_caches[s];
                    self.attend(
                        q,
                        &keys[..(p + 1) * kv_dim],
                        &values[..(p + 1) * kv_dim],
                        out,
                    );
                });
            layer.wo.matmul(&attn, &mut proj)?;
            add(&mut x, &proj);

            rms_norm(&x, &layer.ffn_norm, c.eps, &mut xn);
            layer.gate.matmul(&xn, &mut gate)?;
            layer.up.matmul(&xn, &mut up)?;
            for (g, u) in gate.iter_mut().zip(&up) {
                *g = *g / (1.0 + (-*g).exp()) * u;
            }
            layer.down.matmul(&gate, &mut proj)?;
            add(&mut x, &proj);
        }
        for (cache, t) in caches.iter_mut().zip(tokens) {
            cache.len += t.len();
        }

        // Only each sequence's last row is needed for the next token.
        let mut last = Vec::with_capacity(tokens.len() * c.hidden);
        let mut end = 0;
        for t in tokens {
            end += t.len();
            last.extend_from_slice(&x[(end - 1) * c.hidden..end * c.hidden]);
        }
        let mut normed = vec![0f32; last.len()];
        rms_norm(&last, &self.norm, c.eps, &mut normed);
        let head = self.output.as_ref().unwrap_or(&self.token_embd);
        let mut logits = vec![0f32; tokens.len() * head.rows()];
        head.matmul(&normed, &mut logits)?;
        Ok(logits)
    }

    fn embed(&self, id: u32, out: &mut [f32]) -> candle_core::Result<()> {
        let id = id as usize;
        if id >= self.config.vocab {
            candle_core::bail!(
                "token id {id} is outside the vocabulary of {}",
                self.config.vocab
            );
        }
        self.token_embd.row(id, out)
    }

    /// cos and sin of every rotary frequency at position `p`.
    fn rope_at(&self, p: usize) -> (Vec<f32>, Vec<f32>) {
        self.inv_freq
            .iter()
            .map(|f| {
                let angle = p as f32 * f;
                (angle.cos(), angle.sin())
            })
            .unzip()
    }

    fn rotate(&self, head: &mut [f32], cos: &[f32], sin: &[f32]) {
        let half = self.config.rope_dim / 2;
        for i in 0..half {
            let (a, b) = if self.config.rope_halves {
                (i, i + half)
            } else {
                (2 * i, 2 * i + 1)
            };
            let (x0, x1) = (head[a], head[b]);
            head[a] = x0 * cos[i] - x1 * sin[i];
            head[b] = x0 * sin[i] + x1 * cos[i];
        }
    }

    /// One row's attention over `keys` / `values` (`positions × kv_dim`), every head.
    fn attend(&self, q: &[f32], keys: &[f32], values: &[f32], out: &mut [f32]) {
        let c = &self.config;
        let (hd, kv_dim) = (c.head_dim, c.kv_dim());
        let group = c.heads / c.kv_heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut scores = vec![0f32; keys.len() / kv_dim];
        for (h, (q, out)) in q.chunks_exact(hd).zip(out.chunks_exact_mut(hd)).enumerate() {
            let offset = (h / group) * hd;
            for (score, key) in scores.iter_mut().zip(keys.chunks_exact(kv_dim)) {
                *score = dot(q, &key[offset..offset + hd]) * scale;
            }
            softmax(&mut scores);
            out.fill(0.0);
            for (&w, value) in scores.iter().zip(values.chunks_exact(kv_dim)) {
                for (o, v) in out.iter_mut().zip(&value[offset..offset + hd]) {
                    *o += w * v;
                }
            }
        }
    }
}

fn matrix(
    content: &gguf_file::Content,
    file: &mut File,
    name: &str,
) -> candle_core::Result<Matrix> {
    Matrix::new(content.tensor(file, name, &Device::Cpu)?)
}

/// A tensor dequantized to a flat f32 vector (norm weights, biases).
fn vector(
    content: &gguf_file::Content,
    file: &mut File,
    name: &str,
) -> candle_core::Result<Vec<f32>> {
    content
        .tensor(file, name, &Device::Cpu)?
        .dequantize(&Device::Cpu)?
        .flatten_all()?
        .to_vec1::<f32>()
}

fn softmax(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in x.iter_mut() {
        *v /= sum;
    }
}

/// `out = x / rms(x) · weight`, row by row.
fn rms_norm(x: &[f32], weight: &[f32], eps: f32, out: &mut [f32]) {
    let n = weight.len();
    for (x, out) in x.chunks_exact(n).zip(out.chunks_exact_mut(n)) {
        let mean = x.iter().map(|v| v * v).sum::<f32>() / n as f32;
        let inv = 1.0 / (mean + eps).sqrt();
        for ((o, &v), &w) in out.iter_mut().zip(x).zip(weight) {
            *o = v * inv * w;
        }
    }
}

fn add(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
}

/// Adds `bias` to every row of `x`.
fn add_rows(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        add(row, bias);
    }
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::{GgmlDType, QTensor};
    use candle_core::{Device, Tensor};
    use candle_transformers::models::{quantized_llama, quantized_qwen2};

    use super::*;
    use crate::gguf::Weights;

    const HIDDEN: usize = 64;
    const FFN: usize = 256;
    const VOCAB: usize = 96;

    /// Deterministic values in [-scale, scale).
    fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s >> 11) as f32 / (1u64 << 53) as f32 * 2.0 - 1.0) * scale
            })
            .collect()
    }

    /// A `rows × cols` weight matrix quantized to `dtype`.
    fn qtensor(rows: usize, cols: usize, seed: u64, dtype: GgmlDType) -> QTensor {
        let v = values(rows * cols, seed, 2.0 / (cols as f32).sqrt());
        let t = Tensor::from_vec(v, (rows, cols), &Device::Cpu).unwrap();
        QTensor::quantize(&t, dtype).unwrap()
    }

    /// An f32 vector near `around`: norm weights (1) and biases (0).
    fn vector(n: usize, seed: u64, around: f32) -> QTensor {
        let v: Vec<f32> = values(n, seed, 0.2).iter().map(|x| x + around).collect();
        let t = Tensor::from_vec(v, n, &Device::Cpu).unwrap();
        QTensor::quantize(&t, GgmlDType::F32).unwrap()
    }

    /// A tiny random model of `arch` (2 layers, 4 heads over 2 KV heads), written as GGUF.
    /// `quantized`: a mix of tensor types, shelf's native Q4_1 / Q8_0 / Q4_K / Q6_K and candle's
    /// Q5_0 (the embedding too); else every matrix is f32, so both sides multiply exactly and
    /// only the model's maths (norms, rotary embeddings, attention, biases) can differ.
    fn tiny_model(arch: &str, quantized: bool) -> tempfile::NamedTempFile {
        use gguf_file::Value;
        let qwen = arch == "qwen2";
        let key = |k: &str| format!("{arch}.{k}");
        let metadata = vec![
            (key("attention.head_count"), Value::U32(4)),
            (key("attention.head_count_kv"), Value::U32(2)),
            (key("embedding_length"), Value::U32(HIDDEN as u32)),
            (key("context_length"), Value::U32(256)),
            (key("block_count"), Value::U32(2)),
            (key("attention.layer_norm_rms_epsilon"), Value::F32(1e-5)),
            (key("rope.freq_base"), Value::F32(10_000.0)),
            (key("rope.dimension_count"), Value::U32(16)),
            (
                "general.architecture".to_string(),
                Value::String(arch.to_string()),
            ),
        ];
        let (q, other, k) = match (quantized, qwen) {
            (false, _) => (GgmlDType::F32, GgmlDType::F32, GgmlDType::F32),
            (true, true) => (GgmlDType::Q8_0, GgmlDType::Q5_0, GgmlDType::Q4K),
            (true, false) => (GgmlDType::Q4_1, GgmlDType::Q8_0, GgmlDType::Q6K),
        };
        let mut tensors: Vec<(String, QTensor)> = vec![
            ("token_embd.weight".into(), qtensor(VOCAB, HIDDEN, 1, other)),
            ("output_norm.weight".into(), vector(HIDDEN, 2, 1.0)),
        ];
        if qwen {
            tensors.push(("output.weight".into(), qtensor(VOCAB, HIDDEN, 3, q)));
        }
        for l in 0..2u64 {
            let n = |p: &str| format!("blk.{l}.{p}");
            let s = 100 * (l + 1);
            tensors.extend([
                (n("attn_q.weight"), qtensor(HIDDEN, HIDDEN, s + 1, q)),
                (n("attn_k.weight"), qtensor(32, HIDDEN, s + 2, q)),
                (n("attn_v.weight"), qtensor(32, HIDDEN, s + 3, other)),
                (n("attn_output.weight"), qtensor(HIDDEN, HIDDEN, s + 4, q)),
                (n("ffn_gate.weight"), qtensor(FFN, HIDDEN, s + 5, q)),
                (n("ffn_up.weight"), qtensor(FFN, HIDDEN, s + 6, q)),
                (n("ffn_down.weight"), qtensor(HIDDEN, FFN, s + 7, k)),
                (n("attn_norm.weight"), vector(HIDDEN, s + 8, 1.0)),
                (n("ffn_norm.weight"), vector(HIDDEN, s + 9, 1.0)),
            ]);
            if qwen {
                tensors.extend([
                    (n("attn_q.bias"), vector(HIDDEN, s + 17, 0.0)),
                    (n("attn_k.bias"), vector(32, s + 27, 0.0)),
                    (n("attn_v.bias"), vector(32, s + 37, 0.0)),
                ]);
            }
        }
        let mut file = tempfile::NamedTempFile::new().unwrap();
        let md: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let ts: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        gguf_file::write(file.as_file_mut(), &md, &ts).unwrap();
        file
    }

    fn open(file: &tempfile::NamedTempFile) -> (gguf_file::Content, File) {
        let mut f = File::open(file.path()).unwrap();
        (gguf_file::Content::read(&mut f).unwrap(), f)
    }

    /// candle's model's logits for `steps` fed one after another.
    fn candle_logits(
        arch: &str,
        file: &tempfile::NamedTempFile,
        steps: &[&[u32]],
    ) -> Vec<Vec<f32>> {
        let (content, mut f) = open(file);
        let cpu = Device::Cpu;
        let mut model = if arch == "qwen2" {
            Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(content, &mut f, &cpu).unwrap())
        } else {
            Weights::Llama(quantized_llama::ModelWeights::from_gguf(content, &mut f, &cpu).unwrap())
        };
        let mut pos = 0;
        steps
            .iter()
            .map(|t| {
                let x = Tensor::new(*t, &cpu).unwrap().unsqueeze(0).unwrap();
                let y = model.forward(&x, pos).unwrap();
                pos += t.len();
                y.flatten_all().unwrap().to_vec1().unwrap()
            })
            .collect()
    }

    fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        let argmax = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|x, y| x.1.total_cmp(y.1))
                .map(|(i, _)| i)
        };
        assert!(worst < tol, "{what}: max |Δlogit| {worst}");
        assert_eq!(argmax(a), argmax(b), "{what}: top token differs");
    }

    /// Logits stay within ±3 here: f32 matrices agree to rounding; quantized ones differ by
    /// how each side rounds activation scales (candle to f16, shelf keeps f32) and sums.
    #[test]
    fn logits_match_candles_models_for_both_architectures() {
        let steps: [&[u32]; 3] = [&[1, 5, 9, 33, 70, 2], &[17], &[95]];
        for (arch, quantized, tol) in [
            ("llama", false, 1e-4),
            ("qwen2", false, 1e-4),
            ("llama", true, 0.15),
            ("qwen2", true, 0.15),
        ] {
            let file = tiny_model(arch, quantized);
            let want = candle_logits(arch, &file, &steps);
            let (content, mut f) = open(&file);
            let decoder = Decoder::load(arch, &content, &mut f).unwrap();
            assert_eq!(decoder.config.vocab, VOCAB);
            let mut cache = decoder.cache();
            for (step, want) in steps.iter().zip(&want) {
                let got = decoder.forward(&mut [&mut cache], &[*step]).unwrap();
                assert_close(&got, want, tol, &format!("{arch} quantized {quantized}"));
            }
            assert_eq!(cache.len, 8);
        }
    }

    #[test]
    fn a_sequence_gives_the_same_logits_alone_and_in_a_batch() {
        let file = tiny_model("qwen2", true);
        let (content, mut f) = open(&file);
        let d = Decoder::load("qwen2", &content, &mut f).unwrap();
        let (a, b): (&[u32], &[u32]) = (&[3, 4, 5], &[9, 8, 7, 6, 5]);
        let alone = d.forward(&mut [&mut d.cache()], &[b]).unwrap();
        let (mut ca, mut cb) = (d.cache(), d.cache());
        let both = d.forward(&mut [&mut ca, &mut cb], &[a, b]).unwrap();
        assert_eq!(&both[VOCAB..], &alone[..]);
        // A decode step in a batch sees only its own sequence's cache.
        let mut c = d.cache();
        d.forward(&mut [&mut c], &[b]).unwrap();
        let next_alone = d.forward(&mut [&mut c], &[&[11]]).unwrap();
        let next_both = d.forward(&mut [&mut ca, &mut cb], &[&[40], &[11]]).unwrap();
        assert_eq!(&next_both[VOCAB..], &next_alone[..]);
    }

    #[test]
    fn an_unknown_token_id_is_an_error() {
        let file = tiny_model("llama", true);
        let (content, mut f) = open(&file);
        let d = Decoder::load("llama", &content, &mut f).unwrap();
        let err = d
            .forward(&mut [&mut d.cache()], &[&[VOCAB as u32]])
            .unwrap_err();
        assert!(err.to_string().contains("outside the vocabulary"), "{err}");
    }
}
