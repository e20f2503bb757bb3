//! Test helpers: a temporary work directory, the path of the built binary, and `../shared`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (where Cargo.toml is).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `fixtures/`, as a string argument for redflag.
pub fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

/// `../shared` beside the repository, or None (tests that need it print why they skip).
pub fn shared() -> Option<PathBuf> {
    let p = repo().join("..").join("shared");
    p.join("data").is_dir().then_some(p)
}

/// Returns `../shared/<rel>` or prints a skip message and returns None.
pub fn shared_file(rel: &str) -> Option<PathBuf> {
    match shared() {
        Some(s) if s.join(rel).exists() => Some(s.join(rel)),
        _ => {
            eprintln!("skipping: ../shared/{rel} is not available");
            None
        }
    }
}

/// A temporary directory that is removed on drop, with helpers to write files and run redflag.
pub struct WorkDir {
    dir: tempfile::TempDir,
}

impl WorkDir {
    pub fn new() -> Self {
        WorkDir {
            dir: tempfile::tempdir().expect("create temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file (creating parent directories) and returns its path.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// A `redflag` command running in this directory.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_redflag"));
        c.current_dir(self.path());
        c
    }

    /// Runs redflag with `args` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run redflag")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `bytes` to `file` in `wd`, screens it to JSON lines (`extra` arguments added) and
/// returns the parsed lines and the exit code.
pub fn screen_jsonl_bytes(
    wd: &WorkDir,
    file: &str,
    bytes: &[u8],
    extra: &[&str],
) -> (Vec<serde_json::Value>, i32) {
    let p = wd.write(file, bytes);
    let mut args = vec![
        "screen",
        p.to_str().unwrap(),
        "--format",
        "jsonl",
        "--quiet",
    ];
    args.extend(extra);
    let o = wd.run(&args);
    let lines = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (lines, o.status.code().unwrap_or(-1))
}
