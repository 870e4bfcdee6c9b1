//! Chat-log import through the store, on SQLite and (with
//! `VIGIL_TEST_DATABASE_URL`) PostgreSQL: idempotence, what is stored about
//! the room, identifiers with their provenance and ownership, and refusal
//! across agencies.

use crate::common;

use common::{Backend, backends};
use sqlx::Row;
use vigil_chat::{ImportSummary, ParseOptions};
use vigil_domain::{IdentifierKind, Principal, Release};
use vigil_store::{ChatImportRequest, Store, StoreError};

/// A log the way irssi writes it: a join with hostmask, an operator grant,
/// an owned and a mentioned e-mail, an action and a nick change.
const LOG: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:40 -!- mode/#hideout [+o darkfox] by ChanBoss
23:41 <@ChanBoss> welcome back
23:41 <@darkfox> ty. mail me at fox.trader@example.com
23:42 < nightowl> darkfox: got the new set? ask keeper@example.net for the key
23:43  * darkfox checks the folder
23:44 -!- darkfox is now known as dfox
23:45 <@dfox> the zebra password changed
--- Log closed Mon Mar 02 23:50:00 2009
";

fn summary() -> ImportSummary {
    let log = vigil_chat::parse(LOG.as_bytes(), &ParseOptions::default()).unwrap();
    vigil_chat::summarize(&log)
}

fn request<'a>(case_id: i64, s: &'a ImportSummary) -> ChatImportRequest<'a> {
    ChatImportRequest {
        case_id,
        file: "hideout.log".into(),
        room: "#hideout".into(),
        network: None,
        officer_handle: Some("ChanBoss".into()),
        summary: s,
    }
}

async fn setup(store: &Store) -> (Principal, Principal, i64) {
    let alice = store
        .init(
            "RCMP NCECC",
            "CA",
            Some("ncecc@example.ca"),
            "alice",
            "correct horse",
        )
        .await
        .unwrap();
    store
        .add_agency(&alice, "NCA CEOP", "GB", Some("ceop@example.uk"))
        .await
        .unwrap();
    store
        .add_user(&alice, "bob", Some("NCA CEOP"), "investigator", None)
        .await
        .unwrap();
    let bob = store.principal("bob").await.unwrap();
    let case = store
        .create_case(&alice, "Room #hideout", None, &Release::Agency, "t")
        .await
        .unwrap();
    (alice, bob, case.id)
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&store.raw_pool_for_tests())
    .await
    .unwrap()
    .try_get("n")
    .unwrap()
}

const TABLES: [&str; 7] = [
    "chat_rooms",
    "chat_messages",
    "chat_participants",
    "chat_room_facts",
    "persons",
    "identifiers",
    "alerts",
];

#[tokio::test]
async fn reimport_adds_nothing() {
    for Backend { name, store, .. } in backends().await {
        let (alice, _, case) = setup(&store).await;
        let s = summary();
        let first = store.import_chat(&alice, &request(case, &s)).await.unwrap();
        assert_eq!(first.messages_added, 5, "{name}");
        assert!(first.identifiers_added > 0, "{name}");
        let mut before = Vec::new();
        for t in TABLES {
            before.push(count(&store, t).await);
        }
        let again = store.import_chat(&alice, &request(case, &s)).await.unwrap();
        assert_eq!(
            (
                again.messages_added,
                again.persons_added,
                again.identifiers_added,
                again.facts_added
            ),
            (0, 0, 0, 0),
            "{name}"
        );
        assert!(again.new_messages.is_empty(), "{name}");
        assert_eq!(again.room_id, first.room_id, "{name}");
        for (t, n) in TABLES.iter().zip(before) {
            assert_eq!(count(&store, t).await, n, "{name}: {t}");
        }
    }
}

