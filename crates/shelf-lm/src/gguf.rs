//! Quantized GGUF chat models (Qwen2 and Llama families): read the file, build the tokenizer
//! from its metadata, apply its chat template, decode in batches, sample with a seed.
//!
//! Key decisions:
//! - Everything comes from the one `.gguf` file: weights, the byte-level BPE tokenizer
//!   ([`tokenizer`]), the chat template and the end-of-turn ids. A file whose architecture,
//!   pre-tokenizer or chat template shelf does not know is a user error that lists what it does
//!   know, not a silent misreading.
//! - On the CPU the forward pass is shelf's own ([`Engine::Shelf`], `decoder.rs`): one KV cache
//!   per request, so up to [`BATCH`] requests decode together and each weight is read once per
//!   step for all of them, and native Q4_1 / Q8_0 / Q4_K / Q6_K kernels (`quant.rs`). candle's
//!   quantized models ([`Engine::Candle`]) run one request at a time; they are what a CUDA build
//!   uses, and the reference the tests hold shelf's decoder to.
//! - Sampling is candle's `LogitsProcessor`, seeded per request. A row's numbers do not depend
//!   on the other rows of its batch, so a request gives the same text alone or in any batch.

mod decoder;
mod quant;
pub mod tokenizer;

use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};
use candle_transformers::generation::{LogitsProcessor, Sampling};
use candle_transformers::models::{quantized_llama, quantized_qwen2};
use shelf_core::lm::{ChatMessage, ChatRole, FinishReason, GenRequest, Generation, Generator};
use shelf_core::{ShelfError, ShelfResult};

use crate::device::{self, candle_err};
use crate::models;
use decoder::{Cache, Decoder};
use tokenizer::GgufTokenizer;

/// The architectures shelf can run, as `general.architecture` names them.
pub const ARCHITECTURES: &[&str] = &["llama", "qwen2"];

/// The most requests shelf's decoder runs in one batch. A step reads and unpacks every weight
/// once for all its rows, so 8 requests together decode at 1.27–1.41× the throughput of one
/// at a time (SmolLM2 and Qwen2.5, bench/README.md); past that the dot products themselves
/// dominate while the KV caches and logits (rows × vocabulary) keep growing.
pub const BATCH: usize = 8;

/// The longest context candle's quantized Llama precomputes rotary tables for.
const LLAMA_MAX_CONTEXT: usize = 4096;

/// Which forward pass runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// shelf's decoder: CPU only, batched, native Q4_1 / Q8_0 / Q4_K / Q6_K kernels.
    Shelf,
    /// candle's `quantized_llama` / `quantized_qwen2`: one request at a time, on the CPU or
    /// (built with `cuda`) the GPU.
    Candle,
}

/// One of candle's quantized model implementations.
enum Weights {
    Llama(quantized_llama::ModelWeights),
    Qwen2(quantized_qwen2::ModelWeights),
}

impl Weights {
    fn forward(&mut self, x: &Tensor, pos: usize) -> candle_core::Result<Tensor> {
        match self {
            Weights::Llama(m) => m.forward(x, pos),
            Weights::Qwen2(m) => m.forward(x, pos),
        }
    }

    fn clear_kv_cache(&mut self) {
        match self {
            Weights::Llama(m) => m.clear_kv_cache(),
            Weights::Qwen2(m) => m.clear_kv_cache(),
        }
    }
}

enum Model {
    Shelf(Decoder),
    /// Behind a mutex: candle's models keep their KV cache inside.
    Candle(Mutex<Weights>),
}

/// Time spent on one request, split the way llama.cpp reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GenTimings {
    /// Tokens in the templated prompt.
    pub prompt_tokens: usize,
    /// Seconds to run the prompt through the model (up to the first sampled token).
    pub prompt_secs: f64,
    /// Tokens sampled after the first one.
    pub decode_tokens: usize,
    /// Seconds spent sampling them.
    pub decode_secs: f64,
}

