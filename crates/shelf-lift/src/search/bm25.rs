//! BM25 with tantivy. Text is segmented by [`crate::text::Segmenter`] (so Chinese and Latin
//! scripts are both handled and queries agree with docs by construction), joined by spaces and
//! handed to a whitespace analyzer that only stems English words.
//!
//! A query is the OR of its distinct terms over every field, each field boosted by
//! [`FIELD_BOOSTS`]: no query syntax is parsed, so `1/2 in. x 8 ft.` or `"hdmi"` are just
//! words, never operators.

use rayon::prelude::*;
use shelf_core::{ShelfError, ShelfResult};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{Language, Stemmer, TextAnalyzer, WhitespaceTokenizer};
use tantivy::{Index, IndexReader, TantivyDocument, Term};

use super::{Doc, Hit, Retriever, rank};
use crate::text::Segmenter;

/// Per-field weight of a matching term. The title says what the item is; brand and attached
/// queries are short and telling; category, attributes and description are long and mention
/// many things the item is not. Not tuned on any one dataset (Home Depot has titles only).
pub const FIELD_BOOSTS: [(&str, f32); 6] = [
    ("title", 1.0),
    ("brand", 1.0),
    ("queries", 1.0),
    ("category", 0.5),
    ("attributes", 0.5),
    ("description", 0.3),
];

const ANALYZER: &str = "shelf";

/// How text becomes terms.
#[derive(Debug, Clone, Copy)]
pub struct Bm25Options {
    pub segmenter: Segmenter,
    /// Porter-style English stemming (`drills` → `drill`).
    pub stem: bool,
}

impl Default for Bm25Options {
    fn default() -> Self {
        Self {
            segmenter: Segmenter::default(),
            stem: true,
        }
    }
}

/// A BM25 index over one catalog version, in memory.
pub struct Bm25 {
    reader: IndexReader,
    fields: Vec<(Field, f32)>,
    analyzer: TextAnalyzer,
    options: Bm25Options,
}

impl std::fmt::Debug for Bm25 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bm25")
            .field("docs", &self.reader.searcher().num_docs())
            .field("options", &self.options)
            .finish()
    }
}

fn tantivy_err(what: &str) -> impl Fn(tantivy::TantivyError) -> ShelfError + '_ {
    move |e| ShelfError::internal(format!("BM25 index, {what}: {e}"))
}

fn field_text<'a>(d: &'a Doc, name: &str) -> &'a str {
    match name {
        "title" => &d.title,
        "brand" => &d.brand,
        "queries" => &d.queries,
        "category" => &d.category,
        "attributes" => &d.attributes,
        _ => &d.description,
    }
}

impl Bm25 {
    /// Indexes `docs`; doc `i` is returned as `Hit { doc: i }`. One indexing thread, so the
    /// segment layout (and with it every tie) is the same on every run.
    pub fn build(docs: &[Doc], options: Bm25Options) -> ShelfResult<Self> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs);
        let fields: Vec<(Field, f32)> = FIELD_BOOSTS
            .iter()
            .map(|(name, boost)| {
                let opts = TextOptions::default().set_indexing_options(indexing.clone());
                (schema.add_text_field(name, opts), *boost)
            })
            .collect();
        let ord = schema.add_u64_field("ord", FAST);
        let index = Index::create_in_ram(schema.build());
        let analyzer = if options.stem {
            TextAnalyzer::builder(WhitespaceTokenizer::default())
                .filter(Stemmer::new(Language::English))
                .build()
        } else {
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build()
        };
        index.tokenizers().register(ANALYZER, analyzer.clone());

        // Segmenting (jieba especially) is the costly part: do it in parallel, index in order.
        let segmented: Vec<Vec<String>> = docs
            .par_iter()
            .map(|d| {
                FIELD_BOOSTS
                    .iter()
                    .map(|(name, _)| options.segmenter.terms(field_text(d, name)).join(" "))
                    .collect()
            })
            .collect();
        let mut writer = index
            .writer_with_num_threads::<TantivyDocument>(1, 200_000_000)
            .map_err(tantivy_err("writer"))?;
        for (i, texts) in segmented.into_iter().enumerate() {
            let mut doc = TantivyDocument::new();
            for ((field, _), text) in fields.iter().zip(texts) {
                if !text.is_empty() {
                    doc.add_text(*field, text);
                }
            }
            doc.add_u64(ord, i as u64);
            writer.add_document(doc).map_err(tantivy_err("adding"))?;
        }
        writer.commit().map_err(tantivy_err("commit"))?;
        let reader = index.reader().map_err(tantivy_err("reader"))?;
        Ok(Self {
            reader,
            fields,
            analyzer,
            options,
        })
    }

    /// The distinct index terms of a query, in first-seen order.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let joined = self.options.segmenter.terms(query).join(" ");
        let mut analyzer = self.analyzer.clone();
        let mut stream = analyzer.token_stream(&joined);
        let mut terms: Vec<String> = Vec::new();
        while stream.advance() {
            let t = &stream.token().text;
            if !terms.contains(t) {
                terms.push(t.clone());
            }
        }
        terms
    }
}

