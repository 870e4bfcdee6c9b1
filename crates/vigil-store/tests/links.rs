//! Identity resolution and de-confliction through the store, on SQLite and
//! (with `VIGIL_TEST_DATABASE_URL`) PostgreSQL.

use crate::common;

use common::{Backend, backends};
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Principal, Release};
use vigil_store::{AuditFilter, Holder, Store, StoreError};

async fn init(store: &Store) -> Principal {
    store
        .init(
            "Toronto PS",
            "CA",
            Some("cet@example.ca"),
            "alice",
            "correct horse",
        )
        .await
        .unwrap()
}

async fn second_agency(store: &Store, admin: &Principal) -> Principal {
    store
        .add_agency(admin, "NCA CEOP", "GB", Some("ceop@example.uk"))
        .await
        .unwrap();
    store
        .add_user(
            admin,
            "bob",
            Some("NCA CEOP"),
            "investigator,supervisor",
            None,
        )
        .await
        .unwrap();
    store.principal("bob").await.unwrap()
}

fn ip_seen(ip: &str, first: &str, last: &str) -> NewIdentifier {
    let mut i = NewIdentifier::parse("ip", ip).unwrap();
    i.first_seen = Some(first.into());
    i.last_seen = Some(last.into());
    i
}

/// Two rooms' persons: the host `g.o.d` and later `Son_of_G0d`, both seen
/// on 203.0.113.7 in overlapping windows, plus an unrelated member.
async fn two_rooms(store: &Store, p: &Principal) -> (i64, i64, i64, i64) {
    let room1 = store
        .create_case(p, "Room one", None, &Release::Agency, "t")
        .await
        .unwrap();
    let room2 = store
        .create_case(p, "Room two", None, &Release::Agency, "t")
        .await
        .unwrap();
    let god = store
        .add_person(
            p,
            room1.id,
            &NewPerson::parse("suspect", "g.o.d").unwrap(),
            "room1.log:3",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            p,
            god.id,
            &ip_seen(
                "203.0.113.7",
                "2024-03-01T20:00:00Z",
                "2024-03-01T23:00:00Z",
            ),
            "room1.log:12",
        )
        .await
        .unwrap();
    let other = store
        .add_person(
            p,
            room1.id,
            &NewPerson::parse("suspect", "quiet_lurker").unwrap(),
            "room1.log:5",
        )
        .await
        .unwrap();
    let son = store
        .add_person(
            p,
            room2.id,
            &NewPerson::parse("suspect", "Son_of_G0d").unwrap(),
            "room2.log:40",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            p,
            son.id,
            &ip_seen(
                "203.0.113.7",
                "2024-03-01T22:00:00Z",
                "2024-03-02T01:00:00Z",
            ),
            "room2.log:41",
        )
        .await
        .unwrap();
    (room1.id, god.id, son.id, other.id)
}

#[tokio::test]
async fn shared_ip_and_similar_handle_make_an_explained_candidate() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let (_, god, son, lurker) = two_rooms(&store, &alice).await;
        let c = store.link_candidates(&alice, None, None).await.unwrap();
        let pair = c
            .iter()
            .find(|c| c.person_a.id == god && c.person_b.id == son)
            .unwrap_or_else(|| panic!("{name}: no g.o.d / Son_of_G0d candidate in {c:?}"));
        assert!(
            !c.iter()
                .any(|c| c.person_a.id == lurker || c.person_b.id == lurker),
            "{name}"
        );
        let kinds: Vec<&str> = pair.evidence.iter().map(|e| e.kind.as_str()).collect();
        assert!(kinds.contains(&"ip-overlap"), "{name}: {kinds:?}");
        assert!(
            kinds.iter().any(|k| k.starts_with("handle-")),
            "{name}: {kinds:?}"
        );
        let ip = pair
            .evidence
            .iter()
            .find(|e| e.kind.as_str() == "ip-overlap")
            .unwrap();
        assert!(ip.detail.contains("203.0.113.7"), "{name}: {}", ip.detail);
        assert!(
            ip.sources.iter().any(|s| s.contains("(room1.log:12)")),
            "{name}: {:?}",
            ip.sources
        );
        assert_eq!(pair.status, "open");
        // re-running keeps the id; a rejection survives the re-run
        let again = store.link_candidates(&alice, None, None).await.unwrap();
        let same = again
            .iter()
            .find(|c| c.person_a.id == god && c.person_b.id == son)
            .unwrap();
        assert_eq!(same.id, pair.id, "{name}");
        store
            .reject_candidate(&alice, pair.id, Some("different people"))
            .await
            .unwrap();
        let third = store
            .link_candidates(&alice, None, Some(pair.score - 0.01))
            .await
            .unwrap();
        let kept = third.iter().find(|c| c.id == pair.id).unwrap();
        assert_eq!(kept.status, "rejected", "{name}");
        assert_eq!(kept.note.as_deref(), Some("different people"));
        assert!(matches!(
            store.accept_candidate(&alice, pair.id, None).await,
            Err(StoreError::Conflict(_))
        ));
        // a min score above every candidate filters all out
        assert!(
            store
                .link_candidates(&alice, None, Some(1e9))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.verify_audit().await.unwrap().ok);
    }
}

