//! OpenAI-compatible servers: `/v1/embeddings` and `/v1/chat/completions` of llama.cpp's
//! server, vLLM, Ollama, OpenAI itself, or anything else that speaks the same JSON.
//!
//! Key decisions:
//! - Blocking `ureq` calls on a small, fixed pool of scoped threads ([`HttpOptions::workers`]),
//!   not an async runtime: shelf's callers are synchronous, and the number of requests in
//!   flight is exactly the number of workers, so a server is never flooded.
//! - A request is tried at most [`HttpOptions::tries`] times. Only failures that a later try
//!   can fix are retried: the connection failed, or the server said 429 or 5xx. A 4xx is the
//!   request's fault and a timeout means the server is already busy with it, so neither is
//!   retried. The delays between tries double from [`HttpOptions::backoff`] with no jitter,
//!   so a run's timing is reproducible.
//! - The server's answer is checked, not trusted: wrong JSON shapes, a wrong number of
//!   vectors or vectors of the wrong length are backend errors that quote what came back.
//!   Vectors are L2-normalized here because the [`Embedder`] contract promises unit vectors
//!   and not every server normalizes.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use shelf_core::lm::{
    Embedder, Embeddings, FinishReason, GenRequest, Generation, Generator, TextKind,
};
use shelf_core::{ShelfError, ShelfResult};

/// How a client talks to a server.
#[derive(Clone)]
pub struct HttpOptions {
    /// Requests in flight at once (at least 1).
    pub workers: usize,
    /// The most one request may take, connecting and reading the answer included.
    pub timeout: Duration,
    /// Tries per request, the first included (at least 1).
    pub tries: u32,
    /// The wait before the second try; each later wait is twice the one before.
    pub backoff: Duration,
    /// Texts per `/v1/embeddings` request.
    pub batch: usize,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
}

impl Default for HttpOptions {
    /// 4 workers, 120 s per request, 4 tries 0.5 s / 1 s / 2 s apart, 64 texts per batch, and
    /// the key from `SHELF_LM_API_KEY` or else `OPENAI_API_KEY`.
    fn default() -> Self {
        Self {
            workers: 4,
            timeout: Duration::from_secs(120),
            tries: 4,
            backoff: Duration::from_millis(500),
            batch: 64,
            api_key: api_key_from_env(),
        }
    }
}

impl std::fmt::Debug for HttpOptions {
    /// Everything but the key itself, which must not reach logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("workers", &self.workers)
            .field("timeout", &self.timeout)
            .field("tries", &self.tries)
            .field("backoff", &self.backoff)
            .field("batch", &self.batch)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn api_key_from_env() -> Option<String> {
    ["SHELF_LM_API_KEY", "OPENAI_API_KEY"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|key| !key.trim().is_empty())
}

/// The longest answer read (a batch of 64 vectors of 4096 floats is about 6 MB of JSON).
const MAX_ANSWER_BYTES: u64 = 256 << 20;
/// How much of a bad answer an error message quotes.
const QUOTE_BYTES: usize = 200;

/// The first [`QUOTE_BYTES`] of `text`, cut on a character boundary.
fn quote(text: &str) -> String {
    let mut end = text.len().min(QUOTE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let more = if end < text.len() { "…" } else { "" };
    format!("{:?}{more}", &text[..end])
}

/// Why one try failed, and whether another try may succeed.
enum Failure {
    Retry(String),
    Fatal(String),
}

/// A connection to one server: its base URL, an HTTP agent and the options.
#[derive(Debug)]
struct Client {
    base: String,
    agent: ureq::Agent,
    opts: HttpOptions,
}

impl Client {
    fn new(base: &str, opts: HttpOptions) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            // Error statuses come back as responses, so their bodies (the server's own message)
            // can be quoted.
            .http_status_as_error(false)
            .max_idle_connections_per_host(opts.workers.max(1))
            .build();
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent: config.into(),
            opts: HttpOptions {
                workers: opts.workers.max(1),
                tries: opts.tries.max(1),
                batch: opts.batch.max(1),
                ..opts
            },
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// GETs (`body` None) or POSTs `body` to `path` and parses the JSON answer, retrying as the
    /// module doc says. `backend` names the caller in errors.
    fn call(&self, backend: &str, path: &str, body: Option<&Value>) -> ShelfResult<Value> {
        let url = self.url(path);
        let mut delay = self.opts.backoff;
        let mut tries = 0;
        loop {
            tries += 1;
            match self.try_once(&url, body) {
                Ok(answer) => return parse_json(backend, &url, &answer),
                Err(Failure::Retry(_)) if tries < self.opts.tries => {
                    std::thread::sleep(delay);
                    delay = delay.saturating_mul(2);
                }
                Err(Failure::Retry(why)) => {
                    let plural = if tries == 1 { "try" } else { "tries" };
                    return Err(ShelfError::backend(
                        backend,
                        format!("{why} (gave up after {tries} {plural})"),
                    ));
                }
                Err(Failure::Fatal(why)) => return Err(ShelfError::backend(backend, why)),
            }
        }
    }

    /// One request: the answer's text on a 2xx status, else why not.
    fn try_once(&self, url: &str, body: Option<&Value>) -> Result<String, Failure> {
        let sent = match body {
            // Compact JSON (ureq's `send_json` pretty-prints, which bloats big batches).
            Some(body) => self
                .with_key(self.agent.post(url))
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
            None => self.with_key(self.agent.get(url)).call(),
        };
        let mut response = sent.map_err(|e| self.transport_failure(url, e))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| self.transport_failure(url, e))?;
        if (200..300).contains(&status) {
            return Ok(text);
        }
        let why = format!(
            "{url} answered HTTP {status}: {}",
            server_message(&text).unwrap_or_else(|| quote(&text))
        );
        if status == 429 || status >= 500 {
            Err(Failure::Retry(why))
        } else {
            Err(Failure::Fatal(why))
        }
    }

    fn with_key<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.opts.api_key {
            Some(key) => req.header("Authorization", format!("Bearer {key}")),
            None => req,
        }
    }