#[tokio::test]
async fn participants_operators_and_nick_changes_are_stored() {
    for Backend { name, store, .. } in backends().await {
        let (alice, _, case) = setup(&store).await;
        let s = summary();
        let r = store.import_chat(&alice, &request(case, &s)).await.unwrap();
        let pool = store.raw_pool_for_tests();
        let handles: Vec<String> =
            sqlx::query("SELECT handle FROM chat_participants WHERE room_id = $1 ORDER BY handle")
                .bind(r.room_id)
                .fetch_all(&pool)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get("handle").unwrap())
                .collect();
        for h in ["chanboss", "darkfox", "dfox", "nightowl"] {
            assert!(handles.iter().any(|x| x == h), "{name}: {handles:?}");
        }
        let facts = sqlx::query(
            "SELECT kind, detail, source FROM chat_room_facts WHERE room_id = $1 ORDER BY id",
        )
        .bind(r.room_id)
        .fetch_all(&pool)
        .await
        .unwrap();
        let fact = |kind: &str| -> Vec<(serde_json::Value, String)> {
            facts
                .iter()
                .filter(|f| f.try_get::<String, _>("kind").unwrap() == kind)
                .map(|f| {
                    let d: String = f.try_get("detail").unwrap();
                    (
                        serde_json::from_str(&d).unwrap(),
                        f.try_get("source").unwrap(),
                    )
                })
                .collect()
        };
        let ops = fact("operator");
        assert_eq!(ops.len(), 1, "{name}: {ops:?}");
        assert_eq!(ops[0].0["nick"], "darkfox", "{name}");
        assert_eq!(ops[0].0["by"], "ChanBoss", "{name}");
        assert_eq!(ops[0].1, "hideout.log:3", "{name}");
        let nicks = fact("nick_change");
        assert_eq!(nicks.len(), 1, "{name}");
        assert_eq!(
            (nicks[0].0["old"].as_str(), nicks[0].0["new"].as_str()),
            (Some("darkfox"), Some("dfox")),
            "{name}"
        );
        assert_eq!(nicks[0].1, "hideout.log:8", "{name}");
        // The officer is stored with role `other`, the rest as suspects.
        let persons = store.list_persons(&alice, Some(case)).await.unwrap();
        let chanboss = persons.iter().find(|p| p.label == "ChanBoss").unwrap();
        assert_eq!(chanboss.role.as_str(), "other", "{name}");
        let nightowl = persons.iter().find(|p| p.label == "nightowl").unwrap();
        assert_eq!(nightowl.role.as_str(), "suspect", "{name}");
    }
}

#[tokio::test]
async fn identifiers_keep_provenance_and_ownership() {
    for Backend { name, store, .. } in backends().await {
        let (alice, _, case) = setup(&store).await;
        let s = summary();
        store.import_chat(&alice, &request(case, &s)).await.unwrap();
        let persons = store.list_persons(&alice, Some(case)).await.unwrap();
        let darkfox = persons.iter().find(|p| p.label == "darkfox").unwrap().id;

        // Owned: on the owner's person, with file, line, time and speaker.
        let own = store
            .lookup_identifier(
                &alice,
                "fox.trader@example.com",
                Some(IdentifierKind::Email),
            )
            .await
            .unwrap();
        assert_eq!(own.hits.len(), 1, "{name}");
        let i = &own.hits[0].identifier;
        assert_eq!(i.person_id, Some(darkfox), "{name}");
        assert_eq!(i.source, "hideout.log:5 by darkfox", "{name}");
        assert!(
            i.first_seen
                .as_deref()
                .unwrap()
                .starts_with("2009-03-02T23:41:00"),
            "{name}: {i:?}"
        );

        // The hostmask address is darkfox's too.
        let ip = store
            .lookup_identifier(&alice, "192.0.2.10", Some(IdentifierKind::Ip))
            .await
            .unwrap();
        assert_eq!(ip.hits.len(), 1, "{name}");
        assert_eq!(ip.hits[0].identifier.person_id, Some(darkfox), "{name}");
        assert_eq!(
            ip.hits[0].identifier.source, "hideout.log:2 by darkfox",
            "{name}"
        );

        // Mentioned: kept in the case, on no person, marked as mentioned.
        let said = store
            .lookup_identifier(&alice, "keeper@example.net", Some(IdentifierKind::Email))
            .await
            .unwrap();
        assert_eq!(said.hits.len(), 1, "{name}");
        let i = &said.hits[0].identifier;
        assert_eq!(i.person_id, None, "{name}");
        assert_eq!(i.case_id, case, "{name}");
        assert_eq!(i.source, "hideout.log:6 by nightowl, mentioned", "{name}");
        assert!(
            i.first_seen
                .as_deref()
                .unwrap()
                .starts_with("2009-03-02T23:42:00"),
            "{name}: {i:?}"
        );
    }
}

#[tokio::test]
async fn another_agency_can_neither_import_search_nor_reindex() {
    for Backend { name, store, .. } in backends().await {
        let (alice, bob, case) = setup(&store).await;
        let s = summary();
        store.import_chat(&alice, &request(case, &s)).await.unwrap();

        let err = store
            .import_chat(&bob, &request(case, &s))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{name}: {err}");

        // The search scope is the readable cases: alice's, not bob's.
        assert_eq!(
            store.chat_search_scope(&alice, "zebra").await.unwrap(),
            vec![case],
            "{name}"
        );
        let bobs = store.chat_search_scope(&bob, "zebra").await.unwrap();
        assert!(!bobs.contains(&case), "{name}: {bobs:?}");

        let seen = std::sync::atomic::AtomicUsize::new(0);
        let mut sink = |b: &[vigil_store::StoredMessage]| {
            seen.fetch_add(b.len(), std::sync::atomic::Ordering::Relaxed);
            Ok(())
        };
        let err = store
            .chat_messages_for_reindex(&bob, case, &mut sink)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{name}: {err}");
        assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 0, "{name}");
        let n = store
            .chat_messages_for_reindex(&alice, case, &mut sink)
            .await
            .unwrap();
        let seen = seen.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!((n, seen), (5, 5), "{name}");
    }
}