/// A GGUF chat model.
pub struct GgufGenerator {
    id: String,
    model: Model,
    tokenizer: GgufTokenizer,
    template: ChatMl,
    /// Ids that end the assistant's turn (EOS, `<|im_end|>`, `<|endoftext|>`).
    end_ids: Vec<u32>,
    context: usize,
    /// Requests decoded together at most.
    batch: usize,
    device: Device,
    pool: rayon::ThreadPool,
}

/// One request on its way through the decoding loop.
struct Sequence<'r> {
    request: &'r GenRequest,
    cache: Cache,
    sampler: LogitsProcessor,
    /// Tokens to feed at the next step: the prompt, then the last sampled token.
    input: Vec<u32>,
    /// Tokens fed so far (candle's position argument).
    fed: usize,
    out: Vec<u32>,
    budget: usize,
    finish: Option<FinishReason>,
    timings: GenTimings,
}

impl Sequence<'_> {
    fn end(&mut self, reason: FinishReason, start: Instant) {
        self.finish = Some(reason);
        self.timings.decode_secs = start.elapsed().as_secs_f64() - self.timings.prompt_secs;
    }
}

impl GgufGenerator {
    /// Loads `path` to run on `threads` threads (0 = one per core): shelf's decoder on the
    /// CPU, candle's models in a CUDA build.
    pub fn load(path: &Path, threads: usize) -> ShelfResult<Self> {
        let engine = if cfg!(feature = "cuda") {
            Engine::Candle
        } else {
            Engine::Shelf
        };
        Self::load_with(path, threads, engine)
    }

    /// Loads `path` to run with `engine`.
    pub fn load_with(path: &Path, threads: usize, engine: Engine) -> ShelfResult<Self> {
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let id = format!("candle:{stem}@{}", &models::file_sha256(path)?[..16]);
        let mut file =
            std::fs::File::open(path).map_err(|e| ShelfError::io(path, "cannot open", e))?;
        let content = gguf_file::Content::read(&mut file).map_err(|e| {
            ShelfError::user(format!(
                "{}: not a GGUF file ({e}); name a .gguf model file",
                path.display()
            ))
        })?;
        let arch = meta_str(&content, "general.architecture").unwrap_or_default();
        if !ARCHITECTURES.contains(&arch.as_str()) {
            return Err(ShelfError::user(format!(
                "{}: architecture `{arch}` is not supported; shelf runs GGUF models of these \
                 architectures: {}",
                path.display(),
                ARCHITECTURES.join(", ")
            )));
        }
        let tokenizer = GgufTokenizer::from_metadata(path, &content.metadata)?;
        let template = ChatMl::from_metadata(path, &content.metadata)?;
        let end_ids = end_ids(&content, &tokenizer);
        let mut context = content
            .metadata
            .get(&format!("{arch}.context_length"))
            .and_then(|v| v.to_u32().ok())
            .map_or(2048, |n| n as usize);
        let pool = device::pool(&id, threads)?;
        let err = |e| {
            ShelfError::backend(
                "gguf",
                format!("{}: cannot load the {arch} weights: {e}", path.display()),
            )
        };
        let (model, device) = match engine {
            Engine::Shelf => {
                let d = pool
                    .install(|| Decoder::load(&arch, &content, &mut file))
                    .map_err(err)?;
                (Model::Shelf(d), Device::Cpu)
            }
            Engine::Candle => {
                let device = device::pick(&id)?;
                let w = pool.install(|| -> candle_core::Result<Weights> {
                    Ok(if arch == "llama" {
                        context = context.min(LLAMA_MAX_CONTEXT);
                        Weights::Llama(quantized_llama::ModelWeights::from_gguf(
                            content, &mut file, &device,
                        )?)
                    } else {
                        Weights::Qwen2(quantized_qwen2::ModelWeights::from_gguf(
                            content, &mut file, &device,
                        )?)
                    })
                });
                (Model::Candle(Mutex::new(w.map_err(err)?)), device)
            }
        };
        Ok(Self {
            id,
            model,
            tokenizer,
            template,
            end_ids,
            context,
            batch: match engine {
                Engine::Shelf => BATCH,
                Engine::Candle => 1,
            },
            device,
            pool,
        })
    }

    /// Decodes at most `n` requests together (at least 1; candle's models always take 1).
    pub fn with_batch(mut self, n: usize) -> Self {
        if matches!(self.model, Model::Shelf(_)) {
            self.batch = n.max(1);
        }
        self
    }

