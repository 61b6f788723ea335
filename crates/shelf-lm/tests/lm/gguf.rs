//! The GGUF generator on SmolLM2-135M-Instruct (Q4_1): tokenizer against llama.cpp, chat
//! answers on shelf's decoder and on candle's model, batching, sampling determinism,
//! max_tokens and stop strings.

use std::sync::OnceLock;

use shelf_core::lm::{ChatMessage, FinishReason, GenRequest, Generator};
use shelf_lm::gguf::{Engine, GgufGenerator};

fn smollm() -> &'static GgufGenerator {
    static MODEL: OnceLock<GgufGenerator> = OnceLock::new();
    MODEL.get_or_init(|| {
        let folder = super::model("smollm2-135m-instruct");
        let file = folder.join("SmolLM2-135M-Instruct.Q4_1.gguf");
        GgufGenerator::load(&file, 1).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Token ids llama.cpp gives for these texts with the same file: `llama-tokenize -m
/// SmolLM2-135M-Instruct.Q4_1.gguf -p TEXT --ids --no-bos` (llama.cpp b11434, built from
/// source), special tokens parsed.
const LLAMA_CPP_IDS: &[(&str, &[u32])] = &[
    (
        "Hello world, it's 2024!  Prices: $12.99 (was $15).",
        &[
            19556, 905, 28, 357, 506, 216, 34, 32, 34, 36, 17, 216, 38573, 42, 1885, 33, 34, 30,
            41, 41, 365, 10591, 1885, 33, 37, 595,
        ],
    ),
    (
        "你好世界！苹果手机 iPhone 15 Pro 256GB",
        &[
            18645, 250, 48392, 138, 7906, 240, 178, 239, 230, 8083, 219, 179, 229, 134, 43774,
            27898, 229, 14483, 135, 22339, 216, 33, 37, 1053, 216, 34, 37, 38, 14201,
        ],
    ),
    (
        "<|im_start|>user\nhi there<|im_end|>\n",
        &[1, 4093, 198, 6004, 665, 2, 198],
    ),
];

#[test]
fn tokenizer_matches_llama_cpp_and_round_trips() {
    let tok = smollm().tokenizer();
    for (text, want) in LLAMA_CPP_IDS {
        let ids = tok.encode(text).unwrap();
        assert_eq!(&ids, want, "{text:?}");
        let plain = !text.contains("<|");
        if plain {
            assert_eq!(tok.decode(&ids).unwrap(), *text);
        }
    }
}

#[test]
fn id_names_the_file_and_its_hash() {
    assert!(
        smollm()
            .id()
            .starts_with("candle:SmolLM2-135M-Instruct.Q4_1@b179c9523d0e6a0f"),
        "{}",
        smollm().id()
    );
}

#[test]
fn greedy_answer_to_a_simple_question_is_sensible() {
    let req = GenRequest::user("What is the capital of France? Answer in one word.", 16);
    let out = smollm().generate(&[req]).unwrap().remove(0);
    assert!(out.text.contains("Paris"), "{out:?}");
    assert!(out.tokens <= 16);
}

#[test]
fn candles_model_answers_and_repeats_itself() {
    let file = super::model("smollm2-135m-instruct").join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let candle = GgufGenerator::load_with(&file, 1, Engine::Candle).unwrap();
    let req = GenRequest::user("What is the capital of France? Answer in one word.", 16);
    let both = candle.generate(&[req.clone(), req]).unwrap();
    assert!(both[0].text.contains("Paris"), "{both:?}");
    assert_eq!(both[0], both[1]);
}

#[test]
fn a_batch_reports_each_requests_own_timings() {
    let requests = [
        GenRequest::user("Name a colour.", 3),
        GenRequest::user("Write a long poem about the sea and the sky.", 12),
    ];
    let out = smollm().generate_batch_timed(&requests).unwrap();
    let file = super::model("smollm2-135m-instruct").join("SmolLM2-135M-Instruct.Q4_1.gguf");
    let one_at_a_time = GgufGenerator::load(&file, 1).unwrap().with_batch(1);
    let alone = one_at_a_time.generate(&requests).unwrap();
    for ((g, t), want) in out.iter().zip(&alone) {
        assert_eq!(g, want);
        assert!(t.prompt_tokens > 0 && t.prompt_secs > 0.0, "{t:?}");
        assert_eq!(t.decode_tokens, g.tokens.saturating_sub(1));
    }
    assert!(out[1].1.prompt_tokens > out[0].1.prompt_tokens);
}

fn sampled(seed: u64) -> GenRequest {
    GenRequest {
        messages: vec![ChatMessage::user("Write a short poem about the sea.")],
        max_tokens: 24,
        temperature: 0.9,
        top_p: 0.95,
        seed,
        stop: Vec::new(),
    }
}

#[test]
fn a_seed_gives_the_same_text_alone_and_in_a_batch() {
    let g = smollm();
    let alone = g.generate(&[sampled(7)]).unwrap().remove(0);
    let batch = g
        .generate(&[sampled(1), sampled(7), GenRequest::user("hi", 4)])
        .unwrap();
    assert_eq!(batch.len(), 3);
    assert_eq!(alone, batch[1]);
    // Another seed takes another path: sampling is really on.
    assert_ne!(batch[0].text, batch[1].text);
}

#[test]
fn max_tokens_is_respected_with_finish_length() {
    let req = GenRequest::user("Count from 1 to 100, separated by commas.", 5);
    let out = smollm().generate(&[req]).unwrap().remove(0);
    assert_eq!(out.finish, FinishReason::Length);
    assert_eq!(out.tokens, 5);
    assert!(!out.text.is_empty());
}

#[test]
fn stop_strings_cut_the_text_before_them() {
    // Greedy SmolLM2 answers with a numbered list: "1. 1\n2. 2\n…".
    let mut req = GenRequest::user("Count from 1 to 20, separated by commas.", 60);
    let full = smollm().generate(&[req.clone()]).unwrap().remove(0);
    assert!(full.text.contains("\n5."), "{full:?}");
    req.stop = vec!["5.".to_string(), "never appears".to_string()];
    let cut = smollm().generate(&[req]).unwrap().remove(0);
    assert_eq!(cut.finish, FinishReason::Stop);
    assert!(
        !cut.text.contains("5.") && cut.text.contains("4."),
        "{cut:?}"
    );
    assert!(full.text.starts_with(&cut.text), "{cut:?} vs {full:?}");
    assert!(cut.tokens < full.tokens);
}
