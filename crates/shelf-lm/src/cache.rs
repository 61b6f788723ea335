//! An on-disk cache of model answers, keyed by (backend id, request).
//!
//! A backend's id carries its model file's hash, so a new model never reads an old model's
//! answers. Each backend gets one folder (named by a hash of its id, with the id itself in
//! `id.txt`) holding two append-only logs:
//!
//! - `embeddings.bin`: the magic `SHELFEMB1`, the dimension (u32 LE), then records of a 32-byte
//!   key (SHA-256 of kind and text) followed by `dim` f32 LE;
//! - `generations.jsonl`: one `{"key", "text", "tokens", "finish"}` object per line.
//!
//! A record cut short by a crash is dropped when the log is opened (it is a cache: the answer
//! is computed again), and the log is truncated to its last whole record so later appends stay
//! aligned. Appends hold an exclusive file lock, so two shelf processes can share a cache.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};
use shelf_core::lm::{
    Embedder, Embeddings, FinishReason, GenRequest, Generation, Generator, TextKind,
};
use shelf_core::{ShelfError, ShelfResult};

/// Where answers are cached unless a run says otherwise: `$SHELF_LM_CACHE`, else
/// `$XDG_CACHE_HOME/shelf/lm-cache`, else `~/.cache/shelf/lm-cache`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHELF_LM_CACHE") {
        return PathBuf::from(dir);
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("shelf")
        .join("lm-cache")
}

const EMB_MAGIC: &[u8; 9] = b"SHELFEMB1";
type Key = [u8; 32];

fn key_of(parts: &[&[u8]]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The folder for one backend id under `root`, created with its `id.txt`.
fn backend_dir(root: &Path, id: &str) -> ShelfResult<PathBuf> {
    let dir = root.join(&hex(&key_of(&[id.as_bytes()]))[..16]);
    std::fs::create_dir_all(&dir)
        .map_err(|e| ShelfError::io(&dir, "cannot create the model cache folder", e))?;
    let id_file = dir.join("id.txt");
    if !id_file.exists() {
        std::fs::write(&id_file, format!("{id}\n"))
            .map_err(|e| ShelfError::io(&id_file, "cannot write", e))?;
    }
    Ok(dir)
}

/// Opens `path` for appending and returns its current bytes.
fn open_log(path: &Path) -> ShelfResult<(File, Vec<u8>)> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)
        .map_err(|e| ShelfError::io(path, "cannot open the model cache", e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| ShelfError::io(path, "cannot read the model cache", e))?;
    Ok((file, bytes))
}

fn truncate_to(file: &File, path: &Path, len: usize) -> ShelfResult<()> {
    file.set_len(len as u64)
        .map_err(|e| ShelfError::io(path, "cannot repair a torn model cache record", e))
}

fn append(file: &mut File, path: &Path, bytes: &[u8]) -> ShelfResult<()> {
    let io = |e| ShelfError::io(path, "cannot append to the model cache", e);
    file.lock().map_err(io)?;
    let written = file.write_all(bytes).and_then(|()| file.flush());
    let unlocked = file.unlock();
    written.map_err(io)?;
    unlocked.map_err(io)
}

struct EmbedLog {
    path: PathBuf,
    file: File,
    dim: usize,
    vectors: HashMap<Key, Vec<f32>>,
}

