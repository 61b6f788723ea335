//! Errors are failures of the tool, split by whose fault they are (STYLE.md §6).

use std::path::PathBuf;

/// Result alias used across shelf's libraries.
pub type ShelfResult<T> = Result<T, ShelfError>;

/// Why shelf could not do its job. Each variant's message names the file, the line or column
/// where there is one, and what the user can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ShelfError {
    /// The user asked for something that cannot work: bad config, unknown preset, missing role.
    #[error("{message}")]
    User { message: String },
    /// A file could not be read or written.
    #[error("{}: {message}: {source}", path.display())]
    Io {
        path: PathBuf,
        message: String,
        #[source]
        source: std::io::Error,
    },
    /// An input file is malformed in a way that stops shelf reading it (bad data *values* are
    /// findings, not errors).
    #[error("{}{}: {message}", path.display(), location(*line, column.as_deref()))]
    Input {
        path: PathBuf,
        line: Option<u64>,
        column: Option<String>,
        message: String,
    },
    /// A language-model backend could not answer: the server is down or answered nonsense, a
    /// model file is broken, or the backend was compiled out. `backend` is the backend's id.
    #[error("{backend}: {message}")]
    Backend { backend: String, message: String },
    /// A bug in shelf or in the engine under it.
    #[error("internal error (a bug in shelf, please report it): {0}")]
    Internal(String),
}

fn location(line: Option<u64>, column: Option<&str>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(", line {l}, column {c}"),
        (Some(l), None) => format!(", line {l}"),
        (None, Some(c)) => format!(", column {c}"),
        (None, None) => String::new(),
    }
}

impl ShelfError {
    /// A user error with the given message.
    pub fn user(message: impl Into<String>) -> Self {
        Self::User {
            message: message.into(),
        }
    }

    /// A malformed-input error.
    pub fn input(
        path: impl Into<PathBuf>,
        line: Option<u64>,
        column: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Input {
            path: path.into(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An I/O error on `path`.
    pub fn io(
        path: impl Into<PathBuf>,
        message: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        Self::Io {
            path: path.into(),
            message: message.into(),
            source,
        }
    }

    /// An error from the query engine while doing `what`. Running out of the configured memory
    /// is the user's to fix (a bigger `[run] memory_limit_mb`); anything else is a bug.
    pub fn engine(what: &str, e: impl std::fmt::Display) -> Self {
        let e = e.to_string();
        if e.contains("Resources exhausted") {
            Self::user(format!(
                "{what}: the engine needed more memory than [run] memory_limit_mb allows ({e}); \
                 raise memory_limit_mb in shelf.toml, or give the run a machine with more memory"
            ))
        } else {
            Self::internal(format!("{what}: {e}"))
        }
    }

    /// A language-model backend failure.
    pub fn backend(backend: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Backend {
            backend: backend.into(),
            message: message.into(),
        }
    }

    /// A bug.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_engine_memory_is_the_users_to_fix() {
        let e = ShelfError::engine(
            "query for DU001",
            "Resources exhausted: Failed to allocate additional 8.0 MB for HashJoinInput",
        );
        assert!(matches!(e, ShelfError::User { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.starts_with("query for DU001: "), "{msg}");
        assert!(msg.contains("memory_limit_mb"), "{msg}");
        let bug = ShelfError::engine("row checks", "Arrow error: cast failed");
        assert!(matches!(bug, ShelfError::Internal(_)), "{bug:?}");
    }
}