impl Retriever for Bm25 {
    fn name(&self) -> &str {
        "bm25"
    }

    fn search(&self, queries: &[String], k: usize) -> ShelfResult<Vec<Vec<Hit>>> {
        let searcher = self.reader.searcher();
        let ords = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("ord"))
            .collect::<Result<Vec<_>, _>>()
            .map_err(tantivy_err("ord column"))?;
        queries
            .par_iter()
            .map(|q| {
                let terms = self.query_terms(q);
                if terms.is_empty() || k == 0 {
                    return Ok(Vec::new());
                }
                let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                    .iter()
                    .flat_map(|t| {
                        self.fields.iter().map(move |&(field, boost)| {
                            let tq = TermQuery::new(
                                Term::from_field_text(field, t),
                                IndexRecordOption::WithFreqs,
                            );
                            let q: Box<dyn Query> = Box::new(BoostQuery::new(Box::new(tq), boost));
                            (Occur::Should, q)
                        })
                    })
                    .collect();
                let top = searcher
                    .search(
                        &BooleanQuery::new(clauses),
                        &TopDocs::with_limit(k).order_by_score(),
                    )
                    .map_err(tantivy_err("search"))?;
                let hits = top
                    .into_iter()
                    .filter_map(|(score, addr)| {
                        let doc = ords[addr.segment_ord as usize].first(addr.doc_id)?;
                        Some(Hit {
                            doc: doc as u32,
                            score,
                        })
                    })
                    .collect();
                Ok(rank(hits, k))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str) -> Doc {
        Doc {
            title: title.into(),
            ..Doc::default()
        }
    }

    fn search(index: &Bm25, q: &str) -> Vec<u32> {
        index.search(&[q.to_string()], 10).unwrap()[0]
            .iter()
            .map(|h| h.doc)
            .collect()
    }

    #[test]
    fn ranks_the_matching_title_first_and_stems() {
        let docs = [
            doc("cordless drill 18v"),
            doc("garden hose 50 ft"),
            doc("drill bits set"),
            doc("hose reel"),
        ];
        let index = Bm25::build(&docs, Bm25Options::default()).unwrap();
        assert_eq!(search(&index, "cordless drills"), [0, 2]);
        assert_eq!(search(&index, "Hose"), [3, 1]);
        assert!(search(&index, "lawn mower").is_empty());
        assert!(search(&index, "   ").is_empty());
    }

    #[test]
    fn query_syntax_is_just_words() {
        let index = Bm25::build(
            &[doc("hdmi cable 2 m"), doc("usb cable")],
            Bm25Options::default(),
        )
        .unwrap();
        assert_eq!(search(&index, "\"hdmi\" AND -cable:("), [0, 1]);
    }

    #[test]
    fn chinese_queries_match_through_bigrams_and_words() {
        let docs = [
            doc("蓝牙耳机 无线 降噪"),
            doc("机械键盘"),
            doc("耳机收纳盒"),
        ];
        for chinese in [crate::text::Chinese::Bigrams, crate::text::Chinese::Words] {
            let opts = Bm25Options {
                segmenter: Segmenter { chinese },
                stem: true,
            };
            let index = Bm25::build(&docs, opts).unwrap();
            let got = search(&index, "无线蓝牙耳机");
            assert_eq!(got.first(), Some(&0), "{chinese:?}: {got:?}");
            assert!(!got.contains(&1), "{chinese:?}: {got:?}");
        }
    }

    #[test]
    fn other_fields_count_with_their_boost() {
        let docs = [
            Doc {
                title: "kettle".into(),
                queries: "tea maker".into(),
                ..Doc::default()
            },
            Doc {
                title: "teapot".into(),
                ..Doc::default()
            },
        ];
        let index = Bm25::build(&docs, Bm25Options::default()).unwrap();
        assert_eq!(search(&index, "tea maker"), [0]);
    }
}