    /// Classifies an error below HTTP: connection problems are retried, a timeout is not.
    fn transport_failure(&self, url: &str, e: ureq::Error) -> Failure {
        use std::io::ErrorKind;
        match e {
            ureq::Error::Timeout(_) => Failure::Fatal(format!(
                "no answer from {url} within {:.1} s; the server is overloaded or stuck (raise \
                 the timeout for slow models)",
                self.opts.timeout.as_secs_f64()
            )),
            ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => {
                Failure::Retry(format!(
                    "cannot reach {}: connection refused; is the server running?",
                    self.base
                ))
            }
            ureq::Error::Io(io) => Failure::Retry(format!("cannot talk to {url}: {io}")),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => Failure::Retry(format!(
                "cannot reach {}: {e}; is the server running and the URL right?",
                self.base
            )),
            ureq::Error::BodyExceedsLimit(limit) => Failure::Fatal(format!(
                "{url} answered more than {limit} bytes; that is not an answer shelf asked for"
            )),
            other => Failure::Fatal(format!("cannot talk to {url}: {other}")),
        }
    }

    /// The model to ask for: `model`, else the first one `/v1/models` lists.
    fn pick_model(&self, model: Option<&str>) -> ShelfResult<String> {
        if let Some(m) = model.filter(|m| !m.is_empty()) {
            return Ok(m.to_string());
        }
        let backend = format!("http:{}", self.base);
        let answer = self.call(&backend, "models", None).map_err(|e| match e {
            // The server is up but lists no models: say what to do instead.
            ShelfError::Backend { backend, message } if message.contains(" answered ") => {
                ShelfError::backend(
                    backend,
                    format!("{message}; without /v1/models, name the model to use"),
                )
            }
            other => other,
        })?;
        answer
            .get("data")
            .and_then(Value::as_array)
            .and_then(|models| models.first())
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                ShelfError::backend(
                    &backend,
                    format!(
                        "{} lists no model (answer {}); name the model to use",
                        self.url("models"),
                        quote(&answer.to_string())
                    ),
                )
            })
    }
}

fn parse_json(backend: &str, url: &str, text: &str) -> ShelfResult<Value> {
    serde_json::from_str(text).map_err(|_| {
        ShelfError::backend(
            backend,
            format!(
                "{url} answered something that is not JSON: {}; is this an OpenAI-compatible \
                 server?",
                quote(text)
            ),
        )
    })
}

/// `error.message` (OpenAI, llama.cpp) or a string `error` / `detail` (vLLM, FastAPI) of an
/// error answer.
fn server_message(text: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    let msg = v
        .pointer("/error/message")
        .or_else(|| v.get("error"))
        .or_else(|| v.get("detail"))?;
    msg.as_str().map(quote)
}

/// A "wrong shape" error quoting the answer.
fn shape_error(backend: &str, url: &str, what: &str, answer: &Value) -> ShelfError {
    ShelfError::backend(
        backend,
        format!(
            "{url} answered JSON without {what}: {}",
            quote(&answer.to_string())
        ),
    )
}

