//! Running the binary in a scratch directory and reading back what it wrote.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::hash::{DefaultHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_shelf");

/// Ten ordinary products: no check should call any of them an error.
pub const CLEAN_CATALOG: &str = "\
item_id,title,price
A001,Organic whole milk 1 litre,1.49
A002,Free range eggs dozen pack,3.99
A003,Sourdough bread loaf 800g,2.75
A004,Greek yogurt natural 500g,2.10
A005,Cheddar cheese mature 400g,4.25
A006,Baby spinach leaves 200g,1.80
A007,Pink lady apples six pack,2.99
A008,Arabica coffee beans 1kg,12.50
A009,Dark chocolate bar 85 percent,1.95
A010,Extra virgin olive oil 500ml,6.40
";

/// A committed corpus file. The crate directory is read when the test runs:
/// the compile-time value is stale when a shared target dir holds a binary
/// built from a checkout at another path.
pub fn corpus(rel: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("tests")
        .join("corpus")
        .join(rel)
}

/// What one run of the binary did.
pub struct Run {
    pub cmdline: String,
    /// None when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "$ {}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.cmdline,
            self.code,
            truncate(&self.stdout, 4000),
            truncate(&self.stderr, 4000)
        )
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl Run {
    #[track_caller]
    pub fn expect_code(&self, want: i32) -> &Self {
        assert_eq!(self.code, Some(want), "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub fn expect_no_panic(&self) -> &Self {
        for bad in ["panicked", "RUST_BACKTRACE", "internal error"] {
            assert!(
                !self.stderr.contains(bad),
                "stderr shows a crash ({bad:?})\n{self}"
            );
        }
        assert_ne!(self.code, Some(101), "exit code 101 is a panic\n{self}");
        self
    }
}

/// A command line for the binary.
pub struct Cmd {
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    /// Environment variables to set (`Some`) or remove (`None`).
    env: Vec<(String, Option<String>)>,
}

/// `shelf ARGS…`.
pub fn shelf(args: &[&str]) -> Cmd {
    Cmd {
        args: args.iter().map(OsString::from).collect(),
        cwd: None,
        env: Vec::new(),
    }
}

impl Cmd {
    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_os_string());
        self
    }

    /// `FLAG VALUE`.
    pub fn opt(self, flag: &str, value: impl AsRef<OsStr>) -> Self {
        self.arg(flag).arg(value)
    }

    /// Sets `key` to `value` for this run, or removes it with `None`.
    pub fn env(mut self, key: &str, value: Option<&str>) -> Self {
        self.env.push((key.into(), value.map(Into::into)));
        self
    }

    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    /// The process, not started, for tests that wire stdio themselves.
    pub fn command(&self) -> Command {
        let mut c = Command::new(BIN);
        c.args(&self.args)
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null());
        if let Some(d) = &self.cwd {
            c.current_dir(d);
        }
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        c
    }

    pub fn cmdline(&self) -> String {
        let mut s = String::from("shelf");
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        s
    }

    pub fn run(&self) -> Run {
        let out = self
            .command()
            .output()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        Run {
            cmdline: self.cmdline(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A scratch directory for one test: inputs are written here and every audit runs here.
pub struct Work {
    dir: TempDir,
}

impl Work {
    pub fn new() -> Self {
        Self {
            dir: tempfile::Builder::new()
                .prefix("shelf-cli-test-")
                .tempdir()
                .expect("temp dir"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// Writes `bytes` to `name` (creating folders) and returns its path.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&p, bytes).expect("write test input");
        p
    }

    /// Copies a corpus file into the scratch directory under its own file name.
    pub fn copy(&self, rel: &str) -> PathBuf {
        let src = corpus(rel);
        let name = src.file_name().expect("file name").to_string_lossy();
        let bytes =
            std::fs::read(&src).unwrap_or_else(|e| panic!("corpus file {}: {e}", src.display()));
        self.write(&name, bytes)
    }

    /// `shelf audit --out OUT`, run in the scratch directory.
    pub fn audit(&self, out: &Path) -> Cmd {
        shelf(&["audit"]).opt("--out", out).in_dir(self.root())
    }
}

/// Entries an audit may leave behind next to its `--out` by mistake: staging directories and
/// moved-aside old outputs.
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with(".shelf-out-") || n.contains(".old-"))
        .collect()
}

/// Asserts the contract for an input shelf cannot use: exit 2, no crash, a one-paragraph
/// message on stderr that names `names` (the file, when there is one) and contains every hint
/// (case-insensitive; `a|b` means either), nothing on stdout, and no `--out` directory.
#[track_caller]
pub fn assert_refused(run: &Run, out: &Path, names: Option<&str>, hints: &[&str]) {
    run.expect_no_panic().expect_code(2);
    let err = run.stderr.trim();
    assert!(!err.is_empty(), "no message on stderr\n{run}");
    if let Some(name) = names {
        assert!(err.contains(name), "stderr does not name {name:?}\n{run}");
    }
    let lower = err.to_lowercase();
    for hint in hints {
        assert!(
            hint.split('|').any(|h| lower.contains(&h.to_lowercase())),
            "stderr lacks {hint:?}\n{run}"
        );
    }
    assert!(
        !err.contains("\n\n"),
        "the message should be one paragraph\n{run}"
    );
    assert!(
        run.stdout.trim().is_empty(),
        "stdout should stay empty on error\n{run}"
    );
    assert!(
        !out.exists(),
        "{} was created by a failed audit\n{run}",
        out.display()
    );
    if let Some(parent) = out.parent() {
        let left = leftovers(parent);
        assert!(
            left.is_empty(),
            "a failed audit left {left:?} behind\n{run}"
        );
    }
}

pub fn summary(out: &Path) -> Value {
    let p = out.join("summary.json");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

pub fn findings(out: &Path) -> Vec<Value> {
    let p = out.join("findings.jsonl");
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("findings.jsonl line {} is not JSON ({e}): {l}", i + 1))
        })
        .collect()
}

/// Findings with this code.
pub fn with_code<'a>(findings: &'a [Value], code: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["code"] == code).collect()
}

pub fn row_ids(finding: &Value) -> Vec<u64> {
    finding["row_ids"]
        .as_array()
        .unwrap_or_else(|| panic!("row_ids is not an array: {finding}"))
        .iter()
        .map(|v| {
            v.as_u64()
                .unwrap_or_else(|| panic!("row id {v} is not a u64"))
        })
        .collect()
}

/// `counts` of a summary as (error, warning, info).
pub fn counts(summary: &Value) -> (u64, u64, u64) {
    let c = &summary["counts"];
    let n = |k: &str| {
        c[k].as_u64()
            .unwrap_or_else(|| panic!("counts.{k} missing: {c}"))
    };
    (n("error"), n("warning"), n("info"))
}

/// Size, content hash and modification time of every file under `dir`, by relative path.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list dir") {
            let p = e.expect("dir entry").path();
            let meta = std::fs::metadata(&p).expect("stat");
            if meta.is_dir() {
                stack.push(p);
                continue;
            }
            let bytes = std::fs::read(&p).expect("read");
            let mut h = DefaultHasher::new();
            h.write(&bytes);
            out.insert(
                p.strip_prefix(dir).expect("under dir").to_path_buf(),
                (
                    bytes.len() as u64,
                    h.finish(),
                    meta.modified().expect("mtime"),
                ),
            );
        }
    }
    out
}
