//! `vigil audit checkpoint`, checked by the real `minisign` tool, and
//! `vigil retention review` — on SQLite and, when `VIGIL_TEST_DATABASE_URL`
//! is set, PostgreSQL.

use std::process::Command;

use crate::common;
use common::Env;

fn have_minisign() -> bool {
    Command::new("minisign").arg("-v").output().is_ok()
}

#[tokio::test]
async fn an_exported_checkpoint_verifies_with_minisign_and_audit_verify_counts_it() {
    for env in Env::all().await {
        env.init();
        env.ok("alice", &["user", "add", "sam", "--roles", "supervisor"]);
        env.ok("sam", &["case", "create", "--title", "Room Wren"]);
        // No key yet: a clear error, exit 2.
        let (code, _, err) = env.run(Some("alice"), &["audit", "checkpoint"], None);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("vigil keys generate"), "{err}");
        env.ok("alice", &["keys", "generate"]);
        // Investigators do not sign the log.
        env.ok("alice", &["user", "add", "ivan", "--roles", "investigator"]);
        let (code, _, err) = env.run(Some("ivan"), &["audit", "checkpoint"], None);
        assert_ne!(code, 0);
        assert!(err.contains("permission denied"), "{err}");

        let file = env._dir.path().join("cp.txt");
        let file_arg = file.to_str().unwrap();
        let cp = env.json("sam", &["audit", "checkpoint", "--export", file_arg]);
        let seq = cp["seq"].as_i64().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(&format!("seq: {seq}")), "{text}");
        assert!(text.contains(cp["hash"].as_str().unwrap()));
        let pk = cp["public_key"].as_str().unwrap().to_string();

        let v = env.json("sam", &["audit", "verify"]);
        assert_eq!(v["ok"], true, "{v}");
        assert_eq!(v["checkpoints"], 1);

        if !have_minisign() {
            eprintln!("SKIPPED: minisign not installed (apt-get install minisign)");
            continue;
        }
        let ok = Command::new("minisign")
            .args(["-V", "-P", &pk, "-m", file_arg])
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}: minisign rejected the checkpoint: {}",
            env.name(),
            String::from_utf8_lossy(&ok.stderr)
        );
        std::fs::write(&file, text.replace(&format!("seq: {seq}"), "seq: 1")).unwrap();
        let bad = Command::new("minisign")
            .args(["-V", "-P", &pk, "-m", file_arg])
            .output()
            .unwrap();
        assert!(
            !bad.status.success(),
            "minisign accepted an altered checkpoint"
        );
    }
}

#[tokio::test]
async fn retention_rules_are_set_on_cases_and_reviewed() {
    for env in Env::all().await {
        env.init();
        env.ok("alice", &["user", "add", "sam", "--roles", "supervisor"]);
        env.ok("alice", &["user", "add", "ivan", "--roles", "investigator"]);
        let case = env.json("ivan", &["case", "create", "--title", "Room Wren"]);
        let id = case["id"].to_string();
        let (code, _, err) = env.run(
            Some("ivan"),
            &["case", "update", &id, "--retention-until", "2031-01-01"],
            None,
        );
        assert_eq!(code, 2, "a date needs its basis: {err}");
        assert!(err.contains("retention-basis"), "{err}");
        let c = env.json(
            "ivan",
            &[
                "case",
                "update",
                &id,
                "--retention-until",
                "2031-01-01",
                "--retention-basis",
                "Criminal Records Act s.6",
            ],
        );
        assert_eq!(c["retention_until"], "2031-01-01");
        let due = env.json("sam", &["retention", "review", "--as-of", "2031-01-10"]);
        assert_eq!(due.as_array().unwrap().len(), 1, "{due}");
        assert_eq!(due[0]["days_overdue"], 9);
        assert_eq!(due[0]["retention_basis"], "Criminal Records Act s.6");
        let none = env.json("sam", &["retention", "review", "--as-of", "2030-12-31"]);
        assert!(none.as_array().unwrap().is_empty());
        let (code, _, err) = env.run(Some("ivan"), &["retention", "review"], None);
        assert_ne!(code, 0);
        assert!(err.contains("permission denied"), "{err}");
        let shown = env.ok("ivan", &["case", "show", &id]);
        assert!(shown.contains("retention: until 2031-01-01"), "{shown}");
    }
}