/// Runs `f` on every item on `workers` threads and returns the results in item order; the
/// first failure (by item order) wins, and no new item starts after a failure.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> ShelfResult<R> + Sync,
) -> ShelfResult<Vec<R>> {
    if items.len() <= 1 || workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let done: Mutex<Vec<(usize, ShelfResult<R>)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..workers.min(items.len()) {
            s.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    done.lock().unwrap().push((i, result));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap();
    done.sort_by_key(|(i, _)| *i);
    if let Some(pos) = done.iter().position(|(_, r)| r.is_err()) {
        return Err(done.swap_remove(pos).1.err().unwrap());
    }
    if done.len() != items.len() {
        return Err(ShelfError::internal(format!(
            "parallel_map finished {} of {} items without an error",
            done.len(),
            items.len()
        )));
    }
    done.into_iter().map(|(_, r)| r).collect()
}

/// `/v1/embeddings` of a server.
#[derive(Debug)]
pub struct HttpEmbedder {
    id: String,
    model: String,
    dim: usize,
    client: Client,
}

impl HttpEmbedder {
    /// Connects to the server at `base` (…/v1) with [`HttpOptions::default`], asking for
    /// `model` (default: the first model the server lists).
    pub fn connect(base: &str, model: Option<&str>) -> ShelfResult<Self> {
        Self::connect_with(base, model, HttpOptions::default())
    }

    /// Like [`HttpEmbedder::connect`] with explicit options. Sends one probe text to learn the
    /// vectors' length, so a server that cannot embed fails here rather than mid-run.
    pub fn connect_with(base: &str, model: Option<&str>, opts: HttpOptions) -> ShelfResult<Self> {
        let client = Client::new(base, opts);
        let model = client.pick_model(model)?;
        let mut embedder = Self {
            id: format!("http:{}#{model}", client.base),
            model,
            dim: 0,
            client,
        };
        let probe = embedder.embed_batch(&["dimension probe"])?;
        embedder.dim = probe[0].len();
        if embedder.dim == 0 {
            return Err(ShelfError::backend(
                &embedder.id,
                format!(
                    "{} answered an empty vector",
                    embedder.client.url("embeddings")
                ),
            ));
        }
        Ok(embedder)
    }

    /// The options this embedder runs with.
    pub fn options(&self) -> &HttpOptions {
        &self.client.opts
    }

    /// One request: unit vectors for `texts`, in `texts` order.
    fn embed_batch(&self, texts: &[&str]) -> ShelfResult<Vec<Vec<f32>>> {
        // The contract says empty texts embed; llama.cpp's server refuses them ("Input content
        // cannot be empty"), so they go out as one space, which every server accepts.
        let input: Vec<&str> = texts
            .iter()
            .map(|t| if t.is_empty() { " " } else { t })
            .collect();
        let body = json!({ "model": self.model, "input": input });
        let answer = self.client.call(&self.id, "embeddings", Some(&body))?;
        let url = self.client.url("embeddings");
        let data = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| shape_error(&self.id, &url, "a `data` list", &answer))?;
        if data.len() != texts.len() {
            return Err(ShelfError::backend(
                &self.id,
                format!(
                    "{url} answered {} vectors for {} texts",
                    data.len(),
                    texts.len()
                ),
            ));
        }
        let mut rows: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
        for (pos, item) in data.iter().enumerate() {
            // Servers may answer out of order; `index` says which input a vector is for.
            let index = item
                .get("index")
                .and_then(Value::as_u64)
                .map_or(pos, |i| i as usize);
            let vector = parse_vector(item.get("embedding"))
                .ok_or_else(|| shape_error(&self.id, &url, "a numeric `embedding`", item))?;
            match rows.get_mut(index) {
                Some(slot @ None) => *slot = Some(vector),
                _ => {
                    return Err(ShelfError::backend(
                        &self.id,
                        format!(
                            "{url} answered index {index} twice or out of range for {} texts",
                            texts.len()
                        ),
                    ));
                }
            }
        }
        rows.into_iter()
            .map(|v| self.check_and_normalize(v.unwrap_or_default(), &url))
            .collect()
    }

    fn check_and_normalize(&self, mut v: Vec<f32>, url: &str) -> ShelfResult<Vec<f32>> {
        if self.dim != 0 && v.len() != self.dim {
            return Err(ShelfError::backend(
                &self.id,
                format!(
                    "{url} answered a vector of length {} where {} was expected",
                    v.len(),
                    self.dim
                ),
            ));
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !norm.is_finite() || norm == 0.0 {
            return Err(ShelfError::backend(
                &self.id,
                format!("{url} answered a vector of norm {norm}, which cannot be normalized"),
            ));
        }
        v.iter_mut().for_each(|x| *x /= norm);
        Ok(v)
    }
}

/// A flat list of numbers.
fn parse_vector(v: Option<&Value>) -> Option<Vec<f32>> {
    v?.as_array()?
        .iter()
        .map(|x| x.as_f64().map(|x| x as f32))
        .collect()
}

impl Embedder for HttpEmbedder {
    fn id(&self) -> &str {
        &self.id
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str], _kind: TextKind) -> ShelfResult<Embeddings> {
        // No query/passage prefixes: the server's model decides how it wants its input.
        let batches: Vec<&[&str]> = texts.chunks(self.client.opts.batch).collect();
        let rows = parallel_map(&batches, self.client.opts.workers, |b| self.embed_batch(b))?;
        let data: Vec<f32> = rows.into_iter().flatten().flatten().collect();
        Embeddings::new(self.dim, data)
    }
}

