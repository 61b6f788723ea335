//! Quantized GGUF chat models (Qwen2 and Llama families) through candle: read the file, build
//! the tokenizer from its metadata, apply its chat template, sample with a seed.
//!
//! Key decisions:
//! - Everything comes from the one `.gguf` file: weights, the byte-level BPE tokenizer
//!   ([`tokenizer`]), the chat template and the end-of-turn ids. A file whose architecture,
//!   pre-tokenizer or chat template shelf does not know is a user error that lists what it does
//!   know, not a silent misreading.
//! - Requests of a batch run one after another on one model behind a mutex. candle's quantized
//!   models keep a single KV cache and have no per-row padding mask, so prompts of different
//!   lengths cannot share a forward pass without padding tokens leaking into attention.
//!   Batching equal-length rows would read each weight block once for several rows; that
//!   has not been measured here. What was measured (bench/README.md): candle's single-row
//!   decode is no faster on 2 threads than on 1. On 2 cores, the likelier win is therefore
//!   two requests at once on cloned models (the weights are shared), one thread each. That
//!   is not done yet.
//! - Sampling is candle's `LogitsProcessor`, seeded per request, so a request gives the same
//!   text alone or in any batch.

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
use tokenizer::GgufTokenizer;

/// The architectures shelf can run, as `general.architecture` names them.
pub const ARCHITECTURES: &[&str] = &["llama", "qwen2"];

/// The longest context candle's quantized Llama precomputes rotary tables for.
const LLAMA_MAX_CONTEXT: usize = 4096;

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
    model: Mutex<Weights>,
    tokenizer: GgufTokenizer,
    template: ChatMl,
    /// Ids that end the assistant's turn (EOS, `<|im_end|>`, `<|endoftext|>`).
    end_ids: Vec<u32>,
    context: usize,
    device: Device,
    pool: rayon::ThreadPool,
}

impl GgufGenerator {
    /// Loads `path` to run on `threads` threads (0 = one per core).
    pub fn load(path: &Path, threads: usize) -> ShelfResult<Self> {
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
        let tokenizer = GgufTokenizer::from_metadata(path, &content.metadata)?;
        let template = ChatMl::from_metadata(path, &content.metadata)?;
        let end_ids = end_ids(&content, &tokenizer);
        let device = device::pick(&id)?;
        let pool = device::pool(&id, threads)?;
        let (model, context) =
            pool.install(|| load_weights(path, &arch, content, &mut file, &device))?;
        Ok(Self {
            id,
            model: Mutex::new(model),
            tokenizer,
            template,
            end_ids,
            context,
            device,
            pool,
        })
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
        self.pool.install(|| self.run(req))
    }

    fn run(&self, req: &GenRequest) -> ShelfResult<(Generation, GenTimings)> {
        let prompt = self.tokenizer.encode(&self.render(&req.messages))?;
        if prompt.len() >= self.context {
            return Err(ShelfError::user(format!(
                "{}: the prompt is {} tokens, the model's context is {}; shorten it",
                self.id,
                prompt.len(),
                self.context
            )));
        }
        let mut sampler = LogitsProcessor::from_sampling(req.seed, sampling(req));
        let mut model = self
            .model
            .lock()
            .map_err(|_| ShelfError::internal("a GGUF model lock was poisoned by a panic"))?;
        model.clear_kv_cache();
        let mut timings = GenTimings {
            prompt_tokens: prompt.len(),
            ..GenTimings::default()
        };
        let start = Instant::now();
        let mut out: Vec<u32> = Vec::new();
        let mut input = prompt;
        let mut pos = 0;
        let budget = req.max_tokens.min(self.context - input.len());
        let finish = loop {
            if out.len() >= budget {
                break FinishReason::Length;
            }
            let next = self.step(&mut model, &mut sampler, &input, pos)?;
            if out.is_empty() {
                timings.prompt_secs = start.elapsed().as_secs_f64();
            }
            pos += input.len();
            if self.end_ids.contains(&next) {
                break FinishReason::Stop;
            }
            out.push(next);
            if !req.stop.is_empty() && stop_at(&self.tokenizer.decode(&out)?, &req.stop).is_some() {
                break FinishReason::Stop;
            }
            input = vec![next];
        };
        timings.decode_tokens = out.len().saturating_sub(1);
        timings.decode_secs = start.elapsed().as_secs_f64() - timings.prompt_secs;
        let mut text = self.tokenizer.decode(&out)?;
        if let Some(cut) = stop_at(&text, &req.stop) {
            text.truncate(cut);
        }
        let generation = Generation {
            text,
            tokens: out.len(),
            finish,
        };
        Ok((generation, timings))
    }

    /// Feeds `input` at position `pos` and samples the next token.
    fn step(
        &self,
        model: &mut Weights,
        sampler: &mut LogitsProcessor,
        input: &[u32],
        pos: usize,
    ) -> ShelfResult<u32> {
        let err = |what: &'static str| move |e| candle_err(&self.id, what, e);
        let x = Tensor::new(input, &self.device)
            .and_then(|t| t.unsqueeze(0))
            .map_err(err("token ids"))?;
        let logits = model
            .forward(&x, pos)
            .and_then(|l| l.squeeze(0))
            .map_err(err("forward pass"))?;
        sampler.sample(&logits).map_err(err("sampling"))
    }
}

impl Generator for GgufGenerator {
    fn id(&self) -> &str {
        &self.id
    }

    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        self.pool.install(|| {
            requests
                .iter()
                .map(|r| self.run(r).map(|(g, _)| g))
                .collect()
        })
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

/// Reads the weights of a supported architecture; also returns its context length.
fn load_weights(
    path: &Path,
    arch: &str,
    content: gguf_file::Content,
    file: &mut std::fs::File,
    device: &Device,
) -> ShelfResult<(Weights, usize)> {
    let context = content
        .metadata
        .get(&format!("{arch}.context_length"))
        .and_then(|v| v.to_u32().ok())
        .map_or(2048, |n| n as usize);
    let err = |e| {
        ShelfError::backend(
            "gguf",
            format!("{}: cannot load the {arch} weights: {e}", path.display()),
        )
    };
    match arch {
        "llama" => {
            let m = quantized_llama::ModelWeights::from_gguf(content, file, device).map_err(err)?;
            Ok((Weights::Llama(m), context.min(LLAMA_MAX_CONTEXT)))
        }
        "qwen2" => {
            let m = quantized_qwen2::ModelWeights::from_gguf(content, file, device).map_err(err)?;
            Ok((Weights::Qwen2(m), context))
        }
        other => Err(ShelfError::user(format!(
            "{}: architecture `{other}` is not supported; shelf runs GGUF models of these \
             architectures: {}",
            path.display(),
            ARCHITECTURES.join(", ")
        ))),
    }
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