impl EmbedLog {
    fn open(dir: &Path, dim: usize) -> ShelfResult<Self> {
        let path = dir.join("embeddings.bin");
        let (mut file, bytes) = open_log(&path)?;
        let mut vectors = HashMap::new();
        let header = EMB_MAGIC.len() + 4;
        if bytes.len() < header {
            truncate_to(&file, &path, 0)?;
            let mut head = EMB_MAGIC.to_vec();
            head.extend_from_slice(&(dim as u32).to_le_bytes());
            append(&mut file, &path, &head)?;
        } else {
            let stored = u32::from_le_bytes(bytes[9..13].try_into().unwrap()) as usize;
            if &bytes[..9] != EMB_MAGIC || stored != dim {
                return Err(ShelfError::user(format!(
                    "{}: not a shelf embedding cache for dimension {dim}; delete the folder \
                     {} to start it afresh",
                    path.display(),
                    dir.display()
                )));
            }
            let record = 32 + 4 * dim;
            let whole = (bytes.len() - header) / record;
            for r in bytes[header..header + whole * record].chunks_exact(record) {
                let key: Key = r[..32].try_into().unwrap();
                let v = r[32..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect();
                vectors.insert(key, v);
            }
            if header + whole * record != bytes.len() {
                truncate_to(&file, &path, header + whole * record)?;
            }
        }
        Ok(Self {
            path,
            file,
            dim,
            vectors,
        })
    }

    fn put(&mut self, entries: &[(Key, &[f32])]) -> ShelfResult<()> {
        let mut bytes = Vec::with_capacity(entries.len() * (32 + 4 * self.dim));
        for (key, v) in entries {
            bytes.extend_from_slice(key);
            for x in *v {
                bytes.extend_from_slice(&x.to_le_bytes());
            }
        }
        append(&mut self.file, &self.path, &bytes)?;
        for (key, v) in entries {
            self.vectors.insert(*key, v.to_vec());
        }
        Ok(())
    }
}

/// An embedder that answers from disk when it can and asks `inner` for the rest.
pub struct CachedEmbedder<E> {
    inner: E,
    log: Mutex<EmbedLog>,
}

impl<E: Embedder> CachedEmbedder<E> {
    /// Caches `inner`'s answers under `root` (one folder per backend id).
    pub fn new(inner: E, root: &Path) -> ShelfResult<Self> {
        let dir = backend_dir(root, inner.id())?;
        let log = EmbedLog::open(&dir, inner.dim())?;
        Ok(Self {
            inner,
            log: Mutex::new(log),
        })
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &E {
        &self.inner
    }
}

impl<E: Embedder> Embedder for CachedEmbedder<E> {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn embed(&self, texts: &[&str], kind: TextKind) -> ShelfResult<Embeddings> {
        let keys: Vec<Key> = texts
            .iter()
            .map(|t| key_of(&[kind.as_str().as_bytes(), t.as_bytes()]))
            .collect();
        // Each missing text once, even when it repeats in `texts`.
        let mut missing: Vec<usize> = Vec::new();
        {
            let log = self.log.lock().unwrap();
            let mut seen = std::collections::HashSet::new();
            for (i, k) in keys.iter().enumerate() {
                if !log.vectors.contains_key(k) && seen.insert(*k) {
                    missing.push(i);
                }
            }
        }
        if !missing.is_empty() {
            let asked: Vec<&str> = missing.iter().map(|&i| texts[i]).collect();
            let fresh = self.inner.embed(&asked, kind)?;
            let entries: Vec<(Key, &[f32])> = missing
                .iter()
                .zip(fresh.rows())
                .map(|(&i, v)| (keys[i], v))
                .collect();
            self.log.lock().unwrap().put(&entries)?;
        }
        let log = self.log.lock().unwrap();
        let dim = self.dim();
        let mut data = Vec::with_capacity(texts.len() * dim);
        for k in &keys {
            data.extend_from_slice(&log.vectors[k]);
        }
        Embeddings::new(dim, data)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct GenRecord {
    key: String,
    text: String,
    tokens: usize,
    finish: String,
}

struct GenLog {
    path: PathBuf,
    file: File,
    answers: HashMap<String, Generation>,
}

impl GenLog {
    fn open(dir: &Path) -> ShelfResult<Self> {
        let path = dir.join("generations.jsonl");
        let (file, bytes) = open_log(&path)?;
        let mut answers = HashMap::new();
        let mut good = 0;
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let Some(body) = line.strip_suffix(b"\n") else {
                break; // torn last line
            };
            let Ok(r) = serde_json::from_slice::<GenRecord>(body) else {
                break;
            };
            let finish = if r.finish == "length" {
                FinishReason::Length
            } else {
                FinishReason::Stop
            };
            answers.insert(
                r.key,
                Generation {
                    text: r.text,
                    tokens: r.tokens,
                    finish,
                },
            );
            good += line.len();
        }
        if good != bytes.len() {
            truncate_to(&file, &path, good)?;
        }
        Ok(Self {
            path,
            file,
            answers,
        })
    }
}

/// A generator that answers from disk when it can and asks `inner` for the rest.
pub struct CachedGenerator<G> {
    inner: G,
    log: Mutex<GenLog>,
}

impl<G: Generator> CachedGenerator<G> {
    /// Caches `inner`'s answers under `root` (one folder per backend id).
    pub fn new(inner: G, root: &Path) -> ShelfResult<Self> {
        let dir = backend_dir(root, inner.id())?;
        Ok(Self {
            log: Mutex::new(GenLog::open(&dir)?),
            inner,
        })
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &G {
        &self.inner
    }
}

impl<G: Generator> Generator for CachedGenerator<G> {
    fn id(&self) -> &str {
        self.inner.id()
    }
    fn generate(&self, requests: &[GenRequest]) -> ShelfResult<Vec<Generation>> {
        let keys: Vec<String> = requests
            .iter()
            .map(|r| hex(&key_of(&[r.cache_key().as_bytes()])))
            .collect();
        let mut missing = Vec::new();
        {
            let log = self.log.lock().unwrap();
            let mut seen = std::collections::HashSet::new();
            for (i, k) in keys.iter().enumerate() {
                if !log.answers.contains_key(k) && seen.insert(k) {
                    missing.push(i);
                }
            }
        }
        if !missing.is_empty() {
            let asked: Vec<GenRequest> = missing.iter().map(|&i| requests[i].clone()).collect();
            let fresh = self.inner.generate(&asked)?;
            let mut lines = Vec::new();
            for (&i, g) in missing.iter().zip(&fresh) {
                let record = GenRecord {
                    key: keys[i].clone(),
                    text: g.text.clone(),
                    tokens: g.tokens,
                    finish: g.finish.as_str().to_string(),
                };
                serde_json::to_writer(&mut lines, &record)
                    .map_err(|e| ShelfError::internal(format!("cache record: {e}")))?;
                lines.push(b'\n');
            }
            let mut log = self.log.lock().unwrap();
            let path = log.path.clone();
            append(&mut log.file, &path, &lines)?;
            for (&i, g) in missing.iter().zip(fresh) {
                log.answers.insert(keys[i].clone(), g);
            }
        }
        let log = self.log.lock().unwrap();
        Ok(keys.iter().map(|k| log.answers[k].clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripted::{ScriptedEmbedder, ScriptedGenerator};

    #[test]
    fn a_rerun_is_answered_from_disk_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let first = CachedEmbedder::new(ScriptedEmbedder::new(16), dir.path()).unwrap();
        let a = first
            .embed(&["tea", "milk", "tea"], TextKind::Passage)
            .unwrap();
        assert_eq!(
            first.inner().calls(),
            (1, 2),
            "each missing text is asked once"
        );
        drop(first);
        let again = CachedEmbedder::new(ScriptedEmbedder::new(16), dir.path()).unwrap();
        let b = again
            .embed(&["milk", "tea", "tea"], TextKind::Passage)
            .unwrap();
        assert_eq!(again.inner().calls(), (0, 0));
        assert_eq!(a.row(0), b.row(1));
        assert_eq!(a.row(1), b.row(0));
        // The kind is part of the key.
        again.embed(&["tea"], TextKind::Query).unwrap();
        assert_eq!(again.inner().calls(), (1, 1));
    }

    #[test]
    fn a_torn_record_is_dropped_and_the_log_stays_aligned() {
        let dir = tempfile::tempdir().unwrap();
        let c = CachedEmbedder::new(ScriptedEmbedder::new(8), dir.path()).unwrap();
        c.embed(&["a", "b"], TextKind::Passage).unwrap();
        drop(c);
        let sub = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let log = sub.join("embeddings.bin");
        let len = std::fs::metadata(&log).unwrap().len();
        let f = OpenOptions::new().write(true).open(&log).unwrap();
        f.set_len(len - 5).unwrap(); // cut "b" short
        drop(f);
        let c = CachedEmbedder::new(ScriptedEmbedder::new(8), dir.path()).unwrap();
        c.embed(&["a", "b", "c"], TextKind::Passage).unwrap();
        assert_eq!(
            c.inner().calls(),
            (1, 2),
            "b and c are asked again, a is not"
        );
        drop(c);
        let c = CachedEmbedder::new(ScriptedEmbedder::new(8), dir.path()).unwrap();
        c.embed(&["a", "b", "c"], TextKind::Passage).unwrap();
        assert_eq!(c.inner().calls(), (0, 0));
    }

    #[test]
    fn generations_are_cached_by_the_whole_request() {
        let dir = tempfile::tempdir().unwrap();
        let script = || ScriptedGenerator::new(vec![], Some("ok fine".into()));
        let g = CachedGenerator::new(script(), dir.path()).unwrap();
        let mut req = GenRequest::user("hello", 8);
        g.generate(&[req.clone(), req.clone()]).unwrap();
        assert_eq!(g.inner().calls(), 1);
        drop(g);
        let g = CachedGenerator::new(script(), dir.path()).unwrap();
        let out = g.generate(std::slice::from_ref(&req)).unwrap();
        assert_eq!(out[0].text, "ok fine");
        assert_eq!(g.inner().calls(), 0);
        req.seed = 7;
        g.generate(&[req]).unwrap();
        assert_eq!(g.inner().calls(), 1);
    }
}
