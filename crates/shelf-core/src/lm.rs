//! The two language-model extension points: an [`Embedder`] (texts → vectors) and a
//! [`Generator`] (prompts → texts). Both are batch-first: a caller hands over as many texts as
//! it has and the backend decides how to batch, bucket or parallelise them.
//!
//! They live here, not in `shelf-lm`, so that checks and operators can take a `&dyn Embedder`
//! through the run context without compiling candle, tokenizers or an HTTP client.

use crate::ShelfResult;

/// Which side of a retrieval pair a text is. Asymmetric models (e5) prefix queries and passages
/// differently; symmetric ones (MiniLM) ignore this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextKind {
    /// A search query, or the shorter side of a comparison.
    Query,
    /// A document: a product title, a description, a category name.
    Passage,
}

impl TextKind {
    /// A stable name for cache keys and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TextKind::Query => "query",
            TextKind::Passage => "passage",
        }
    }
}

/// `n` vectors of `dim` floats, row-major in one allocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    dim: usize,
    data: Vec<f32>,
}

impl Embeddings {
    /// Wraps `data`, which must hold a whole number of `dim`-long rows.
    pub fn new(dim: usize, data: Vec<f32>) -> ShelfResult<Self> {
        if dim == 0 || !data.len().is_multiple_of(dim) {
            return Err(crate::ShelfError::internal(format!(
                "embeddings of dimension {dim} cannot hold {} floats",
                data.len()
            )));
        }
        Ok(Self { dim, data })
    }

    /// No rows, dimension `dim`.
    pub fn empty(dim: usize) -> Self {
        Self {
            dim,
            data: Vec::new(),
        }
    }

    /// The length of every vector.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many vectors.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim.max(1)
    }

    /// True when there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Vector `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Every vector, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> {
        self.data.chunks_exact(self.dim)
    }

    /// The flat row-major buffer.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    /// Appends `other`'s rows; both must have the same dimension.
    pub fn extend(&mut self, other: &Embeddings) {
        assert_eq!(
            self.dim, other.dim,
            "appending embeddings of another dimension"
        );
        self.data.extend_from_slice(&other.data);
    }
}

/// The dot product of two vectors; the cosine similarity of two unit vectors.
///
/// Eight running sums instead of one: float addition is not associative, so the compiler
/// vectorizes only a loop that says in what order to add.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// A neighbour: its index in the corpus and its cosine similarity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub index: u32,
    pub score: f32,
}

/// The `k` most similar corpus vectors of every query, best first (ties: lower index first).
/// `skip(q, c)` leaves corpus vector `c` out for query `q` (the item itself, in a
/// leave-one-out vote). Exact search, `queries × corpus` dot products spread over the current
/// rayon pool: fine to a few tens of thousands on each side.
pub fn nearest(
    queries: &Embeddings,
    corpus: &Embeddings,
    k: usize,
    skip: &(dyn Fn(usize, usize) -> bool + Sync),
) -> Vec<Vec<Neighbour>> {
    use rayon::prelude::*;
    assert_eq!(
        queries.dim(),
        corpus.dim(),
        "nearest: vectors of different dimensions"
    );
    (0..queries.len())
        .into_par_iter()
        .map(|q| {
            let qv = queries.row(q);
            let mut best: Vec<Neighbour> = Vec::with_capacity(k + 1);
            for (c, cv) in corpus.rows().enumerate() {
                if k == 0 || skip(q, c) {
                    continue;
                }
                let score = dot(qv, cv);
                if best.len() == k && score <= best[k - 1].score {
                    continue;
                }
                let at = best.partition_point(|n| n.score >= score);
                best.insert(
                    at,
                    Neighbour {
                        index: c as u32,
                        score,
                    },
                );
                best.truncate(k);
            }
            best
        })
        .collect()
}

/// Turns texts into vectors.
///
/// An implementor **must**: return exactly one vector per input text, in input order, each of
/// length [`Embedder::dim`] and of unit L2 norm (so a dot product is a cosine); give the same
/// vector for the same text and kind every time within one `id()`; accept empty texts (they
/// embed to some fixed unit vector); and fail with `ShelfError::Backend` only when it cannot
/// answer at all. It **may** truncate texts to the model's maximum length, batch and reorder
/// internally, and use several threads (as many as it was built with, never more). Callers
/// **can rely on** `id()` changing whenever the model or anything that changes its output does,
/// which is what makes the on-disk cache safe.
pub trait Embedder: Send + Sync {
    /// Backend and model identity, e.g. `candle:all-MiniLM-L6-v2@3f9a…` (the model file hash).
    fn id(&self) -> &str;
    /// The length of every vector.
    fn dim(&self) -> usize;
    /// Embeds `texts`, all of the same `kind`.
    fn embed(&self, texts: &[&str], kind: TextKind) -> ShelfResult<Embeddings>;
}

impl<T: Embedder + ?Sized> Embedder for Box<T> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn embed(&self, texts: &[&str], kind: TextKind) -> ShelfResult<Embeddings> {
        (**self).embed(texts, kind)
    }
}

