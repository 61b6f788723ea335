//! Where tests find the real datasets: `../shared/data` beside the checkout (CI has it).
//! Shared by the `shelf` and `shelf-cli` test binaries (`#[path]`), so both skip and fail
//! the same way.

use std::path::PathBuf;

/// `rel` under the shared data folder; `None` (with a printed reason) when it is missing,
/// and a failure when `CI` is set, since CI must run the real-data tests.
pub fn data(rel: &str) -> Option<PathBuf> {
    // The crate directory as `cargo test` reports it when the test runs: the compile-time
    // value would be wrong when a shared target dir holds a binary built from a checkout at
    // another path. Both crates sit in crates/<name>, three levels below the shared folder's
    // parent.
    let crate_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let p = crate_dir.join("../../../shared/data").join(rel);
    if p.exists() {
        return Some(p);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but the real dataset {} is missing",
        p.display()
    );
    eprintln!("skipping: {} not found", p.display());
    None
}
