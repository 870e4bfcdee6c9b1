//! `vigil chat import` and `vigil chat search`, end to end through the
//! binary: on SQLite always, and on PostgreSQL when `VIGIL_TEST_DATABASE_URL`
//! is set.

use serde_json::Value;

use crate::common;
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

/// Room one, hosted by `g.o.d` from 203.0.113.7.
const ROOM_ONE: &str = "--- Log opened Sun Mar 01 20:00:00 2009
20:01 -!- g.o.d [~god@203.0.113.7] has joined #pics
20:01 -!- mode/#pics [+o g.o.d] by ChanServ
20:02 -!- lurker7 [~lurk@198.51.100.20] has joined #pics
20:03 <@g.o.d> rules are in the topic
20:04 < lurker7> hi all
--- Log closed Sun Mar 01 23:00:00 2009
";

/// Room two, a few hours later: `Son_of_G0d` hosts from the same address.
const ROOM_TWO: &str = "--- Log opened Mon Mar 02 01:00:00 2009
01:02 -!- Son_of_G0d [~son@203.0.113.7] has joined #newpics
01:02 -!- mode/#newpics [+o Son_of_G0d] by ChanServ
01:03 -!- quietone [~q@192.0.2.55] has joined #newpics
01:05 <@Son_of_G0d> new room, same rules
01:06 < quietone> ok
--- Log closed Mon Mar 02 03:00:00 2009
";

/// A nick change inside one log: a certain link between the two handles.
const NICK_CHANGE: &str = "--- Log opened Tue Mar 03 21:00:00 2009
21:01 -!- g.o.d [~god@192.0.2.99] has joined #third
21:02 <g.o.d> back soon
21:03 -!- g.o.d is now known as Son_of_G0d
21:04 <Son_of_G0d> back
--- Log closed Tue Mar 03 22:00:00 2009
";

fn import_log(env: &Env, user: &str, case: &str, name: &str, text: &str) -> Value {
    let path = env._dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    env.json(
        user,
        &["chat", "import", path.to_str().unwrap(), "--case", case],
    )
}

fn person_id(env: &Env, user: &str, case: &str, label: &str) -> i64 {
    let persons = env.json(user, &["person", "list", "--case", case]);
    persons
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == label)
        .unwrap_or_else(|| panic!("{}: no person {label} in {persons}", env.name()))["id"]
        .as_i64()
        .unwrap()
}

fn pair(list: &Value, a: i64, b: i64) -> Option<&Value> {
    list.as_array().unwrap().iter().find(|c| {
        let (x, y) = (c["person_a"]["id"].as_i64(), c["person_b"]["id"].as_i64());
        (x, y) == (Some(a), Some(b)) || (x, y) == (Some(b), Some(a))
    })
}

#[tokio::test]
async fn chat_import_links_handles_across_rooms_and_nick_changes_are_certain() {
    for env in Env::all().await {
        let name = env.name().to_string();
        env.init();
        let case = |t: &str| {
            env.json("alice", &["case", "create", "--title", t])["id"]
                .as_i64()
                .unwrap()
                .to_string()
        };
        let (c1, c2, c3) = (
            case("Room #pics"),
            case("Room #newpics"),
            case("Room #third"),
        );
        import_log(&env, "alice", &c1, "pics.log", ROOM_ONE);
        import_log(&env, "alice", &c2, "newpics.log", ROOM_TWO);
        let god = person_id(&env, "alice", &c1, "g.o.d");
        let son = person_id(&env, "alice", &c2, "Son_of_G0d");

        let list = env.json("alice", &["link", "candidates"]);
        let c = pair(&list, god, son).unwrap_or_else(|| panic!("{name}: {list}"));
        let kinds: Vec<&str> = c["evidence"]
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
        let text = c.to_string();
        assert!(text.contains("203.0.113.7"), "{name}: {text}");
        assert!(text.contains("pics.log:2"), "{name}: {text}");
        assert!(text.contains("newpics.log:2"), "{name}: {text}");
        assert_eq!(c["certain"], false, "{name}: {text}");
        // The lurkers share nothing: no candidate between them.
        let l7 = person_id(&env, "alice", &c1, "lurker7");
        let q1 = person_id(&env, "alice", &c2, "quietone");
        assert!(pair(&list, l7, q1).is_none(), "{name}: {list}");

        // The host's IP is an exact link between the two cases.
        let shown = env.json("alice", &["person", "show", &son.to_string()]);
        let links = shown["exact_links"].as_array().unwrap();
        assert!(
            links.iter().any(|l| l["normalized"] == "203.0.113.7"
                && l["other"]["case_id"] == c1.parse::<i64>().unwrap()),
            "{name}: {shown}"
        );

        // A nick change inside one log is a certain link.
        import_log(&env, "alice", &c3, "third.log", NICK_CHANGE);
        let old = person_id(&env, "alice", &c3, "g.o.d");
        let new = person_id(&env, "alice", &c3, "Son_of_G0d");
        let list = env.json("alice", &["link", "candidates"]);
        let c = pair(&list, old, new).unwrap_or_else(|| panic!("{name}: {list}"));
        assert_eq!(c["certain"], true, "{name}: {c}");
        assert!(c.to_string().contains("third.log:4"), "{name}: {c}");

        // Re-importing adds nothing and raises nothing.
        let alerts_before = env.json("alice", &["alerts"]).as_array().unwrap().len();
        let again = import_log(&env, "alice", &c2, "newpics.log", ROOM_TWO);
        assert_eq!(again["stored"]["identifiers_added"], 0, "{name}");
        assert_eq!(again["stored"]["persons_added"], 0, "{name}");
        let alerts_after = env.json("alice", &["alerts"]).as_array().unwrap().len();
        assert_eq!(alerts_before, alerts_after, "{name}");
    }
}

