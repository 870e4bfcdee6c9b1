//! `vigil hashset` and `vigil match`, end to end through the binary, on
//! SQLite always and on PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const VICS: &[u8] = include_bytes!("../../vigil-hashset/tests/data/vics2_media.json");
const ICSE: &[u8] = include_bytes!("../../vigil-hashset/tests/data/icse.csv");

struct Env {
    db: PathBuf,
    url: Option<String>,
    dir: tempfile::TempDir,
}

impl Env {
    async fn all() -> Vec<Env> {
        let dir = vigil_testkit::tempdir();
        let mut v = vec![Env {
            db: dir.path().join("vigil.db"),
            url: None,
            dir,
        }];
        if let Some(url) = vigil_testkit::fresh_postgres_url().await {
            let dir = vigil_testkit::tempdir();
            v.push(Env {
                db: dir.path().join("unused.db"),
                url: Some(url),
                dir,
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

    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }

    fn run(&self, user: Option<&str>, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigil"));
        c.env_remove("VIGIL_USER")
            .env_remove("VIGIL_DATABASE_URL")
            .env("VIGIL_DB", &self.db)
            .env("VIGIL_CACHE_DIR", self.dir.path().join("cache"));
        if let Some(url) = &self.url {
            c.env("VIGIL_DATABASE_URL", url);
        }
        if let Some(u) = user {
            c.env("VIGIL_USER", u);
        }
        c.args(args)
            .stdin(Stdio::piped())
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
                "Example Unit",
                "--country",
                "CA",
                "--admin",
                "alice",
                "--password-stdin",
            ],
            Some("a long passphrase\n"),
        );
        assert_eq!(code, 0, "init: {err}");
        self.ok(
            "alice",
            &[
                "user",
                "add",
                "erin",
                "--roles",
                "forensic-examiner,supervisor",
            ],
        );
        self.ok("alice", &["user", "add", "ivan", "--roles", "investigator"]);
    }
}

fn entries_of(path: &Path) -> Vec<vigil_hashset::HashEntry> {
    let f = std::fs::File::open(path).unwrap();
    let (_, entries, errors) =
        vigil_hashset::import_all(f, &vigil_hashset::ImportOptions::default()).unwrap();
    assert!(errors.is_empty());
    entries
}

#[tokio::test]
async fn import_export_reimport_and_match() {
    for env in Env::all().await {
        env.init();
        let vics = env.file("set.json", VICS);
        let v = env.json(
            "erin",
            &[
                "hashset",
                "import",
                &vics,
                "--name",
                "vic",
                "--source",
                "test release",
            ],
        );
        assert_eq!(v["status"], "created", "{}", env.name());
        assert_eq!(v["added"], 4);
        // Same file again: idempotent.
        let v = env.json("erin", &["hashset", "import", &vics, "--name", "vic"]);
        assert_eq!(v["status"], "already-imported");
        assert_eq!(v["added"], 0);
        // No manage-hash-sets: refused.
        let (code, _, _) = env.run(
            Some("ivan"),
            &["hashset", "import", &vics, "--name", "x"],
            None,
        );
        assert_ne!(code, 0);

        // VICS export re-imports to the identical set.
        let out = env.dir.path().join("export.json");
        env.ok(
            "erin",
            &[
                "hashset",
                "export",
                "vic",
                "--format",
                "vics",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        let original = entries_of(Path::new(&vics));
        let exported = entries_of(&out);
        assert_eq!(original.len(), exported.len());
        for (a, b) in original.iter().zip(&exported) {
            assert!(a.same_content(b), "{a:#?}\n{b:#?}");
        }
        let v = env.json(
            "erin",
            &[
                "hashset",
                "import",
                out.to_str().unwrap(),
                "--name",
                "vic-copy",
            ],
        );
        assert_eq!(v["added"], 4);

        // ICSE with explicit format.
        let icse = env.file("icse.csv", ICSE);
        let v = env.json(
            "erin",
            &[
                "hashset", "import", &icse, "--name", "icse", "--format", "icse-csv",
            ],
        );
        assert_eq!(v["added"], 3);
        let icse_out = env.dir.path().join("icse-out.csv");
        env.ok(
            "erin",
            &[
                "hashset",
                "export",
                "icse",
                "--format",
                "icse-csv",
                "--out",
                icse_out.to_str().unwrap(),
            ],
        );
        let a = entries_of(Path::new(&icse));
        let b = entries_of(&icse_out);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert!(x.same_content(y), "{x:#?}\n{y:#?}");
        }

        let list = env.json("erin", &["hashset", "list"]);
        assert_eq!(list.as_array().unwrap().len(), 3);
        let show = env.json("erin", &["hashset", "show", "vic"]);
        assert_eq!(show["imports"][0]["imported_by"], "erin");
        assert_eq!(show["imports"][0]["source"], "test release");

        // Exact match by MD5: set, entry, category.
        let m = env.json(
            "erin",
            &["match", "--md5", "3524FF4E84BC9A63522832E83BE44967"],
        );
        let matches = m[0]["matches"].as_array().unwrap();
        assert_eq!(matches.len(), 2, "vic and vic-copy");
        assert_eq!(matches[0]["media_id"], "1");
        assert_eq!(matches[0]["category"], "csam");
        assert_eq!(matches[0]["kind"], "md5");

        // PDQ near-duplicates with distances, from a PDQ list.
        let pdq = "75517d909253a2d6853d4abcfc342a2465666e8a711a4ce164a647462cc2c23f";
        let near = format!("{}4", &pdq[..63]); // last nibble f -> 4: 3 bits differ
        let v = env.json("erin", &["match", "--pdq", &near]);
        let matches = v[0]["matches"].as_array().unwrap();
        assert!(!matches.is_empty());
        assert_eq!(matches[0]["distance"], 3);
        assert_eq!(matches[0]["kind"], "pdq");
        let list = env.file(
            "queries.txt",
            format!("{near},30\n{}\n", "0".repeat(64)).as_bytes(),
        );
        let (code, stdout, err) = env.run(
            Some("erin"),
            &["--json", "match", "--pdq-list", &list],
            None,
        );
        assert_eq!(code, 0, "{err}");
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["unreliable"], true);
        assert_eq!(lines[0]["matches"][0]["distance"], 3);
        assert!(lines[1]["matches"].as_array().unwrap().is_empty());
        // --max-distance narrows.
        let v = env.json("erin", &["match", "--pdq", &near, "--max-distance", "2"]);
        assert!(v[0]["matches"].as_array().unwrap().is_empty());
        // --file: the digests of a file.
        let f = env.file("blob.bin", b"synthetic bytes, not an image");
        let v = env.json("erin", &["match", "--file", &f]);
        assert_eq!(v.as_array().unwrap().len(), 3);

        env.ok("erin", &["hashset", "delete", "vic-copy"]);
        let list = env.json("erin", &["hashset", "list"]);
        assert_eq!(list.as_array().unwrap().len(), 2);
    }
}

#[tokio::test]
async fn malformed_files_report_lines_and_keep_or_refuse() {
    let bad = br#"{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
"value":[
{"MediaID":1,"MD5":"00112233445566778899aabbccddeeff","Category":1},
{"MediaID":2,"MD5":"0011","Category":1},
{"MediaID":3,"MD5":"10112233445566778899aabbccddeeff","Category":9}
]}"#;
    let truncated = br#"{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
"value":[
{"MediaID":9,"MD5":"30112233445566778899aabbccddeeff","Category":1},"#;
    for env in Env::all().await {
        env.init();
        let f = env.file("bad.json", bad);
        let (code, stdout, stderr) = env.run(
            Some("erin"),
            &["--json", "hashset", "import", &f, "--name", "bad"],
            None,
        );
        assert_eq!(code, 0, "{} {stderr}", env.name());
        assert!(stderr.contains(&format!("{f}:4: ")), "{stderr}");
        assert!(stderr.contains(&format!("{f}:5: ")), "{stderr}");
        let v: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            (v["added"].as_u64(), v["errors"].as_u64()),
            (Some(1), Some(2))
        );

        let t = env.file("truncated.json", truncated);
        let (code, _, stderr) = env.run(
            Some("erin"),
            &["hashset", "import", &t, "--name", "bad", "--replace"],
            None,
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(&format!("{t}:")), "{stderr}");
        let show = env.json("erin", &["hashset", "show", "bad"]);
        assert_eq!(show["set"]["entries"], 1, "refused import changed nothing");
    }
}