    /// The model's tokenizer.
    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    /// `messages` as the model's chat template writes them, ready for the assistant's answer.
    pub fn render(&self, messages: &[ChatMessage]) -> String {
        self.template.render(messages)
    }

    /// Answers one request and says where the time went.
    pub fn generate_timed(&self, req: &GenRequest) -> ShelfResult<(Generation, GenTimings)> {
        let mut out = self.generate_batch_timed(std::slice::from_ref(req))?;
        Ok(out.remove(0))
    }

    /// Answers requests together (up to [`BATCH`] at a time on shelf's decoder) and says where
    /// each one's time went: its prompt time is until its first token, its decode time from
    /// there until it finished.
    pub fn generate_batch_timed(
        &self,
        requests: &[GenRequest],
    ) -> ShelfResult<Vec<(Generation, GenTimings)>> {
        self.pool.install(|| {
            let mut out = Vec::with_capacity(requests.len());
            for chunk in requests.chunks(self.batch) {
                let mut seqs = chunk
                    .iter()
                    .map(|r| self.sequence(r))
                    .collect::<ShelfResult<Vec<_>>>()?;
                self.decode(&mut seqs)?;
                for s in seqs {
                    out.push(self.finish(s)?);
                }
            }
            Ok(out)
        })
    }

    fn sequence<'r>(&self, request: &'r GenRequest) -> ShelfResult<Sequence<'r>> {
        let prompt = self.tokenizer.encode(&self.render(&request.messages))?;
        if prompt.len() >= self.context {
            return Err(ShelfError::user(format!(
                "{}: the prompt is {} tokens, the model's context is {}; shorten it",
                self.id,
                prompt.len(),
                self.context
            )));
        }
        let cache = match &self.model {
            Model::Shelf(d) => d.cache(),
            Model::Candle(_) => Cache::default(),
        };
        Ok(Sequence {
            request,
            cache,
            sampler: LogitsProcessor::from_sampling(request.seed, sampling(request)),
            budget: request.max_tokens.min(self.context - prompt.len()),
            timings: GenTimings {
                prompt_tokens: prompt.len(),
                ..GenTimings::default()
            },
            input: prompt,
            fed: 0,
            out: Vec::new(),
            finish: None,
        })
    }

    /// Steps every unfinished sequence until all are finished.
    fn decode(&self, seqs: &mut [Sequence<'_>]) -> ShelfResult<()> {
        let start = Instant::now();
        let mut candle = match &self.model {
            Model::Candle(m) => {
                let mut m = m.lock().map_err(|_| {
                    ShelfError::internal("a GGUF model lock was poisoned by a panic")
                })?;
                m.clear_kv_cache();
                Some(m)
            }
            Model::Shelf(_) => None,
        };
        loop {
            for s in seqs.iter_mut().filter(|s| s.finish.is_none()) {
                if s.out.len() >= s.budget {
                    s.end(FinishReason::Length, start);
                }
            }
            let mut active: Vec<&mut Sequence<'_>> =
                seqs.iter_mut().filter(|s| s.finish.is_none()).collect();
            if active.is_empty() {
                return Ok(());
            }
            let logits = match (&self.model, candle.as_mut()) {
                (Model::Shelf(decoder), _) => {
                    let inputs: Vec<Vec<u32>> = active
                        .iter_mut()
                        .map(|s| std::mem::take(&mut s.input))
                        .collect();
                    let tokens: Vec<&[u32]> = inputs.iter().map(Vec::as_slice).collect();
                    let mut caches: Vec<&mut Cache> =
                        active.iter_mut().map(|s| &mut s.cache).collect();
                    decoder
                        .forward(&mut caches, &tokens)
                        .map_err(|e| candle_err(&self.id, "forward pass", e))?
                }
                (Model::Candle(_), Some(model)) => {
                    let s = &mut active[0];
                    let input = std::mem::take(&mut s.input);
                    let logits = self.candle_step(model, &input, s.fed)?;
                    s.fed += input.len();
                    logits
                }
                (Model::Candle(_), None) => unreachable!("the candle model is locked above"),
            };
            let vocab = logits.len() / active.len();
            for (s, logits) in active.into_iter().zip(logits.chunks_exact(vocab)) {
                self.sample(s, logits, start)?;
            }
        }
    }

    fn candle_step(&self, model: &mut Weights, input: &[u32], pos: usize) -> ShelfResult<Vec<f32>> {
        let err = |what: &'static str| move |e| candle_err(&self.id, what, e);
        let x = Tensor::new(input, &self.device)
            .and_then(|t| t.unsqueeze(0))
            .map_err(err("token ids"))?;
        model
            .forward(&x, pos)
            .and_then(|l| l.squeeze(0))
            .and_then(|l| l.to_vec1::<f32>())
            .map_err(err("forward pass"))
    }

    /// Samples `s`'s next token from `logits` and decides whether it is done.
    fn sample(&self, s: &mut Sequence<'_>, logits: &[f32], start: Instant) -> ShelfResult<()> {
        let err = |what: &'static str| move |e| candle_err(&self.id, what, e);
        let logits =
            Tensor::from_slice(logits, logits.len(), &Device::Cpu).map_err(err("logits"))?;
        let next = s.sampler.sample(&logits).map_err(err("sampling"))?;
        if s.out.is_empty() && s.timings.prompt_secs == 0.0 {
            s.timings.prompt_secs = start.elapsed().as_secs_f64();
        }
        if self.end_ids.contains(&next) {
            s.end(FinishReason::Stop, start);
        } else {
            s.out.push(next);
            let stop = &s.request.stop;
            if !stop.is_empty() && stop_at(&self.tokenizer.decode(&s.out)?, stop).is_some() {
                s.end(FinishReason::Stop, start);
            }
            s.input = vec![next];
        }
        Ok(())
    }

    fn finish(&self, mut s: Sequence<'_>) -> ShelfResult<(Generation, GenTimings)> {
        s.timings.decode_tokens = s.out.len().saturating_sub(1);
        let mut text = self.tokenizer.decode(&s.out)?;
        if let Some(cut) = stop_at(&text, &s.request.stop) {
            text.truncate(cut);
        }
        let generation = Generation {
            text,
            tokens: s.out.len(),
            finish: s.finish.unwrap_or(FinishReason::Length),
        };
        Ok((generation, s.timings))
    }
}

