//! The `vigil` binary, end to end, as an officer would run it: on SQLite
//! always, and on PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::Command;

use crate::common;
use common::Env;

#[tokio::test]
async fn records_work_end_to_end_and_lookup_finds_every_holder() {
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
        let case = env.json(
            "uc1",
            &[
                "case",
                "create",
                "--title",
                "Room #kidz",
                "--operation",
                "Op Hydrant",
                "--release",
                "operation",
            ],
        );
        let case_id = case["id"].as_i64().unwrap().to_string();
        let p = env.json(
            "uc1",
            &[
                "person", "add", "--case", &case_id, "--role", "suspect", "--label", "G.O.D.",
            ],
        );
        let pid = p["id"].as_i64().unwrap().to_string();
        env.ok(
            "uc1",
            &[
                "identifier",
                "add",
                "--person",
                &pid,
                "--kind",
                "email",
                "Host.God@Example.ORG",
            ],
        );
        env.ok(
            "uc1",
            &[
                "identifier",
                "add",
                "--person",
                &pid,
                "--kind",
                "ip",
                "198.51.100.23",
                "--port",
                "6667",
                "--first-seen",
                "2008-03-01T20:00:00-05:00",
            ],
        );
        env.ok(
            "uc1",
            &[
                "event",
                "add",
                "--person",
                &pid,
                "--kind",
                "arrest",
                "--date",
                "2008-06-01",
                "--country",
                "GB",
            ],
        );

        // agency B's officer holds the same e-mail in a case of the same operation
        let case_b = env.json(
            "bob",
            &[
                "case",
                "create",
                "--title",
                "UK host",
                "--operation",
                "Op Hydrant",
                "--release",
                "operation",
            ],
        );
        let pb = env.json(
            "bob",
            &[
                "person",
                "add",
                "--case",
                &case_b["id"].to_string(),
                "--role",
                "suspect",
                "--label",
                "Son of God",
            ],
        );
        env.ok(
            "bob",
            &[
                "identifier",
                "add",
                "--person",
                &pb["id"].to_string(),
                "--kind",
                "email",
                "host.god@example.org",
            ],
        );

        let r = env.json("uc1", &["identifier", "lookup", "HOST.god@example.org"]);
        let hits = r["hits"].as_array().unwrap();
        assert_eq!(hits.len(), 2, "{}: {r}", env.name());
        let agencies: Vec<&str> = hits
            .iter()
            .map(|h| h["agency"]["name"].as_str().unwrap())
            .collect();
        assert!(agencies.contains(&"RCMP NCECC") && agencies.contains(&"NCA CEOP"));
        let persons: Vec<&str> = hits
            .iter()
            .map(|h| h["person"]["label"].as_str().unwrap())
            .collect();
        assert!(persons.contains(&"G.O.D.") && persons.contains(&"Son of God"));
        assert!(hits.iter().all(|h| h["case"]["title"].is_string()));

        let shown = env.json("uc1", &["person", "show", &pid]);
        assert_eq!(shown["identifiers"].as_array().unwrap().len(), 2);
        assert_eq!(
            shown["identifiers"][1]["first_seen"],
            "2008-03-02T01:00:00.000000Z"
        );
        assert_eq!(shown["events"][0]["kind"], "arrest");
        // human output works too
        assert!(env.ok("uc1", &["person", "show", &pid]).contains("G.O.D."));
        assert!(env.ok("uc1", &["case", "list"]).contains("Room #kidz"));
        let v = env.json("alice", &["audit", "verify"]);
        assert_eq!(v["ok"], true);
    }
}