/// Who says a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChatRole {
    System,
    User,
    Assistant,
}

impl ChatRole {
    /// The name chat templates and OpenAI-compatible servers use.
    pub fn as_str(self) -> &'static str {
        match self {
            ChatRole::System => "system",
            ChatRole::User => "user",
            ChatRole::Assistant => "assistant",
        }
    }
}

/// One message of a chat prompt.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Assistant,
            content: content.into(),
        }
    }
}

/// One generation request: a chat prompt and how to sample the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    /// The conversation so far; the backend applies its model's chat template.
    pub messages: Vec<ChatMessage>,
    /// The most tokens to generate.
    pub max_tokens: usize,
    /// 0 means greedy (argmax), whatever `top_p` and `seed` say.
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches `top_p`.
    pub top_p: f32,
    /// Sampling seed: the same request with the same seed gives the same text.
    pub seed: u64,
    /// Generation stops before the first occurrence of any of these; it is not in the text.
    pub stop: Vec<String>,
}

impl GenRequest {
    /// A greedy request for one user message.
    pub fn user(content: impl Into<String>, max_tokens: usize) -> Self {
        Self {
            messages: vec![ChatMessage::user(content)],
            max_tokens,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: Vec::new(),
        }
    }

    /// A stable text form of everything that decides the answer, for cache keys.
    pub fn cache_key(&self) -> String {
        let mut key = format!(
            "max_tokens={} temperature={} top_p={} seed={} stop={:?}",
            self.max_tokens, self.temperature, self.top_p, self.seed, self.stop
        );
        for m in &self.messages {
            key.push('\u{1e}');
            key.push_str(m.role.as_str());
            key.push('\u{1f}');
            key.push_str(&m.content);
        }
        key
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// The model produced its end-of-turn token, or a stop sequence appeared.
    Stop,
    /// `max_tokens` ran out first.
    Length,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

/// A generated answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The answer, without the prompt, the end-of-turn token or the stop sequence.
    pub text: String,
    /// How many tokens were generated (including a stop sequence's tokens).
    pub tokens: usize,
    pub finish: FinishReason,
}

/// Turns prompts into texts.
///
/// An implementor **must**: return exactly one [`Generation`] per request, in request order;
/// give the same text for the same request (messages, sampling settings and seed) every time
/// within one `id()`, whether requests come alone or in a batch; never return more than
/// `max_tokens` tokens; cut the text before the first stop sequence; and fail with
/// `ShelfError::Backend` only when it cannot answer at all (a server that is down, a model file
/// it cannot read). It **may** batch requests, run them concurrently and use as many threads
/// as it was built with. Callers **can rely on** `id()` changing with the model file, which is
/// what makes the on-disk cache safe.
pub trait Generator: Send + Sync {
    /// Backend and model identity, e.g. `candle:SmolLM2-135M-Instruct.Q4_1@0c4f…`.
    fn id(&self) -> &str;
    /// Answers every request.
    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>>;
}

impl<T: Generator + ?Sized> Generator for Box<T> {
    fn id(&self) -> &str {
        (**self).id()
    }
    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        (**self).generate(requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embeddings_hold_whole_rows_only() {
        assert!(Embeddings::new(3, vec![0.0; 7]).is_err());
        let e = Embeddings::new(2, vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e.row(1), &[0.0, 1.0]);
        assert_eq!(dot(e.row(0), e.row(1)), 0.0);
    }

    #[test]
    fn nearest_matches_sorting_every_score() {
        // 7 vectors in 19 dimensions (not a multiple of 8, so the tail is exercised).
        let mut data = Vec::new();
        for i in 0..7u32 {
            let v: Vec<f32> = (0..19u32)
                .map(|j| (((i * 31 + j * 17) % 11) as f32) - 5.0)
                .collect();
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            data.extend(v.iter().map(|x| x / n));
        }
        let e = Embeddings::new(19, data).unwrap();
        let got = nearest(&e, &e, 3, &|q, c| q == c);
        for (q, got) in got.iter().enumerate() {
            let naive_dot =
                |c: usize| -> f32 { e.row(q).iter().zip(e.row(c)).map(|(a, b)| a * b).sum() };
            let mut all: Vec<(usize, f32)> = (0..7)
                .filter(|&c| c != q)
                .map(|c| (c, naive_dot(c)))
                .collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let want: Vec<usize> = all[..3].iter().map(|x| x.0).collect();
            let have: Vec<usize> = got.iter().map(|n| n.index as usize).collect();
            assert_eq!(have, want, "query {q}");
            for n in got {
                assert!((n.score - naive_dot(n.index as usize)).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn cache_key_changes_with_anything_that_changes_the_answer() {
        let a = GenRequest::user("hi", 8);
        let mut b = a.clone();
        b.seed = 1;
        let mut c = a.clone();
        c.messages.push(ChatMessage::assistant("hi"));
        assert_ne!(a.cache_key(), b.cache_key());
        assert_ne!(a.cache_key(), c.cache_key());
        assert_eq!(a.cache_key(), a.clone().cache_key());
    }
}