#[tokio::test]
async fn an_email_arriving_by_chat_import_raises_blind_hits_both_ways() {
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
        // NCA holds the address in a case RCMP cannot see.
        let cb = env.json("bob", &["case", "create", "--title", "UK seizure"])["id"].to_string();
        let pb = env.json(
            "bob",
            &[
                "person",
                "add",
                "--case",
                &cb,
                "--role",
                "suspect",
                "--label",
                "uk_suspect",
            ],
        )["id"]
            .to_string();
        env.ok(
            "bob",
            &[
                "identifier",
                "add",
                "--person",
                &pb,
                "--kind",
                "email",
                "fox.trader@example.com",
            ],
        );
        // RCMP imports a log in which darkfox gives that address as his own.
        let ca =
            env.json("alice", &["case", "create", "--title", "Room #hideout"])["id"].to_string();
        let r = import_log(&env, "alice", &ca, "hideout.log", IRSSI_LOG);
        assert!(r["stored"]["identifiers_added"].as_u64().unwrap() >= 1);

        let alice = env.json("alice", &["alerts", "--unread"]);
        let mine: Vec<&Value> = alice
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "email")
            .collect();
        assert_eq!(mine.len(), 1, "{name}: {alice}");
        assert_eq!(mine[0]["other"]["visibility"], "blind", "{name}");
        assert_eq!(mine[0]["other"]["agency"], "NCA CEOP", "{name}");
        assert_eq!(mine[0]["other"]["contact"], "ceop@example.uk", "{name}");
        assert!(
            !alice.to_string().contains("UK seizure") && !alice.to_string().contains("uk_suspect"),
            "{name}: {alice}"
        );

        let bob = env.json("bob", &["alerts", "--unread"]);
        let theirs: Vec<&Value> = bob
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "email")
            .collect();
        assert_eq!(theirs.len(), 1, "{name}: {bob}");
        assert_eq!(theirs[0]["other"]["visibility"], "blind", "{name}");
        assert_eq!(theirs[0]["other"]["agency"], "RCMP NCECC", "{name}");
        let text = bob.to_string();
        assert!(
            !text.contains("hideout") && !text.contains("darkfox"),
            "{name}: {text}"
        );

        // A second import of the same log raises no further alert.
        import_log(&env, "alice", &ca, "hideout.log", IRSSI_LOG);
        let again = env.json("bob", &["alerts"]);
        assert_eq!(
            again.as_array().unwrap().len(),
            bob.as_array().unwrap().len(),
            "{name}"
        );
    }
}

/// Hits in message-id order (equal scores come back in any order).
fn by_id(page: &Value) -> Vec<Value> {
    let mut hits = page["hits"].as_array().unwrap().clone();
    hits.sort_by_key(|h| h["message_id"].as_i64());
    hits
}

#[tokio::test]
async fn reindex_rebuilds_a_deleted_search_index() {
    for env in Env::all().await {
        let name = env.name().to_string();
        env.init();
        let c1 =
            env.json("alice", &["case", "create", "--title", "Room #hideout"])["id"].to_string();
        let c2 = env.json("alice", &["case", "create", "--title", "Room #pics"])["id"].to_string();
        import_log(&env, "alice", &c1, "hideout.log", IRSSI_LOG);
        import_log(&env, "alice", &c2, "pics.log", ROOM_ONE);
        let before = env.json("alice", &["chat", "search", "zebra OR rules"]);
        assert_eq!(before["total"], 2, "{name}: {before}");
        let all_before = env.json("alice", &["chat", "search", ""]);

        // The index lives beside the SQLite file, or in VIGIL_SEARCH_DIR.
        let dir = match env.url {
            None => {
                let mut s = env.db.clone().into_os_string();
                s.push(".search");
                std::path::PathBuf::from(s)
            }
            Some(_) => env._dir.path().join("search"),
        };
        assert!(dir.is_dir(), "{name}: {}", dir.display());
        std::fs::remove_dir_all(&dir).unwrap();
        let gone = env.json("alice", &["chat", "search", "zebra OR rules"]);
        assert_eq!(gone["total"], 0, "{name}: {gone}");

        let r = env.json("alice", &["chat", "reindex"]);
        assert_eq!(r["messages"], 7, "{name}: {r}");
        assert_eq!(r["indexed"], 7, "{name}: {r}");
        let after = env.json("alice", &["chat", "search", "zebra OR rules"]);
        assert_eq!(by_id(&after), by_id(&before), "{name}");
        let all_after = env.json("alice", &["chat", "search", ""]);
        assert_eq!(by_id(&all_after), by_id(&all_before), "{name}");
        assert_eq!(by_id(&all_after).len(), 7, "{name}");

        // One case again: replaces its documents, adds no duplicates.
        let r = env.json("alice", &["chat", "reindex", "--case", &c1]);
        assert_eq!(r["messages"], 5, "{name}: {r}");
        assert_eq!(r["indexed"], 7, "{name}: {r}");
        // A user who cannot read the case cannot rebuild (or learn) it.
        env.ok("alice", &["user", "add", "uc2", "--roles", "investigator"]);
        let (code, _, err) = env.run(Some("uc2"), &["chat", "reindex", "--case", &c1], None);
        assert_ne!(code, 0, "{name}: {err}");
        assert!(err.contains("permission denied"), "{name}: {err}");
    }
}
