//! `vigil chat import` and `vigil chat search`, end to end through the
//! binary: on SQLite always, and on PostgreSQL when `VIGIL_TEST_DATABASE_URL`
//! is set.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

struct Env {
    db: PathBuf,
    url: Option<String>,
    _dir: tempfile::TempDir,
}

impl Env {
    fn sqlite() -> Env {
        let dir = vigil_testkit::tempdir();
        Env {
            db: dir.path().join("vigil.db"),
            url: None,
            _dir: dir,
        }
    }

    async fn all() -> Vec<Env> {
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

    fn name(&self) -> &str {
        if self.url.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    fn cmd(&self, user: Option<&str>, args: &[&str]) -> Command {
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
    fn run(&self, user: Option<&str>, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
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

    fn ok(&self, user: &str, args: &[&str]) -> String {
        let (code, out, err) = self.run(Some(user), args, None);
        assert_eq!(code, 0, "{} vigil {args:?} failed: {err}", self.name());
        out
    }

    fn json(&self, user: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        serde_json::from_str(&self.ok(user, &full)).expect("valid JSON")
    }

    fn init(&self) {
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

/// A small log the way irssi writes it (default theme, `HH:MM` stamps).
const IRSSI_LOG: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:40 -!- mode/#hideout [+o darkfox] by ChanBoss
23:41 <@ChanBoss> welcome back
23:41 <@darkfox> ty. mail me at fox.trader@example.com
23:42 < nightowl> darkfox: got the new set?
23:43  * darkfox checks the folder
23:44 -!- darkfox is now known as dfox
23:45 <@dfox> the zebra password changed
--- Log closed Mon Mar 02 23:50:00 2009
";

#[tokio::test]
async fn import_is_idempotent_refuses_non_logs_and_search_respects_cases() {
    for env in Env::all().await {
        env.init();
        env.ok(
            "alice",
            &[
                "agency",
                "add",
                "--name",
                "NCA CEOP",
                "--country",
                "GB",
                "--contact",
                "ceop@example.uk",
            ],
        );
        env.ok("alice", &["user", "add", "uc1", "--roles", "investigator"]);
        env.ok(
            "alice",
            &[
                "user",
                "add",
                "bob",
                "--agency",
                "NCA CEOP",
                "--roles",
                "investigator",
            ],
        );
        let case = env.json("uc1", &["case", "create", "--title", "Room #hideout"]);
        let case_id = case["id"].as_i64().unwrap().to_string();
        let log = env._dir.path().join("hideout.log");
        std::fs::write(&log, IRSSI_LOG).unwrap();
        let log = log.to_str().unwrap();

        let first = env.json(
            "uc1",
            &[
                "chat",
                "import",
                log,
                "--case",
                &case_id,
                "--officer-handle",
                "ChanBoss",
            ],
        );
        assert_eq!(first["format"], "irssi", "{}", env.name());
        assert_eq!(first["messages"].as_array().unwrap().len(), 5);
        assert_eq!(first["stored"]["messages_added"], 5);
        // ChanBoss, darkfox (renamed dfox, one participant or two) and nightowl.
        assert!(first["stored"]["persons_added"].as_u64().unwrap() >= 3);
        assert!(
            first["operators"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["nick"] == "darkfox")
        );
        assert_eq!(first["nick_changes"].as_array().unwrap().len(), 1);
        assert!(first["unparsed_lines"].as_array().unwrap().is_empty());
        let emails: Vec<&Value> = first["identifiers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["value"] == "fox.trader@example.com")
            .collect();
        assert_eq!(emails.len(), 1, "{first}");

        // Re-import adds nothing.
        let again = env.json("uc1", &["chat", "import", log, "--case", &case_id]);
        assert_eq!(again["stored"]["messages_added"], 0, "{}", env.name());
        assert_eq!(again["stored"]["persons_added"], 0);
        assert_eq!(again["stored"]["identifiers_added"], 0);
        assert_eq!(again["stored"]["facts_added"], 0);

        // Not a log: refused with exit 2, nothing stored.
        let junk = env._dir.path().join("notes.txt");
        std::fs::write(&junk, "shopping list\nmilk\neggs and bread\n").unwrap();
        let (code, _, err) = env.run(
            Some("uc1"),
            &["chat", "import", junk.to_str().unwrap(), "--case", &case_id],
            None,
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("not a chat log"), "{err}");
        let all = env.json("uc1", &["chat", "search", ""]);
        assert_eq!(all["total"], 5, "{}: {all}", env.name());

        // Another agency's user can neither import into the case nor see it.
        let (code, _, _) = env.run(
            Some("bob"),
            &["chat", "import", log, "--case", &case_id],
            None,
        );
        assert_eq!(code, 2);

        // Search finds the word, with a highlighted snippet, only for readers.
        let hits = env.json("uc1", &["chat", "search", "zebra"]);
        assert_eq!(hits["total"], 1, "{hits}");
        let hit = &hits["hits"][0];
        assert_eq!(hit["handle"], "dfox");
        assert!(hit["snippet"].as_str().unwrap().contains("zebra"));
        assert!(
            hit["snippet_html"]
                .as_str()
                .unwrap()
                .contains("<mark>zebra</mark>"),
            "{hit}"
        );
        let filtered = env.json("uc1", &["chat", "search", "zebra", "--handle", "nightowl"]);
        assert_eq!(filtered["total"], 0);
        let theirs = env.json("bob", &["chat", "search", "zebra"]);
        assert_eq!(theirs["total"], 0, "{}: {theirs}", env.name());
        let human = env.ok("uc1", &["chat", "search", "zebra"]);
        assert!(human.contains("[zebra]"), "{human}");
    }
}