impl Generator for GgufGenerator {
    fn id(&self) -> &str {
        &self.id
    }

    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        Ok(self
            .generate_batch_timed(requests)?
            .into_iter()
            .map(|(g, _)| g)
            .collect())
    }
}

/// candle's sampling for a request: argmax at temperature 0, nucleus when `top_p` < 1.
fn sampling(req: &GenRequest) -> Sampling {
    let temperature = f64::from(req.temperature);
    if temperature <= 0.0 {
        Sampling::ArgMax
    } else if req.top_p > 0.0 && req.top_p < 1.0 {
        Sampling::TopP {
            p: f64::from(req.top_p),
            temperature,
        }
    } else {
        Sampling::All { temperature }
    }
}

/// The byte offset of the earliest stop string in `text`.
fn stop_at(text: &str, stop: &[String]) -> Option<usize> {
    stop.iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()))
        .min()
}

fn meta_str(content: &gguf_file::Content, key: &str) -> Option<String> {
    content
        .metadata
        .get(key)
        .and_then(|v| v.to_string().ok())
        .cloned()
}

/// The ids that end a turn: the metadata's EOS and EOT ids, and the ChatML end tokens when the
/// vocabulary has them (Qwen's EOS is `<|endoftext|>` but its turns end with `<|im_end|>`).
fn end_ids(content: &gguf_file::Content, tokenizer: &GgufTokenizer) -> Vec<u32> {
    let mut ids: Vec<u32> = ["tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id"]
        .iter()
        .filter_map(|k| content.metadata.get(*k).and_then(|v| v.to_u32().ok()))
        .collect();
    ids.extend(
        ["<|im_end|>", "<|endoftext|>"]
            .iter()
            .filter_map(|t| tokenizer.token_id(t)),
    );
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The ChatML template (`<|im_start|>role\n…<|im_end|>\n`), the one Qwen2 and SmolLM2 use,
/// with the default system message the model's own template adds when a chat has none.
#[derive(Debug, Clone)]
struct ChatMl {
    default_system: Option<String>,
}

impl ChatMl {
    /// Reads `tokenizer.chat_template`; anything that is not ChatML is refused rather than
    /// guessed, because a wrong template silently ruins every answer.
    fn from_metadata(
        path: &Path,
        metadata: &std::collections::HashMap<String, gguf_file::Value>,
    ) -> ShelfResult<Self> {
        let template = metadata
            .get("tokenizer.chat_template")
            .and_then(|v| v.to_string().ok())
            .ok_or_else(|| {
                ShelfError::user(format!(
                    "{}: has no chat template (tokenizer.chat_template); shelf needs an instruct \
                     model with the ChatML template",
                    path.display()
                ))
            })?;
        if !template.contains("<|im_start|>") || !template.contains("<|im_end|>") {
            return Err(ShelfError::user(format!(
                "{}: its chat template is not ChatML (<|im_start|> … <|im_end|>); shelf \
                 supports only ChatML models such as Qwen2 and SmolLM2",
                path.display()
            )));
        }
        Ok(Self {
            default_system: default_system(template),
        })
    }

    fn render(&self, messages: &[ChatMessage]) -> String {
        let mut out = String::new();
        let has_system = messages.first().is_some_and(|m| m.role == ChatRole::System);
        if let (false, Some(system)) = (has_system, &self.default_system) {
            push_turn(&mut out, "system", system);
        }
        for m in messages {
            push_turn(&mut out, m.role.as_str(), &m.content);
        }
        out.push_str("<|im_start|>assistant\n");
        out
    }
}

fn push_turn(out: &mut String, role: &str, content: &str) {
    out.push_str("<|im_start|>");
    out.push_str(role);
    out.push('\n');
    out.push_str(content);
    out.push_str("<|im_end|>\n");
}

/// The literal system message a ChatML template writes when the chat has none (Qwen2.5: "You
/// are Qwen, created by Alibaba Cloud…"; SmolLM2: "You are a helpful AI assistant named
/// SmolLM…"): the first `<|im_start|>system\n…<|im_end|>` whose body is plain text, not Jinja.
/// The template is Jinja source, so its newlines are usually the escape `\n`.
fn default_system(template: &str) -> Option<String> {
    const OPEN: &str = "<|im_start|>system";
    let mut rest = template;
    while let Some(at) = rest.find(OPEN) {
        rest = &rest[at + OPEN.len()..];
        let Some(after) = rest.strip_prefix("\\n").or_else(|| rest.strip_prefix('\n')) else {
            continue;
        };
        let body = &after[..after.find("<|im_end|>")?];
        if !body.is_empty() && !body.contains(['\'', '"', '{', '}']) {
            return Some(body.replace("\\n", "\n"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_system_is_the_literal_one() {
        let qwen = r"{%- else %}{{- '<|im_start|>system\n' }}{%- if x %}{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.<|im_end|>\n' }}";
        assert_eq!(
            default_system(qwen).as_deref(),
            Some("You are Qwen, created by Alibaba Cloud.")
        );
        assert_eq!(default_system("{{ '<|im_start|>' + role }}"), None);
    }

    #[test]
    fn chatml_adds_the_default_system_only_when_missing() {
        let t = ChatMl {
            default_system: Some("Be brief.".into()),
        };
        assert_eq!(
            t.render(&[ChatMessage::user("hi")]),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n\
             <|im_start|>assistant\n"
        );
        let own = t.render(&[ChatMessage::system("S"), ChatMessage::user("hi")]);
        assert!(own.starts_with("<|im_start|>system\nS<|im_end|>") && !own.contains("brief"));
    }

    #[test]
    fn stop_cuts_at_the_earliest_stop_string() {
        let stop = vec!["\n".to_string(), "END".to_string(), String::new()];
        assert_eq!(stop_at("abc END\nx", &stop), Some(4));
        assert_eq!(stop_at("abc", &stop), None);
    }
}