/// `/v1/chat/completions` of a server.
#[derive(Debug)]
pub struct HttpGenerator {
    id: String,
    model: String,
    client: Client,
}

impl HttpGenerator {
    /// Connects to the server at `base` (…/v1) with [`HttpOptions::default`], asking for
    /// `model` (default: the first model the server lists).
    pub fn connect(base: &str, model: Option<&str>) -> ShelfResult<Self> {
        Self::connect_with(base, model, HttpOptions::default())
    }

    /// Like [`HttpGenerator::connect`] with explicit options.
    pub fn connect_with(base: &str, model: Option<&str>, opts: HttpOptions) -> ShelfResult<Self> {
        let client = Client::new(base, opts);
        let model = client.pick_model(model)?;
        Ok(Self {
            id: format!("http:{}#{model}", client.base),
            model,
            client,
        })
    }

    /// The options this generator runs with.
    pub fn options(&self) -> &HttpOptions {
        &self.client.opts
    }

    fn body(&self, req: &GenRequest) -> Value {
        let messages: Vec<Value> = req
            .messages
            .iter()
            .map(|m| json!({ "role": m.role.as_str(), "content": m.content }))
            .collect();
        let mut body = json!({
            "model": self.model,
            "messages": messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "top_p": req.top_p,
            "seed": req.seed,
        });
        if !req.stop.is_empty() {
            body["stop"] = json!(req.stop);
        }
        body
    }

    fn generate_one(&self, req: &GenRequest) -> ShelfResult<Generation> {
        let answer = self
            .client
            .call(&self.id, "chat/completions", Some(&self.body(req)))?;
        let url = self.client.url("chat/completions");
        let choice = answer
            .pointer("/choices/0")
            .ok_or_else(|| shape_error(&self.id, &url, "a `choices` list", &answer))?;
        let mut text = match choice.pointer("/message/content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) => String::new(),
            _ => return Err(shape_error(&self.id, &url, "`message.content`", &answer)),
        };
        let tokens = answer
            .pointer("/usage/completion_tokens")
            .and_then(Value::as_u64)
            .ok_or_else(|| shape_error(&self.id, &url, "`usage.completion_tokens`", &answer))?;
        // The server should have cut at the stop sequence; make sure (the contract says so).
        if let Some(cut) = req.stop.iter().filter_map(|s| text.find(s.as_str())).min() {
            text.truncate(cut);
        }
        let finish = match choice.get("finish_reason").and_then(Value::as_str) {
            Some("length") => FinishReason::Length,
            _ => FinishReason::Stop,
        };
        Ok(Generation {
            text,
            tokens: tokens as usize,
            finish,
        })
    }
}

impl Generator for HttpGenerator {
    fn id(&self) -> &str {
        &self.id
    }
    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        parallel_map(requests, self.client.opts.workers, |r| self.generate_one(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_cuts_on_a_character_boundary() {
        let long = "é".repeat(150);
        let q = quote(&long);
        assert!(q.ends_with('…'), "{q}");
        assert_eq!(q.chars().filter(|&c| c == 'é').count(), 100);
        assert_eq!(quote("short"), "\"short\"");
    }

    #[test]
    fn parallel_map_keeps_order_and_reports_the_first_failure() {
        let items: Vec<usize> = (0..50).collect();
        let out = parallel_map(&items, 4, |&i| Ok(i * 2)).unwrap();
        assert_eq!(out, (0..50).map(|i| i * 2).collect::<Vec<_>>());
        let err = parallel_map(&items, 4, |&i| {
            if i == 7 {
                Err(ShelfError::backend("t", "seven"))
            } else {
                Ok(i)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("seven"), "{err}");
    }

    #[test]
    fn server_messages_are_found_in_the_usual_places() {
        let openai = r#"{"error":{"message":"bad model","type":"x"}}"#;
        assert_eq!(server_message(openai).unwrap(), "\"bad model\"");
        assert_eq!(server_message(r#"{"detail":"nope"}"#).unwrap(), "\"nope\"");
        assert!(server_message("<html>").is_none());
    }
}
