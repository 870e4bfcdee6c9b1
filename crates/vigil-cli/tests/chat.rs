//! `vigil chat import` and `vigil chat search`, end to end through the
//! binary: on SQLite always, and on PostgreSQL when `VIGIL_TEST_DATABASE_URL`
//! is set.

use serde_json::Value;

mod common;
use common::Env;

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