/// Every table except the audit log and the merge history, as backup lines.
async fn dump(store: &Store, p: &Principal) -> Vec<String> {
    let mut buf = Vec::new();
    store.backup(p, &mut buf).await.unwrap();
    String::from_utf8(buf)
        .unwrap()
        .lines()
        .filter(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["t"]
                .as_str()
                .is_some_and(|t| t != "audit_log" && t != "person_merges")
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn accept_merges_with_history_and_unmerge_restores_exactly() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let (room1, god, son, _) = two_rooms(&store, &alice).await;
        store
            .add_event(
                &alice,
                son,
                &NewEvent::parse("arrest", "2024-04-01", "GB").unwrap(),
                "t",
            )
            .await
            .unwrap();
        store
            .add_note(&alice, room1, Some(god), "Hosts room one.", "t")
            .await
            .unwrap();
        let c = store.link_candidates(&alice, None, None).await.unwrap();
        let pair = c
            .iter()
            .find(|c| c.person_a.id == god && c.person_b.id == son)
            .unwrap();
        let before = dump(&store, &alice).await;

        let m = store
            .accept_candidate(&alice, pair.id, Some("same host"))
            .await
            .unwrap();
        assert_eq!((m.kept, m.merged), (god, son), "{name}");
        let detail = store.show_person(&alice, god).await.unwrap();
        assert_eq!(detail.identifiers.len(), 2, "{name}");
        assert_eq!(detail.events.len(), 1, "{name}");
        let merged = store.show_person(&alice, son).await.unwrap();
        assert_eq!(merged.person.merged_into, Some(god));
        assert!(merged.identifiers.is_empty());
        assert_ne!(
            dump(&store, &alice).await,
            before,
            "{name}: merge changed nothing"
        );
        // accepted twice is refused
        assert!(matches!(
            store.accept_candidate(&alice, pair.id, None).await,
            Err(StoreError::Conflict(_))
        ));

        let u = store.unmerge_person(&alice, son).await.unwrap();
        assert_eq!(u.kept, god);
        assert_eq!(
            dump(&store, &alice).await,
            before,
            "{name}: unmerge not exact"
        );
        assert!(matches!(
            store.unmerge_person(&alice, son).await,
            Err(StoreError::Conflict(_))
        ));
        let actions: Vec<String> = store
            .audit_log(&alice, &AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        assert!(actions.iter().any(|a| a == "link.accept"), "{name}");
        assert!(actions.iter().any(|a| a == "person.unmerge"), "{name}");
        assert!(store.verify_audit().await.unwrap().ok);
    }
}

#[tokio::test]
async fn second_agency_gets_a_blind_hit_and_the_first_an_alert() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let bob = second_agency(&store, &alice).await;
        let case_a = store
            .create_case(&alice, "Secret room A", None, &Release::Agency, "t")
            .await
            .unwrap();
        let pa = store
            .add_person(
                &alice,
                case_a.id,
                &NewPerson::parse("suspect", "hidden_host").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let ia = store
            .add_identifier(
                &alice,
                pa.id,
                &NewIdentifier::parse("email", "God.Host@Example.org").unwrap(),
                "a.log:1",
            )
            .await
            .unwrap();
        let case_b = store
            .create_case(&bob, "UK seizure", None, &Release::Agency, "t")
            .await
            .unwrap();
        let pb = store
            .add_person(
                &bob,
                case_b.id,
                &NewPerson::parse("suspect", "uk_suspect").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let add_b = || async {
            store
                .add_identifier(
                    &bob,
                    pb.id,
                    &NewIdentifier::parse("email", "god.host@example.org").unwrap(),
                    "b.log:9",
                )
                .await
                .unwrap()
        };
        add_b().await;
        add_b().await; // the same pair again: no duplicate alert

        let bob_alerts = store.alerts(&bob, false).await.unwrap();
        assert_eq!(bob_alerts.len(), 1, "{name}: {bob_alerts:?}");
        assert_eq!(
            bob_alerts[0].other,
            Holder::Blind {
                agency: "Toronto PS".into(),
                country: "CA".into(),
                contact: Some("cet@example.ca".into()),
            },
            "{name}"
        );
        assert_eq!(bob_alerts[0].case_id, Some(case_b.id));
        let text = serde_json::to_string(&bob_alerts).unwrap();
        for secret in [
            "Secret room A",
            "hidden_host",
            "God.Host@Example.org",
            &format!("identifier:{}", ia.id),
        ] {
            assert!(!text.contains(secret), "{name}: bob sees {secret}: {text}");
        }

        let alice_alerts = store.alerts(&alice, true).await.unwrap();
        assert_eq!(alice_alerts.len(), 1, "{name}: {alice_alerts:?}");
        assert_eq!(alice_alerts[0].own, format!("identifier:{}", ia.id));
        assert!(
            matches!(&alice_alerts[0].other, Holder::Blind { agency, contact, .. }
                if agency == "NCA CEOP" && contact.as_deref() == Some("ceop@example.uk")),
            "{name}"
        );
        let text = serde_json::to_string(&alice_alerts).unwrap();
        assert!(
            !text.contains("UK seizure") && !text.contains("uk_suspect"),
            "{name}"
        );

        // the exact link is recorded and shown as a blind hit to bob
        let links = store.exact_links(&bob, pb.id).await.unwrap();
        assert!(
            links.iter().any(
                |l| matches!(&l.other, Holder::Blind { agency, .. } if agency == "Toronto PS")
            ),
            "{name}: {links:?}"
        );
        let text = serde_json::to_string(&links).unwrap();
        assert!(
            !text.contains("Secret room A") && !text.contains("hidden_host"),
            "{name}"
        );

        // reading: bob cannot mark alice's alert; alice can
        assert!(matches!(
            store.read_alert(&bob, alice_alerts[0].id).await,
            Err(StoreError::NotFound { .. })
        ));
        store.read_alert(&alice, alice_alerts[0].id).await.unwrap();
        assert!(store.alerts(&alice, true).await.unwrap().is_empty());
        assert_eq!(store.alerts(&alice, false).await.unwrap().len(), 1);

        // a lookup by bob of alice's value alerts alice that bob looked
        store
            .add_identifier(
                &alice,
                pa.id,
                &NewIdentifier::parse("phone", "+1 613 555 0100").unwrap(),
                "a.log:2",
            )
            .await
            .unwrap();
        let r = store
            .lookup_identifier(&bob, "+16135550100", None)
            .await
            .unwrap();
        assert_eq!(r.blind_hits.len(), 1, "{name}");
        let alice_alerts = store.alerts(&alice, true).await.unwrap();
        assert_eq!(alice_alerts.len(), 1, "{name}: {alice_alerts:?}");
        assert_eq!(alice_alerts[0].other_action, "looked-up");
        store
            .lookup_identifier(&bob, "+16135550100", None)
            .await
            .unwrap();
        assert_eq!(store.alerts(&alice, true).await.unwrap().len(), 1, "{name}");
        assert!(store.verify_audit().await.unwrap().ok);
    }
}

#[tokio::test]
async fn merging_across_agencies_is_refused() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let bob = second_agency(&store, &alice).await;
        let shared = Release::parse(&format!("to:agency={}", bob.agency_id)).unwrap();
        let ca = store
            .create_case(&alice, "Released room", None, &shared, "t")
            .await
            .unwrap();
        let cb = store
            .create_case(&bob, "UK room", None, &Release::Agency, "t")
            .await
            .unwrap();
        let a = store
            .add_person(
                &bob,
                cb.id,
                &NewPerson::parse("suspect", "Son_of_G0d").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let b = store
            .add_person(
                &alice,
                ca.id,
                &NewPerson::parse("suspect", "son.of.god").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let c = store.link_candidates(&bob, None, None).await.unwrap();
        let pair = c
            .iter()
            .find(|c| c.person_a.id == a.id && c.person_b.id == b.id)
            .unwrap_or_else(|| panic!("{name}: {c:?}"));
        assert!(pair.cross_agency);
        let refused = store.accept_candidate(&bob, pair.id, None).await;
        assert!(
            matches!(
                refused,
                Err(StoreError::Conflict(_)) | Err(StoreError::NotFound { .. })
            ),
            "{name}: {refused:?}"
        );
        assert_eq!(
            store
                .show_person(&bob, b.id)
                .await
                .unwrap()
                .person
                .merged_into,
            None
        );
    }
}

/// A nick change recorded by a chat import makes a certain candidate. The
/// chat rows are written directly (as `vigil chat import` stores them) so
/// the test does not depend on a log format; skipped while the chat schema
/// (migration 5) is absent.
#[tokio::test]
async fn a_recorded_nick_change_is_a_certain_link() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let pool = store.raw_pool_for_tests();
        let chat: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM vigil_schema WHERE version = 5")
                .fetch_one(&pool)
                .await
                .unwrap(),
            "n",
        )
        .unwrap();
        if chat == 0 {
            eprintln!("{name}: chat schema absent, nick-change path not tested");
            continue;
        }
        let case = store
            .create_case(&alice, "Room three", None, &Release::Agency, "t")
            .await
            .unwrap();
        let a = store
            .add_person(
                &alice,
                case.id,
                &NewPerson::parse("suspect", "old_nick").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let b = store
            .add_person(
                &alice,
                case.id,
                &NewPerson::parse("suspect", "zz_top99").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let room: i64 = sqlx::Row::try_get(
            &sqlx::query(
                "INSERT INTO chat_rooms (case_id, name, network, created_by, created_at, source) \
                 VALUES ($1, '#room3', 'irc.example.net', $2, '2024-01-01T00:00:00Z', 'r3.log') \
                 RETURNING id",
            )
            .bind(case.id)
            .bind(alice.user_id)
            .fetch_one(&pool)
            .await
            .unwrap(),
            "id",
        )
        .unwrap();
        for (handle, pid) in [("old_nick", a.id), ("zz_top99", b.id)] {
            sqlx::query(
                "INSERT INTO chat_participants (case_id, room_id, handle, person_id, first_seen, \
                 last_seen, source) VALUES ($1, $2, $3, $4, '2024-01-01T10:00:00Z', \
                 '2024-01-01T11:00:00Z', 'r3.log:1')",
            )
            .bind(case.id)
            .bind(room)
            .bind(handle)
            .bind(pid)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "INSERT INTO chat_room_facts (case_id, room_id, kind, happened_at, detail, source) \
             VALUES ($1, $2, 'nick_change', NULL, $3, 'r3.log:7')",
        )
        .bind(case.id)
        .bind(room)
        .bind(r#"{"old":"old_nick","new":"zz_top99","time":null,"line":7}"#)
        .execute(&pool)
        .await
        .unwrap();
        let c = store.link_candidates(&alice, None, None).await.unwrap();
        let pair = c
            .iter()
            .find(|c| c.person_a.id == a.id && c.person_b.id == b.id)
            .unwrap_or_else(|| panic!("{name}: {c:?}"));
        assert!(pair.certain, "{name}: {pair:?}");
        assert!(
            pair.evidence
                .iter()
                .any(|e| e.kind.as_str() == "nick-change"
                    && e.sources.iter().any(|s| s.contains("r3.log:7"))),
            "{name}: {pair:?}"
        );
    }
}
