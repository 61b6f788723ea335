//! Dense retrieval: embed every doc once (passage side), embed the queries (query side), exact
//! inner-product nearest neighbours over unit vectors. Exact search is O(queries × docs ×
//! dim); at 6,000 queries × 50,000 docs × 384 that is about 10^11 multiply-adds, seconds on
//! two cores, so no approximate index is needed below a few hundred thousand items.

use std::sync::Arc;

use shelf_core::ShelfResult;
use shelf_core::lm::{Embedder, Embeddings, TextKind, nearest};

use super::{Doc, Hit, Retriever};

/// Doc vectors of one catalog version and the embedder that made them.
pub struct Dense {
    embedder: Arc<dyn Embedder>,
    docs: Embeddings,
}

impl std::fmt::Debug for Dense {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dense")
            .field("embedder", &self.embedder.id())
            .field("docs", &self.docs.len())
            .finish()
    }
}

/// The text a doc is embedded from: the title first (models truncate at a few hundred
/// tokens, so the most telling field leads), the brand when the title lacks it, then category,
/// attached queries, attributes and the description's start.
pub fn dense_text(d: &Doc) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !d.brand.is_empty() && !d.title.to_lowercase().contains(&d.brand.to_lowercase()) {
        parts.push(&d.brand);
    }
    parts.push(&d.title);
    for f in [&d.category, &d.queries, &d.attributes] {
        if !f.is_empty() {
            parts.push(f);
        }
    }
    let description: String = d.description.chars().take(300).collect();
    let mut text = parts.join(" | ");
    if !description.is_empty() {
        text.push_str(" | ");
        text.push_str(&description);
    }
    text
}

impl Dense {
    pub fn build(embedder: Arc<dyn Embedder>, docs: &[Doc]) -> ShelfResult<Self> {
        let texts: Vec<String> = docs.iter().map(dense_text).collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let docs = embedder.embed(&refs, TextKind::Passage)?;
        Ok(Self { embedder, docs })
    }
}

impl Retriever for Dense {
    fn name(&self) -> &str {
        "dense"
    }

    fn search(&self, queries: &[String], k: usize) -> ShelfResult<Vec<Vec<Hit>>> {
        let refs: Vec<&str> = queries.iter().map(String::as_str).collect();
        let q = self.embedder.embed(&refs, TextKind::Query)?;
        Ok(nearest(&q, &self.docs, k, &|_, _| false)
            .into_iter()
            .map(|ns| {
                ns.into_iter()
                    .map(|n| Hit {
                        doc: n.index,
                        score: n.score,
                    })
                    .collect()
            })
            .collect())
    }
}
