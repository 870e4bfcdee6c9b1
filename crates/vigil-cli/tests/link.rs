//! `vigil link`, `vigil alerts` and `vigil person unmerge`, end to end, on
//! SQLite always and on PostgreSQL when `VIGIL_TEST_DATABASE_URL` is set.

#![allow(dead_code)]

use serde_json::Value;

use crate::common;
use common::Env;

fn num(s: &str) -> i64 {
    s.parse().unwrap()
}

fn id(v: &Value) -> String {
    v["id"].to_string()
}

fn person(env: &Env, user: &str, case: &str, label: &str) -> String {
    id(&env.json(
        user,
        &[
            "person", "add", "--case", case, "--role", "suspect", "--label", label,
        ],
    ))
}

fn ip(env: &Env, user: &str, person: &str, value: &str, first: &str, last: &str, src: &str) {
    env.ok(
        user,
        &[
            "identifier",
            "add",
            "--person",
            person,
            "--kind",
            "ip",
            value,
            "--first-seen",
            first,
            "--last-seen",
            last,
            "--source",
            src,
        ],
    );
}

#[tokio::test]
async fn candidates_are_explained_and_merge_unmerge_round_trips() {
    for env in Env::all().await {
        let name = env.name().to_string();
        env.init();
        let room1 = id(&env.json("alice", &["case", "create", "--title", "Room one"]));
        let room2 = id(&env.json("alice", &["case", "create", "--title", "Room two"]));
        let god = person(&env, "alice", &room1, "g.o.d");
        ip(
            &env,
            "alice",
            &god,
            "203.0.113.7",
            "2024-03-01T20:00:00Z",
            "2024-03-01T23:00:00Z",
            "room1.log:12",
        );
        person(&env, "alice", &room1, "quiet_lurker");
        let son = person(&env, "alice", &room2, "Son_of_G0d");
        ip(
            &env,
            "alice",
            &son,
            "203.0.113.7",
            "2024-03-01T22:00:00Z",
            "2024-03-02T01:00:00Z",
            "room2.log:41",
        );
        let c = env.json("alice", &["link", "candidates"]);
        let list = c.as_array().unwrap();
        let pair = list
            .iter()
            .find(|c| c["person_a"]["id"] == num(&god) && c["person_b"]["id"] == num(&son))
            .unwrap_or_else(|| panic!("{name}: {c}"));
        let kinds: Vec<&str> = pair["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert!(kinds.contains(&"ip-overlap"), "{name}: {kinds:?}");
        assert!(
            kinds.iter().any(|k| k.starts_with("handle-")),
            "{name}: {kinds:?}"
        );
        assert!(pair.to_string().contains("203.0.113.7"), "{name}");
        assert!(pair.to_string().contains("room1.log:12"), "{name}");
        let cid = pair["id"].to_string();

        let m = env.json("alice", &["link", "accept", &cid, "--note", "same host"]);
        assert_eq!(m["merged"].to_string(), son, "{name}");
        let shown = env.json("alice", &["person", "show", &son]);
        assert_eq!(shown["person"]["merged_into"].to_string(), god, "{name}");
        let (code, _, err) = env.run(Some("alice"), &["link", "accept", &cid], None);
        assert_eq!(code, 2, "{name}: {err}");
        env.json("alice", &["person", "unmerge", &son]);
        let shown = env.json("alice", &["person", "show", &son]);
        assert!(shown["person"]["merged_into"].is_null(), "{name}");
        assert_eq!(shown["identifiers"].as_array().unwrap().len(), 1, "{name}");
        env.ok("alice", &["link", "reject", &cid, "--note", "checked"]);
        let c = env.json("alice", &["link", "candidates", "--min-score", "0"]);
        let kept = c
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == num(&cid))
            .unwrap();
        assert_eq!(kept["status"], "rejected", "{name}");
    }
}

#[tokio::test]
async fn a_second_agency_gets_a_blind_hit_alert_and_so_does_the_first() {
    for env in Env::all().await {
        let name = env.name().to_string();
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
        let ca = id(&env.json("alice", &["case", "create", "--title", "Secret room A"]));
        let pa = person(&env, "alice", &ca, "hidden_host");
        env.ok(
            "alice",
            &[
                "identifier",
                "add",
                "--person",
                &pa,
                "--kind",
                "email",
                "God.Host@Example.org",
            ],
        );
        let cb = id(&env.json("bob", &["case", "create", "--title", "UK seizure"]));
        let pb = person(&env, "bob", &cb, "uk_suspect");
        env.ok(
            "bob",
            &[
                "identifier",
                "add",
                "--person",
                &pb,
                "--kind",
                "email",
                "god.host@example.org",
            ],
        );
        let bob = env.json("bob", &["alerts", "--unread"]);
        let list = bob.as_array().unwrap();
        assert_eq!(list.len(), 1, "{name}: {bob}");
        assert_eq!(list[0]["other"]["visibility"], "blind", "{name}");
        assert_eq!(list[0]["other"]["agency"], "RCMP NCECC", "{name}");
        assert_eq!(list[0]["other"]["contact"], "ncecc@example.ca", "{name}");
        let text = bob.to_string();
        assert!(
            !text.contains("Secret room A") && !text.contains("hidden_host"),
            "{name}: {text}"
        );

        let alice = env.json("alice", &["alerts"]);
        let list = alice.as_array().unwrap();
        assert_eq!(list.len(), 1, "{name}: {alice}");
        assert_eq!(list[0]["other"]["agency"], "NCA CEOP", "{name}");
        assert!(!alice.to_string().contains("UK seizure"), "{name}");
        let aid = list[0]["id"].to_string();
        env.ok("alice", &["alerts", "read", &aid]);
        assert!(
            env.json("alice", &["alerts", "--unread"])
                .as_array()
                .unwrap()
                .is_empty()
        );
        let (code, _, _) = env.run(Some("bob"), &["alerts", "read", &aid], None);
        assert_eq!(code, 2, "{name}: bob marked alice's alert");
    }
}
