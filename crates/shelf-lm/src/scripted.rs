//! Deterministic backends for tests: no weights, no server, the same answer every time.
//!
//! [`ScriptedEmbedder`] hashes character trigrams into a small vector, so texts that share
//! spelling are close and unrelated texts are far: enough to drive a check end to end.
//! [`ScriptedGenerator`] answers from a list of (needle, answer) rules. Both count their calls,
//! which is how tests see that the cache answered instead.

use std::sync::atomic::{AtomicUsize, Ordering};

use shelf_core::lm::{
    Embedder, Embeddings, FinishReason, GenRequest, Generation, Generator, TextKind,
};
use shelf_core::{ShelfError, ShelfResult};

/// Character-trigram hashing into `dim` buckets, L2-normalized.
#[derive(Debug)]
pub struct ScriptedEmbedder {
    id: String,
    dim: usize,
    calls: AtomicUsize,
    texts: AtomicUsize,
}

impl ScriptedEmbedder {
    pub fn new(dim: usize) -> Self {
        Self {
            id: format!("scripted:trigram-{dim}"),
            dim: dim.max(1),
            calls: AtomicUsize::new(0),
            texts: AtomicUsize::new(0),
        }
    }

    /// How many times `embed` ran, and over how many texts in all.
    pub fn calls(&self) -> (usize, usize) {
        (
            self.calls.load(Ordering::Relaxed),
            self.texts.load(Ordering::Relaxed),
        )
    }

    fn vector(&self, text: &str, out: &mut [f32]) {
        let chars: Vec<char> = std::iter::once(' ')
            .chain(text.to_lowercase().chars())
            .chain(std::iter::once(' '))
            .collect();
        for w in chars.windows(3.min(chars.len())) {
            // FNV-1a: stable across runs and platforms, unlike std's hasher.
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for c in w {
                for b in (*c as u32).to_le_bytes() {
                    h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
                }
            }
            let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
            out[(h % self.dim as u64) as usize] += sign;
        }
        let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            out.iter_mut().for_each(|x| *x /= norm);
        } else {
            out[0] = 1.0;
        }
    }
}

impl Embedder for ScriptedEmbedder {
    fn id(&self) -> &str {
        &self.id
    }
    fn dim(&self) -> usize {
        self.dim
    }
    fn embed(&self, texts: &[&str], _kind: TextKind) -> ShelfResult<Embeddings> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.texts.fetch_add(texts.len(), Ordering::Relaxed);
        let mut data = vec![0f32; texts.len() * self.dim];
        for (text, out) in texts.iter().zip(data.chunks_exact_mut(self.dim)) {
            self.vector(text, out);
        }
        Embeddings::new(self.dim, data)
    }
}

/// Answers each request with the answer of the first rule whose needle occurs in its last
/// message, or with the default answer. Tokens are whitespace-separated words.
#[derive(Debug)]
pub struct ScriptedGenerator {
    id: String,
    rules: Vec<(String, String)>,
    default: Option<String>,
    calls: AtomicUsize,
}

impl ScriptedGenerator {
    /// `rules` are (needle, answer) pairs tried in order; without a `default`, a request no
    /// rule matches is a backend error (a test that forgot a rule should fail loudly).
    pub fn new(rules: Vec<(String, String)>, default: Option<String>) -> Self {
        Self {
            id: "scripted:rules".to_string(),
            rules,
            default,
            calls: AtomicUsize::new(0),
        }
    }

    /// How many requests were answered.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    fn answer(&self, req: &GenRequest) -> ShelfResult<Generation> {
        let last = req.messages.last().map_or("", |m| m.content.as_str());
        let answer = self
            .rules
            .iter()
            .find(|(needle, _)| last.contains(needle.as_str()))
            .map(|(_, a)| a)
            .or(self.default.as_ref())
            .ok_or_else(|| {
                ShelfError::backend(&self.id, format!("no scripted answer for {last:?}"))
            })?;
        let mut text = answer.clone();
        let mut finish = FinishReason::Stop;
        if let Some(cut) = req.stop.iter().filter_map(|s| text.find(s.as_str())).min() {
            text.truncate(cut);
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() > req.max_tokens {
            text = words[..req.max_tokens].join(" ");
            finish = FinishReason::Length;
        }
        Ok(Generation {
            tokens: text.split_whitespace().count(),
            text,
            finish,
        })
    }
}

impl Generator for ScriptedGenerator {
    fn id(&self) -> &str {
        &self.id
    }
    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        self.calls.fetch_add(requests.len(), Ordering::Relaxed);
        requests.iter().map(|r| self.answer(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shelf_core::lm::dot;

    #[test]
    fn shared_spelling_is_closer_than_unrelated_text() {
        let e = ScriptedEmbedder::new(64);
        let v = e
            .embed(
                &["red cotton shirt", "red cotton shirts", "usb charger"],
                TextKind::Passage,
            )
            .unwrap();
        assert!(dot(v.row(0), v.row(1)) > 0.8);
        assert!(dot(v.row(0), v.row(2)) < 0.5);
        for row in v.rows() {
            assert!((dot(row, row) - 1.0).abs() < 1e-5);
        }
        assert_eq!(e.calls(), (1, 3));
    }

    #[test]
    fn rules_stop_sequences_and_token_budget() {
        let g = ScriptedGenerator::new(vec![("shirt".into(), "one two three\nfour".into())], None);
        let mut req = GenRequest::user("a shirt", 2);
        let out = g.generate(std::slice::from_ref(&req)).unwrap();
        assert_eq!(out[0].text, "one two");
        assert_eq!(out[0].finish, FinishReason::Length);
        req.max_tokens = 10;
        req.stop = vec!["\n".into()];
        let out = g.generate(std::slice::from_ref(&req)).unwrap();
        assert_eq!(
            (out[0].text.as_str(), out[0].finish),
            ("one two three", FinishReason::Stop)
        );
        let err = g.generate(&[GenRequest::user("a lamp", 2)]).unwrap_err();
        assert!(err.to_string().contains("no scripted answer"), "{err}");
    }
}