fn audit_entries(env: &Env) -> i64 {
    env.json("alice", &["audit", "verify"])["entries"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn bad_input_names_field_and_value_exits_2_and_changes_nothing() {
    for env in Env::all().await {
        env.init();
        let case = env.json("alice", &["case", "create", "--title", "T"]);
        let cid = case["id"].to_string();
        let p = env.json(
            "alice",
            &[
                "person", "add", "--case", &cid, "--role", "suspect", "--label", "x",
            ],
        );
        let pid = p["id"].to_string();
        let before = audit_entries(&env);
        let cases: &[(&[&str], &str)] = &[
            (
                &["agency", "add", "--name", "Y", "--country", "UK"],
                "country \"UK\"",
            ),
            (
                &[
                    "identifier",
                    "add",
                    "--person",
                    &pid,
                    "--kind",
                    "ip",
                    "192.0.2.300",
                ],
                "\"192.0.2.300\"",
            ),
            (
                &[
                    "identifier",
                    "add",
                    "--person",
                    &pid,
                    "--kind",
                    "email",
                    "nobody.example.org",
                ],
                "\"nobody.example.org\"",
            ),
            (
                &[
                    "person", "add", "--case", "4242", "--role", "suspect", "--label", "x",
                ],
                "case 4242 not found",
            ),
            (
                &[
                    "event",
                    "add",
                    "--person",
                    "4242",
                    "--kind",
                    "arrest",
                    "--date",
                    "2008-01-01",
                    "--country",
                    "CA",
                ],
                "person 4242 not found",
            ),
            (
                &[
                    "event",
                    "add",
                    "--person",
                    &pid,
                    "--kind",
                    "arrest",
                    "--date",
                    "2008-02-30",
                    "--country",
                    "CA",
                ],
                "date \"2008-02-30\"",
            ),
            (
                &[
                    "event",
                    "add",
                    "--person",
                    &pid,
                    "--kind",
                    "arest",
                    "--date",
                    "2008-02-03",
                    "--country",
                    "CA",
                ],
                "kind \"arest\"",
            ),
        ];
        for (args, expected) in cases {
            let (code, out, err) = env.run(Some("alice"), args, None);
            assert_eq!(code, 2, "{}: {args:?} -> {err}", env.name());
            assert!(out.is_empty(), "{args:?} printed {out}");
            assert_eq!(
                err.trim().lines().count(),
                1,
                "one-line error for {args:?}: {err}"
            );
            assert!(
                err.contains(expected),
                "{args:?}: {err:?} should mention {expected}"
            );
        }
        assert_eq!(
            audit_entries(&env),
            before,
            "{}: nothing changed",
            env.name()
        );
        // a missing acting user is bad usage too
        let (code, _, err) = env.run(None, &["case", "list"], None);
        assert_eq!(code, 2, "{err}");
    }
}

fn backup_body(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[1..lines.len() - 1].to_vec()
}

#[tokio::test]
async fn backup_while_writing_restores_to_an_identical_database() {
    let env = Env::sqlite();
    env.init();
    let case = env.json("alice", &["case", "create", "--title", "busy"]);
    let cid = case["id"].to_string();
    // a second process keeps writing while the backup runs
    let script = format!(
        "for i in $(seq 1 40); do {} person add --case {cid} --role suspect --label \"p$i\" >/dev/null || exit 1; done",
        env!("CARGO_BIN_EXE_vigil")
    );
    let mut writer = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .env("VIGIL_DB", &env.db)
        .env("VIGIL_USER", "alice")
        .env_remove("VIGIL_DATABASE_URL")
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let backup = env._dir.path().join("snap.vigil-backup");
    env.ok("alice", &["backup", backup.to_str().unwrap()]);
    assert!(writer.wait().unwrap().success(), "writer failed");

    let restored = env._dir.path().join("restored.db");
    let (code, _, err) = env.run(
        Some("alice"),
        &[
            "--db",
            restored.to_str().unwrap(),
            "restore",
            backup.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "restore: {err}");
    // back up the restored database and compare row for row
    let again = env._dir.path().join("again.vigil-backup");
    env.ok(
        "alice",
        &[
            "--db",
            restored.to_str().unwrap(),
            "backup",
            again.to_str().unwrap(),
        ],
    );
    let a = backup_body(&backup);
    let b = backup_body(&again);
    // (each backup's own audit entry is written after its snapshot, so
    // neither dump contains it)
    assert_eq!(b, a);
    // and the restored audit chain verifies
    let v = env.json(
        "alice",
        &["--db", restored.to_str().unwrap(), "audit", "verify"],
    );
    assert_eq!(v["ok"], true);
    // restoring over an existing file is refused
    let (code, _, _) = env.run(
        Some("alice"),
        &[
            "--db",
            restored.to_str().unwrap(),
            "restore",
            backup.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 2);
}
