//! Opening a path as a sequence of byte streams: plain, gzip, or every file inside a zip.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use shelf_core::{ShelfError, ShelfResult};

use crate::options::Format;

/// One readable part of an input: the file itself, its gunzipped content, or one zip entry.
pub struct Part {
    /// Name for messages: `data.csv` or `archive.zip!inner.csv`.
    pub name: String,
    /// The name whose extension tells the format (`inner.csv`, `data.csv` for `data.csv.gz`).
    pub inner_name: String,
    /// A local file holding the plain bytes, when one exists (needed by Parquet).
    pub local_path: Option<PathBuf>,
    pub reader: Box<dyn Read + Send>,
    // Keeps an extracted zip entry alive as long as the part.
    _temp: Option<tempfile::NamedTempFile>,
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Part").field("name", &self.name).finish()
    }
}

impl Part {
    /// Takes the part's byte stream, leaving an empty one, so the part (and the scratch file
    /// behind a zip entry) can be kept for a second read with [`Part::reopen`].
    pub fn take_reader(&mut self) -> Box<dyn Read + Send> {
        std::mem::replace(&mut self.reader, Box::new(std::io::empty()))
    }

    /// Reads the part again from its local file; `None` when it has none (gzip streams).
    pub fn reopen(&self) -> Option<std::io::Result<Box<dyn Read + Send>>> {
        let path = self.local_path.as_ref()?;
        Some(
            File::open(path)
                .map(|f| Box::new(BufReader::with_capacity(1 << 16, f)) as Box<dyn Read + Send>),
        )
    }
}

/// Compression wrapping a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapper {
    Plain,
    Gzip,
    Zip,
}

fn wrapper_of(path: &Path, head: &[u8]) -> Wrapper {
    if head.starts_with(&[0x1f, 0x8b]) {
        Wrapper::Gzip
    } else if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Wrapper::Zip
    } else {
        match extension(path).as_str() {
            "gz" | "gzip" => Wrapper::Gzip,
            "zip" => Wrapper::Zip,
            _ => Wrapper::Plain,
        }
    }
}

/// Lower-case extension of a path or name.
pub fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn open_file(path: &Path) -> ShelfResult<File> {
    File::open(path).map_err(|e| {
        let what = if e.kind() == std::io::ErrorKind::NotFound {
            "file not found; check the path"
        } else {
            "cannot open the file"
        };
        ShelfError::io(path, what, e)
    })
}

/// Opens `path` and returns its parts in order: one for a plain or gzip file, one per file in a
/// zip (directories and `__MACOSX` entries skipped; entries in archive order).
pub fn open_parts(path: &Path, scratch: &Path) -> ShelfResult<Vec<Part>> {
    let mut file = open_file(path)?;
    let meta = file
        .metadata()
        .map_err(|e| ShelfError::io(path, "cannot stat the file", e))?;
    if meta.is_dir() {
        return Err(ShelfError::user(format!(
            "{} is a directory; give a file (CSV, TSV, JSON, JSONL, Parquet, optionally .gz or .zip)",
            path.display()
        )));
    }
    let mut head = [0u8; 4];
    let n = read_up_to(&mut file, &mut head).map_err(|e| ShelfError::io(path, "cannot read", e))?;
    let display = path.display().to_string();
    let file = open_file(path)?;
    match wrapper_of(path, &head[..n]) {
        Wrapper::Plain => Ok(vec![Part {
            name: display.clone(),
            inner_name: display,
            local_path: Some(path.to_path_buf()),
            reader: Box::new(BufReader::with_capacity(1 << 16, file)),
            _temp: None,
        }]),
        Wrapper::Gzip => {
            let inner = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(vec![Part {
                name: display,
                inner_name: inner,
                local_path: None,
                reader: Box::new(BufReader::with_capacity(
                    1 << 16,
                    flate2::read::MultiGzDecoder::new(BufReader::new(file)),
                )),
                _temp: None,
            }])
        }
        Wrapper::Zip => open_zip(path, file, scratch),
    }
}

fn open_zip(path: &Path, file: File, scratch: &Path) -> ShelfResult<Vec<Part>> {
    let bad = |msg: String| ShelfError::input(path, None, None, msg);
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|e| {
        bad(format!(
            "not a readable zip archive ({e}); re-create the archive or give the file unzipped"
        ))
    })?;
    let mut parts = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| bad(format!("zip entry {i} cannot be read ({e})")))?;
        let name = entry
            .name()
            .map(|n| n.to_string())
            .unwrap_or_else(|_| format!("entry-{i}"));
        if entry.is_dir() || name.starts_with("__MACOSX") || name.ends_with(".DS_Store") {
            continue;
        }
        // Entries are extracted to scratch files: a zip entry borrows its archive, and Parquet
        // needs a seekable file anyway. Copying streams, so memory stays bounded.
        let mut temp = tempfile::NamedTempFile::new_in(scratch)
            .map_err(|e| ShelfError::io(scratch, "cannot create a scratch file", e))?;
        std::io::copy(&mut entry, temp.as_file_mut()).map_err(|e| {
            ShelfError::input(
                path,
                None,
                None,
                format!("zip entry {name} is corrupt ({e})"),
            )
        })?;
        let reopened = temp
            .reopen()
            .map_err(|e| ShelfError::io(temp.path(), "cannot reopen", e))?;
        parts.push(Part {
            name: format!("{}!{}", path.display(), name),
            inner_name: name,
            local_path: Some(temp.path().to_path_buf()),
            reader: Box::new(BufReader::with_capacity(1 << 16, reopened)),
            _temp: Some(temp),
        });
    }
    if parts.is_empty() {
        return Err(bad("the zip archive holds no files".into()));
    }
    Ok(parts)
}

/// Reads until `buf` is full or the stream ends; returns the number of bytes read.
pub fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Guesses the format from a name's extension, then from the first bytes.
pub fn detect_format(inner_name: &str, head: &[u8]) -> Option<(Format, Option<u8>)> {
    if head.starts_with(b"PAR1") {
        return Some((Format::Parquet, None));
    }
    let ext = extension(Path::new(inner_name));
    match ext.as_str() {
        "csv" => return Some((Format::Csv, None)),
        "tsv" | "tab" => return Some((Format::Csv, Some(b'\t'))),
        "jsonl" | "ndjson" => return Some((Format::Jsonl, None)),
        "parquet" | "pq" => return Some((Format::Parquet, None)),
        "json" => return Some(sniff_json(head).unwrap_or((Format::Json, None))),
        _ => {}
    }
    sniff_json(head).or(Some((Format::Csv, None)))
}

fn sniff_json(head: &[u8]) -> Option<(Format, Option<u8>)> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        return Some((Format::Json, None));
    }
    if trimmed.starts_with('{') {
        // JSONL when the first line is a whole object and the next line starts another.
        let mut lines = trimmed.lines().filter(|l| !l.trim().is_empty());
        let first = lines.next().unwrap_or("");
        let second = lines.next().unwrap_or("");
        if serde_json::from_str::<serde_json::Value>(first).is_ok()
            && second.trim_start().starts_with('{')
        {
            return Some((Format::Jsonl, None));
        }
        if serde_json::from_str::<serde_json::Value>(first).is_ok() && second.is_empty() {
            return Some((Format::Jsonl, None));
        }
        return Some((Format::Json, None));
    }
    None
}
