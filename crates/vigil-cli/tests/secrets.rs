//! Passwords and API tokens never reach stderr, the audit log as text, or
//! any later output of the `vigil` binary — on SQLite and, when
//! `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL. (The store suite scans
//! every column of every table: `vigil-store/tests/audit.rs`.)

use crate::common;
use common::Env;

#[tokio::test]
async fn secrets_are_shown_once_and_never_echoed() {
    for env in Env::all().await {
        env.init();
        let password = "Quartz-Lantern-Zebra-7731";
        let (code, out, err) = env.run(
            Some("alice"),
            &[
                "user",
                "add",
                "ivan",
                "--roles",
                "investigator",
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        );
        assert_eq!(code, 0, "{err}");
        let mut seen = format!("{out}{err}");
        // A refused second user with the same name and a password.
        let (code, out, err) = env.run(
            Some("alice"),
            &[
                "user",
                "add",
                "ivan",
                "--roles",
                "analyst",
                "--password-stdin",
            ],
            Some(&format!("{password}\n")),
        );
        assert_ne!(code, 0);
        seen.push_str(&out);
        seen.push_str(&err);
        // A password too short is refused without repeating it.
        let short = "Zq9xQ";
        let (code, out, err) = env.run(
            Some("alice"),
            &["user", "update", "ivan", "--password-stdin"],
            Some(&format!("{short}\n")),
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("password"), "{err}");
        seen.push_str(&out);
        seen.push_str(&err);
        // The token is printed once, on stdout, and nowhere after.
        let created = env.json("ivan", &["token", "create", "--name", "ci"]);
        let token = created["secret"]
            .as_str()
            .expect("token secret")
            .to_string();
        assert!(token.len() >= 32);
        for args in [
            &["token", "list"][..],
            &["--json", "token", "list"][..],
            &["token", "revoke", "999999"][..],
        ] {
            let (_, out, err) = env.run(Some("ivan"), args, None);
            seen.push_str(&out);
            seen.push_str(&err);
        }
        let (_, log, err) = env.run(Some("alice"), &["--json", "audit", "log"], None);
        seen.push_str(&log);
        seen.push_str(&err);
        for secret in [password, short, token.as_str(), "a long passphrase"] {
            assert!(
                !seen.contains(secret),
                "{}: a secret appeared in output or the audit log",
                env.name()
            );
        }
    }
}
