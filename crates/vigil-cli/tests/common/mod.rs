//! The `vigil` binary as an officer runs it, shared by the CLI test files:
//! a fresh database per test (SQLite always; PostgreSQL when
//! `VIGIL_TEST_DATABASE_URL` is set), an acting user per call, and the
//! exit code, stdout and stderr of every run.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

pub struct Env {
    pub db: PathBuf,
    pub url: Option<String>,
    pub _dir: tempfile::TempDir,
}

impl Env {
    pub fn sqlite() -> Env {
        let dir = vigil_testkit::tempdir();
        Env {
            db: dir.path().join("vigil.db"),
            url: None,
            _dir: dir,
        }
    }

    pub async fn all() -> Vec<Env> {
        let mut v = vec![Env::sqlite()];
        if let Some(url) = vigil_testkit::fresh_postgres_url().await {
            let dir = vigil_testkit::tempdir();
            v.push(Env {
                db: dir.path().join("unused.db"),
                url: Some(url),
                _dir: dir,
            });
        }
        v
    }

    pub fn name(&self) -> &str {
        if self.url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    pub fn cmd(&self, user: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
        c.env_remove("VIGIL_USER")
            .env_remove("VIGIL_DATABASE_URL")
            .env("VIGIL_DB", &self.db);
        if let Some(url) = &self.url {
            c.env("VIGIL_DATABASE_URL", url);
            // Keep each test database's index apart from the user's cache.
            c.env("VIGIL_SEARCH_DIR", self._dir.path().join("search"));
        } else {
            c.env_remove("VIGIL_SEARCH_DIR");
        }
        if let Some(u) = user {
            c.env("VIGIL_USER", u);
        }
        c.args(args);
        c
    }

    /// Runs vigil and returns (exit code, stdout, stderr).
    pub fn run(
        &self,
        user: Option<&str>,
        args: &[&str],
        stdin: Option<&str>,
    ) -> (i32, String, String) {
        let mut c = self.cmd(user, args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("vigil runs");
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn ok(&self, user: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(Some(user), args, None);
        assert_eq!(code, 0, "{} vigil {args:?} failed: {err}", self.name());
        out
    }

    pub fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(&self.ok(user, &full)).expect("valid JSON")
    }

    pub fn init(&self) {
        let (code, _, err) = self.run(
            None,
            &[
                "init",
                "--agency",
                "RCMP NCECC",
                "--country",
                "CA",
                "--admin",
                "alice",
                "--contact",
                "ncecc@example.ca",
                "--password-stdin",
            ],
            Some("a long passphrase\n"),
        );
        assert_eq!(code, 0, "init: {err}");
    }
}
