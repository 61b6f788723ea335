//! One string picks a backend: `scripted`, an `http(s)://` server, an installed model's name,
//! or a path to a model folder or file.

use std::path::{Path, PathBuf};

use shelf_core::lm::{Embedder, Generator};
use shelf_core::{ShelfError, ShelfResult};

use crate::cache::{CachedEmbedder, CachedGenerator};
use crate::models;

/// Settings every backend shares.
#[derive(Debug, Clone)]
pub struct LmOptions {
    /// Where installed models are (`models::default_dir()` unless set).
    pub models_dir: PathBuf,
    /// Where answers are cached; `None` switches the cache off.
    pub cache_dir: Option<PathBuf>,
    /// Threads for local models (0 = one per core).
    pub threads: usize,
    /// The model a server should use (`model` in OpenAI requests); for local models, unused.
    pub remote_model: Option<String>,
}

impl Default for LmOptions {
    fn default() -> Self {
        Self {
            models_dir: models::default_dir(),
            cache_dir: None,
            threads: 0,
            remote_model: None,
        }
    }
}

fn is_url(spec: &str) -> bool {
    spec.starts_with("http://") || spec.starts_with("https://")
}

/// Whether `spec` (as [`open_embedder`] and [`open_generator`] take it) names a model that runs
/// in this process on candle: not a server's URL, not the scripted test backend.
pub fn runs_on_candle(spec: &str) -> bool {
    spec != "scripted" && !is_url(spec)
}

#[cfg(not(all(feature = "candle", feature = "http")))]
fn not_compiled(feature: &str, spec: &str) -> ShelfError {
    ShelfError::user(format!(
        "{spec}: this shelf was built without the `{feature}` feature; rebuild with \
         `--features {feature}`"
    ))
}

/// The embedder `spec` names, wrapped in the cache when `opts.cache_dir` is set.
///
/// `spec` is `scripted` (trigram hashing, for tests), an `http(s)://…/v1` base URL of an
/// OpenAI-compatible server, the name of an installed model (`multilingual-e5-small`), a
/// BERT model folder, or an `E5S1` file.
pub fn open_embedder(spec: &str, opts: &LmOptions) -> ShelfResult<Box<dyn Embedder>> {
    let inner: Box<dyn Embedder> = if spec == "scripted" {
        Box::new(crate::scripted::ScriptedEmbedder::new(64))
    } else if is_url(spec) {
        open_http_embedder(spec, opts)?
    } else {
        open_local_embedder(&models::resolve(spec, &opts.models_dir)?, opts)?
    };
    Ok(match &opts.cache_dir {
        Some(dir) => Box::new(CachedEmbedder::new(inner, dir)?),
        None => inner,
    })
}

/// The generator `spec` names, wrapped in the cache when `opts.cache_dir` is set: an
/// `http(s)://…/v1` base URL, the name of an installed model, or a `.gguf` file (or a folder
/// holding one).
pub fn open_generator(spec: &str, opts: &LmOptions) -> ShelfResult<Box<dyn Generator>> {
    let inner: Box<dyn Generator> = if is_url(spec) {
        open_http_generator(spec, opts)?
    } else {
        open_local_generator(&models::resolve(spec, &opts.models_dir)?, opts)?
    };
    Ok(match &opts.cache_dir {
        Some(dir) => Box::new(CachedGenerator::new(inner, dir)?),
        None => inner,
    })
}

/// The one file in `folder` whose name ends with `suffix`.
pub(crate) fn only_file(folder: &Path, suffix: &str) -> ShelfResult<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .map_err(|e| ShelfError::io(folder, "cannot list", e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    found.sort();
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ShelfError::user(format!(
            "{}: holds no *{suffix} file",
            folder.display()
        ))),
        _ => Err(ShelfError::user(format!(
            "{}: holds {} *{suffix} files; name the one to use",
            folder.display(),
            found.len()
        ))),
    }
}

#[cfg(feature = "candle")]
fn open_local_embedder(path: &Path, opts: &LmOptions) -> ShelfResult<Box<dyn Embedder>> {
    use crate::bert::{BatchOptions, BertEmbedder, Prefixes};
    let batch = BatchOptions {
        threads: opts.threads,
        ..BatchOptions::default()
    };
    let e5s1 = if path.is_dir() {
        only_file(path, ".bin")
            .ok()
            .filter(|p| crate::e5s1::is_e5s1(p))
    } else {
        Some(path.to_path_buf()).filter(|p| crate::e5s1::is_e5s1(p))
    };
    if let Some(file) = e5s1 {
        return Ok(Box::new(crate::e5s1::load(&file, batch)?));
    }
    if !path.is_dir() {
        return Err(ShelfError::user(format!(
            "{}: not an embedding model; name a BERT model folder (config.json, tokenizer.json, \
             model.safetensors) or an E5S1 file",
            path.display()
        )));
    }
    let weights = path.join("model.safetensors");
    let id = format!(
        "candle:{}@{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        &models::file_sha256(&weights)?[..16]
    );
    // e5 models are trained with these prefixes; without them their vectors are worse.
    let prefixes = if path.to_string_lossy().contains("e5") {
        Prefixes {
            query: "query: ".into(),
            passage: "passage: ".into(),
        }
    } else {
        Prefixes::default()
    };
    Ok(Box::new(BertEmbedder::from_folder(
        id, path, prefixes, batch,
    )?))
}

#[cfg(not(feature = "candle"))]
fn open_local_embedder(path: &Path, _: &LmOptions) -> ShelfResult<Box<dyn Embedder>> {
    Err(not_compiled("candle", &path.display().to_string()))
}

#[cfg(feature = "candle")]
fn open_local_generator(path: &Path, opts: &LmOptions) -> ShelfResult<Box<dyn Generator>> {
    let file = if path.is_dir() {
        only_file(path, ".gguf")?
    } else {
        path.to_path_buf()
    };
    Ok(Box::new(crate::gguf::GgufGenerator::load(
        &file,
        opts.threads,
    )?))
}

#[cfg(not(feature = "candle"))]
fn open_local_generator(path: &Path, _: &LmOptions) -> ShelfResult<Box<dyn Generator>> {
    Err(not_compiled("candle", &path.display().to_string()))
}

#[cfg(feature = "http")]
fn open_http_embedder(url: &str, opts: &LmOptions) -> ShelfResult<Box<dyn Embedder>> {
    Ok(Box::new(crate::http::HttpEmbedder::connect(
        url,
        opts.remote_model.as_deref(),
    )?))
}

#[cfg(not(feature = "http"))]
fn open_http_embedder(url: &str, _: &LmOptions) -> ShelfResult<Box<dyn Embedder>> {
    Err(not_compiled("http", url))
}

#[cfg(feature = "http")]
fn open_http_generator(url: &str, opts: &LmOptions) -> ShelfResult<Box<dyn Generator>> {
    Ok(Box::new(crate::http::HttpGenerator::connect(
        url,
        opts.remote_model.as_deref(),
    )?))
}

#[cfg(not(feature = "http"))]
fn open_http_generator(url: &str, _: &LmOptions) -> ShelfResult<Box<dyn Generator>> {
    Err(not_compiled("http", url))
}
