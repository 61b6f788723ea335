//! The `shelf` binary as users and outside tools see it (CONTRACT.md): exit codes, the message
//! on stderr when an input cannot be read, the files `shelf audit` writes and their shape, the
//! encodings and containers it reads, row ids that join back to the user's own file, and
//! `shelf diff` on real and generated data.
//!
//! One test binary; the parts live under `tests/cli/`. Bad inputs that are small enough are
//! committed under `tests/corpus/` (see its README); the rest are written at test time into a
//! fresh temporary directory, which is also where every audit writes its `--out`.

#[path = "cli/support.rs"]
mod support;

#[path = "cli/bad_input.rs"]
mod bad_input;
#[path = "cli/commands.rs"]
mod commands;
#[path = "cli/contract.rs"]
mod contract;
#[path = "cli/diff.rs"]
mod diff;
#[path = "cli/lift.rs"]
mod lift;
#[path = "cli/reading.rs"]
mod reading;
#[path = "../../shelf/tests/support/real_data.rs"]
mod real_data;
