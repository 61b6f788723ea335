//! The OpenAI-compatible HTTP backends, against two servers:
//!
//! - a real third-party one: llama.cpp's server (`scripts/llama-server.sh`, a pinned prebuilt
//!   build) serving SmolLM2-135M-Instruct on 127.0.0.1, started by the test and killed when its
//!   guard drops, also when a check panics;
//! - a tiny fake one on a std `TcpListener` that answers garbage, fails before it succeeds,
//!   hangs, or counts how many requests it has in flight: the error paths a real server gives
//!   only by accident.
//!
//! The llama.cpp build's kernels for Q4_1 need AVX-VNNI, which many CPUs lack (SIGILL), so the
//! test serves an F16 copy of the installed Q4_1 model, made once with candle's GGUF reader and
//! writer (the weights are the same numbers, dequantized).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shelf_core::lm::{Embedder, FinishReason, GenRequest, Generator, TextKind, dot};
use shelf_lm::http::{HttpEmbedder, HttpGenerator, HttpOptions};

/// Options for tests: short waits, no key from the environment.
fn opts(workers: usize, timeout_ms: u64, tries: u32) -> HttpOptions {
    HttpOptions {
        workers,
        timeout: Duration::from_millis(timeout_ms),
        tries,
        backoff: Duration::from_millis(10),
        batch: 64,
        api_key: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The fake server.

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    head: String,
    body: String,
}

/// What the fake server does with a request.
enum Reply {
    /// Answers with this status and body.
    Answer(u16, String),
    /// Answers after a pause (to keep requests in flight).
    Slow(Duration, u16, String),
    /// Reads the request, then says nothing for this long and closes.
    Hang(Duration),
}

/// A server on 127.0.0.1 that answers each request with `reply(request, n)` (n counts from 0)
/// on its own thread. It stops by itself: after `max_requests` connections or 30 seconds.
struct FakeServer {
    base: String,
    requests: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeServer {
    fn start(
        max_requests: usize,
        reply: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let base = format!("http://{}/v1", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = (requests.clone(), peak.clone(), seen.clone());
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            let in_flight = Arc::new(AtomicUsize::new(0));
            let mut accepted = 0;
            while accepted < max_requests && Instant::now() < deadline {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(2));
                    continue;
                };
                accepted += 1;
                let (requests, peak, seen) = (state.0.clone(), state.1.clone(), state.2.clone());
                let (reply, in_flight) = (reply.clone(), in_flight.clone());
                std::thread::spawn(move || {
                    let Some(req) = read_request(&stream) else {
                        return;
                    };
                    let n = requests.fetch_add(1, Ordering::SeqCst);
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    seen.lock().unwrap().push(req.clone());
                    answer(stream, reply(&req, n));
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Self {
            base,
            requests,
            peak,
            seen,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn read_request(stream: &TcpStream) -> Option<Seen> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let path = head.split_whitespace().nth(1)?.to_string();
    Some(Seen {
        path,
        head,
        body: String::from_utf8(body).ok()?,
    })
}

fn answer(mut stream: TcpStream, reply: Reply) {
    let (status, body) = match reply {
        Reply::Answer(status, body) => (status, body),
        Reply::Slow(pause, status, body) => {
            std::thread::sleep(pause);
            (status, body)
        }
        Reply::Hang(pause) => {
            std::thread::sleep(pause);
            return;
        }
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A well-formed chat answer.
fn chat_json(text: &str, finish: &str, tokens: u64) -> String {
    serde_json::json!({
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                     "finish_reason": finish}],
        "usage": {"prompt_tokens": 9, "completion_tokens": tokens, "total_tokens": 9 + tokens}
    })
    .to_string()
}

/// An embeddings answer for the request `body`: text `t` gets `[len(t), 1, 0]`, listed in
/// reverse order (the client must sort by `index`).
fn embeddings_json(body: &str) -> String {
    let req: serde_json::Value = serde_json::from_str(body).unwrap();
    let inputs = req["input"].as_array().unwrap();
    let data: Vec<serde_json::Value> = inputs
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| {
            let len = t.as_str().unwrap().chars().count() as f64;
            serde_json::json!({"object": "embedding", "index": i, "embedding": [len, 1.0, 0.0]})
        })
        .collect();
    serde_json::json!({"object": "list", "data": data}).to_string()
}

#[test]
fn garbage_answers_are_quoted_in_the_error() {
    let server = FakeServer::start(2, |_, _| {
        Reply::Answer(200, "<html>It works!</html>".into())
    });
    let g = HttpGenerator::connect_with(&server.base, Some("m"), opts(1, 2000, 4)).unwrap();
    let err = g.generate(&[GenRequest::user("hi", 4)]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("is not JSON") && msg.contains("<html>It works!</html>"),
        "{msg}"
    );
    let err = HttpEmbedder::connect_with(&server.base, Some("m"), opts(1, 2000, 4)).unwrap_err();
    assert!(err.to_string().contains("is not JSON"), "{err}");
    assert_eq!(server.requests(), 2, "a 200 with garbage is not retried");
}

#[test]
fn wrong_shapes_and_wrong_counts_are_errors() {
    let server = FakeServer::start(3, |req, _| match req.path.as_str() {
        "/v1/chat/completions" => Reply::Answer(200, r#"{"id":"x","object":"chat"}"#.into()),
        _ => Reply::Answer(200, r#"{"data":[]}"#.into()),
    });
    let g = HttpGenerator::connect_with(&server.base, Some("m"), opts(1, 2000, 1)).unwrap();
    let err = g.generate(&[GenRequest::user("hi", 4)]).unwrap_err();
    assert!(
        err.to_string().contains("without a `choices` list"),
        "{err}"
    );
    let err = HttpEmbedder::connect_with(&server.base, Some("m"), opts(1, 2000, 1)).unwrap_err();
    assert!(
        err.to_string().contains("answered 0 vectors for 1 texts"),
        "{err}"
    );
}

#[test]
fn a_503_is_retried_until_the_server_answers() {
    let server = FakeServer::start(10, |_, n| {
        if n < 2 {
            Reply::Answer(
                503,
                r#"{"error":{"message":"Loading model","code":503}}"#.into(),
            )
        } else {
            Reply::Answer(200, chat_json("Paris", "stop", 2))
        }
    });
    let g = HttpGenerator::connect_with(&server.base, Some("m"), opts(1, 2000, 4)).unwrap();
    let out = g.generate(&[GenRequest::user("capital?", 4)]).unwrap();
    assert_eq!(out[0].text, "Paris");
    assert_eq!((out[0].tokens, out[0].finish), (2, FinishReason::Stop));
    assert_eq!(server.requests(), 3, "two 503s, then the answer");
}

#[test]
fn retries_stop_after_the_last_try_and_never_on_a_4xx() {
    let busy = FakeServer::start(10, |_, _| {
        Reply::Answer(429, r#"{"error":{"message":"slow down"}}"#.into())
    });
    let g = HttpGenerator::connect_with(&busy.base, Some("m"), opts(1, 2000, 4)).unwrap();
    let err = g
        .generate(&[GenRequest::user("hi", 4)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 429") && err.contains("slow down") && err.contains("after 4 tries"),
        "{err}"
    );
    assert_eq!(busy.requests(), 4);

    let bad = FakeServer::start(10, |_, _| {
        Reply::Answer(400, r#"{"error":{"message":"model 'x' not found"}}"#.into())
    });
    let g = HttpGenerator::connect_with(&bad.base, Some("x"), opts(1, 2000, 4)).unwrap();
    let err = g
        .generate(&[GenRequest::user("hi", 4)])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 400") && err.contains("model 'x' not found"),
        "{err}"
    );
    assert_eq!(bad.requests(), 1, "a 4xx is the request's fault: no retry");
}

#[test]
fn a_server_that_hangs_times_out() {
    let server = FakeServer::start(4, |_, _| Reply::Hang(Duration::from_secs(5)));
    let g = HttpGenerator::connect_with(&server.base, Some("m"), opts(1, 300, 4)).unwrap();
    let start = Instant::now();
    let err = g
        .generate(&[GenRequest::user("hi", 4)])
        .unwrap_err()
        .to_string();
    let took = start.elapsed();
    assert!(
        err.contains("no answer from") && err.contains("within 0.3 s"),
        "{err}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(server.requests(), 1, "a timeout is not retried");
}

#[test]
fn a_closed_port_says_the_server_is_down() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let err = HttpGenerator::connect_with(&base, None, opts(1, 2000, 2))
        .err()
        .unwrap()
        .to_string();
    let want = format!(
        "cannot reach http://127.0.0.1:{port}/v1: connection refused; is the server running?"
    );
    assert!(
        err.contains(&want) && err.contains("after 2 tries"),
        "{err}"
    );
}

#[test]
fn the_model_defaults_to_the_first_listed_and_the_key_is_sent() {
    let server = FakeServer::start(3, |req, _| match req.path.as_str() {
        "/v1/models" => Reply::Answer(
            200,
            r#"{"object":"list","data":[{"id":"first-model"},{"id":"second"}]}"#.into(),
        ),
        _ => Reply::Answer(200, embeddings_json(&req.body)),
    });
    let mut o = opts(1, 2000, 1);
    o.api_key = Some("sk-test".into());
    let e = HttpEmbedder::connect_with(&format!("{}/", server.base), None, o).unwrap();
    assert_eq!(e.id(), format!("http:{}#first-model", server.base));
    assert_eq!(e.dim(), 3);
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "/v1/models, then one probe");
    let probe: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(probe["model"], "first-model", "{:?}", seen[1]);
    for s in &seen {
        assert!(s.head.contains("Bearer sk-test"), "{}", s.head);
    }
}

#[test]
fn embeddings_come_back_in_order_normalized_through_the_worker_limit() {
    let server = FakeServer::start(20, |req, _| {
        Reply::Slow(Duration::from_millis(60), 200, embeddings_json(&req.body))
    });
    let mut o = opts(3, 5000, 1);
    o.batch = 10;
    let e = HttpEmbedder::connect_with(&server.base, Some("m"), o).unwrap();
    let texts: Vec<String> = (0..100).map(|i| "x".repeat(i)).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let v = e.embed(&refs, TextKind::Passage).unwrap();
    assert_eq!((v.len(), v.dim()), (100, 3));
    for (i, row) in v.rows().enumerate() {
        // [len, 1, 0] normalized: the row gives back the text's length, i.e. its position (the
        // empty text 0 goes out as one space, so its length is 1).
        let len = i.max(1) as f32;
        let norm = (len * len + 1.0).sqrt();
        assert!((row[0] - len / norm).abs() < 1e-6, "row {i}: {row:?}");
        assert!((dot(row, row) - 1.0).abs() < 1e-5);
    }
    assert_eq!(
        server.requests(),
        1 + 10,
        "a probe, then 100 texts in batches of 10"
    );
    let peak = server.peak.load(Ordering::SeqCst);
    assert!(
        (2..=3).contains(&peak),
        "{peak} requests in flight with 3 workers"
    );
}

// ---------------------------------------------------------------------------------------------
// The real server.

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// llama.cpp's server as a child process, killed when this drops.
struct LlamaServer {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LlamaServer {
    /// Starts `scripts/llama-server.sh model port` and waits until `/health` says ok.
    fn start(model: &Path) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("llama-server-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("bash")
            .arg(root.join("scripts/llama-server.sh"))
            .arg(model)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start scripts/llama-server.sh: {e}"));
        let mut server = Self {
            child,
            base: format!("http://127.0.0.1:{port}/v1"),
            log,
        };
        server.wait_healthy(port, Duration::from_secs(240));
        server
    }

    fn wait_healthy(&mut self, port: u16, limit: Duration) {
        let deadline = Instant::now() + limit;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .build()
            .into();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("llama-server exited with {status}:\n{}", self.log_tail());
            }
            let health = agent.get(format!("http://127.0.0.1:{port}/health")).call();
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "llama-server not healthy within {limit:?}:\n{}",
            self.log_tail()
        );
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

/// An F16 copy of the installed SmolLM2 GGUF (made once, under the cargo target's tmp dir).
fn smollm2_f16() -> PathBuf {
    let folder = super::model("smollm2-135m-instruct");
    let src = folder.join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let dst = Path::new(env!("CARGO_TARGET_TMPDIR")).join("SmolLM2-135M-Instruct.F16.gguf");
    if !dst.exists() {
        let tmp = dst.with_extension("gguf.part");
        dequantize_gguf(&src, &tmp);
        std::fs::rename(&tmp, &dst).unwrap();
    }
    dst
}

/// Writes `src` to `dst` with every quantized tensor as F16, metadata unchanged.
fn dequantize_gguf(src: &Path, dst: &Path) {
    use candle_core::Device;
    use candle_core::quantized::{GgmlDType, QTensor, gguf_file};
    let mut reader = std::io::BufReader::new(std::fs::File::open(src).unwrap());
    let content = gguf_file::Content::read(&mut reader).unwrap();
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let tensors: Vec<(&str, QTensor)> = names
        .iter()
        .map(|name| {
            let q = content.tensor(&mut reader, name, &Device::Cpu).unwrap();
            let q = match q.dtype() {
                GgmlDType::F32 | GgmlDType::F16 => q,
                _ => {
                    QTensor::quantize(&q.dequantize(&Device::Cpu).unwrap(), GgmlDType::F16).unwrap()
                }
            };
            (name.as_str(), q)
        })
        .collect();
    // The writer aligns tensors to 32 bytes, the GGUF default; drop any other alignment.
    let mut keys: Vec<&String> = content
        .metadata
        .keys()
        .filter(|k| k.as_str() != "general.alignment")
        .collect();
    keys.sort();
    let metadata: Vec<(&str, &gguf_file::Value)> = keys
        .iter()
        .map(|k| (k.as_str(), &content.metadata[*k]))
        .collect();
    let refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (*n, t)).collect();
    let mut out = std::io::BufWriter::new(std::fs::File::create(dst).unwrap());
    gguf_file::write(&mut out, &metadata, &refs).unwrap();
    out.flush().unwrap();
}

/// One server for all of these checks, run in order: starting it costs a model load.
#[test]
fn llama_server_answers_chat_and_embeddings() {
    let server = LlamaServer::start(&smollm2_f16());
    let g = HttpGenerator::connect_with(&server.base, None, opts(4, 120_000, 4)).unwrap();
    // The script serves the model under its file name (llama-server's --alias).
    assert_eq!(
        g.id(),
        format!("http:{}#SmolLM2-135M-Instruct.F16", server.base)
    );
    chat_answers(&g);
    seeds_decide_samples(&g);
    max_tokens_ends_with_length(&g);
    stop_strings_cut_the_text(&g);
    batches_keep_request_order(&g);

    let mut o = opts(3, 120_000, 4);
    o.batch = 16;
    let e = HttpEmbedder::connect_with(&server.base, None, o).unwrap();
    embeddings_are_unit_length_and_ordered(&e);
    many_embeddings_go_through_the_worker_limit(&e);
}

fn chat_answers(g: &HttpGenerator) {
    let out = g
        .generate(&[GenRequest::user(
            "What is the capital of France? Answer in one word.",
            16,
        )])
        .unwrap();
    assert!(!out[0].text.trim().is_empty(), "{:?}", out[0]);
    assert!((1..=16).contains(&out[0].tokens), "{:?}", out[0]);
}

fn seeds_decide_samples(g: &HttpGenerator) {
    let sampled = |seed| {
        let mut r = GenRequest::user("Write one sentence about the sea.", 24);
        (r.temperature, r.top_p, r.seed) = (1.0, 0.95, seed);
        r
    };
    let twice = g.generate(&[sampled(7), sampled(7)]).unwrap();
    assert_eq!(twice[0], twice[1], "the same seed gave different samples");
    let texts: std::collections::HashSet<String> = g
        .generate(&[sampled(1), sampled(2), sampled(3)])
        .unwrap()
        .into_iter()
        .map(|x| x.text)
        .collect();
    assert!(texts.len() > 1, "three seeds, one sample: {texts:?}");
}

fn max_tokens_ends_with_length(g: &HttpGenerator) {
    let out = g
        .generate(&[GenRequest::user("Tell me a long story about a dragon.", 5)])
        .unwrap();
    assert_eq!(
        (out[0].tokens, out[0].finish),
        (5, FinishReason::Length),
        "{:?}",
        out[0]
    );
}

fn stop_strings_cut_the_text(g: &HttpGenerator) {
    let ask = GenRequest::user("List five fruits, one per line.", 40);
    let full = g.generate(std::slice::from_ref(&ask)).unwrap().remove(0);
    // A word from the middle of the greedy answer: with it as a stop string, the same greedy
    // answer must end just before it.
    let word = full
        .text
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("answer too short: {full:?}"))
        .to_string();
    let cut = &full.text[..full.text.find(&word).unwrap()];
    let mut stopped = ask.clone();
    stopped.stop = vec![word.clone()];
    let out = g.generate(&[stopped]).unwrap().remove(0);
    assert_eq!(out.text, cut, "stop {word:?} in {:?}", full.text);
    assert_eq!(out.finish, FinishReason::Stop);
}

fn batches_keep_request_order(g: &HttpGenerator) {
    let questions = [
        "What is 2+2?",
        "Name a color.",
        "Say hello.",
        "Name an animal.",
    ];
    let reqs: Vec<GenRequest> = questions.iter().map(|q| GenRequest::user(*q, 12)).collect();
    let together = g.generate(&reqs).unwrap();
    for (req, got) in reqs.iter().zip(&together) {
        let alone = g.generate(std::slice::from_ref(req)).unwrap().remove(0);
        assert_eq!(&alone, got, "{:?}", req.messages);
    }
}

fn embeddings_are_unit_length_and_ordered(e: &HttpEmbedder) {
    assert_eq!(e.dim(), 576, "SmolLM2-135M's hidden size");
    let texts = [
        "red cotton shirt",
        "usb-c charger 65 W",
        "garden hose nozzle",
    ];
    let v = e.embed(&texts, TextKind::Passage).unwrap();
    assert_eq!(v.len(), 3);
    for (i, text) in texts.iter().enumerate() {
        let alone = e.embed(&[text], TextKind::Query).unwrap();
        let cos = dot(alone.row(0), v.row(i));
        assert!(cos > 0.999, "{text}: alone vs in a batch, cosine {cos}");
        assert!((dot(v.row(i), v.row(i)) - 1.0).abs() < 1e-4);
    }
    assert!(
        dot(v.row(0), v.row(1)) < 0.999,
        "different texts, same vector"
    );
    assert!(e.embed(&[], TextKind::Passage).unwrap().is_empty());
    // The server refuses empty input; the contract says it embeds, the same way every time.
    let empty = e.embed(&["", "a", ""], TextKind::Passage).unwrap();
    assert_eq!(empty.len(), 3);
    assert!((dot(empty.row(0), empty.row(0)) - 1.0).abs() < 1e-4);
    assert!(dot(empty.row(0), empty.row(2)) > 0.9999);
}

fn many_embeddings_go_through_the_worker_limit(e: &HttpEmbedder) {
    let texts: Vec<String> = (0..100)
        .map(|i| format!("product {i}: a {} widget", ["blue", "red", "green"][i % 3]))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let v = e.embed(&refs, TextKind::Passage).unwrap();
    assert_eq!(v.len(), 100);
    for i in [0, 37, 99] {
        let alone = e.embed(&[refs[i]], TextKind::Passage).unwrap();
        let cos = dot(alone.row(0), v.row(i));
        assert!(cos > 0.999, "text {i}: cosine {cos} with its own vector");
    }
}
