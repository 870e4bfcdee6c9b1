//! The store test suite. Every test runs against SQLite and, when
//! `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL — the same assertions on
//! both, because the brief promises the same behaviour on both.

use crate::common;

use common::{Backend, backends};
use sqlx::Row;
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_store::{AuditFilter, PersonUpdate, SCHEMA_VERSION, Store, StoreError, backup_columns};

async fn init(store: &Store) -> vigil_domain::Principal {
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

/// A second agency with an investigator, on the same instance.
async fn second_agency(store: &Store, admin: &vigil_domain::Principal) -> vigil_domain::Principal {
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

#[tokio::test]
async fn migrations_from_empty_and_backups_cover_every_table() {
    for Backend { name, store, .. } in backends().await {
        let v: i64 = sqlx::query("SELECT MAX(version) AS v FROM vigil_schema")
            .fetch_one(&raw_pool(&store).await)
            .await
            .unwrap()
            .try_get("v")
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION, "{name}");
        let covered = backup_columns(&store).await.unwrap();
        let names: Vec<&str> = covered.iter().map(|(t, _)| t.as_str()).collect();
        for table in [
            "agencies",
            "users",
            "cases",
            "persons",
            "identifiers",
            "events",
            "notes",
            "audit_log",
        ] {
            assert!(
                names.contains(&table),
                "{name}: {table} not backed up: {names:?}"
            );
        }
        // parents come before the tables that reference them
        let pos = |t: &str| names.iter().position(|n| *n == t).unwrap();
        assert!(
            pos("agencies") < pos("users")
                && pos("cases") < pos("persons")
                && pos("persons") < pos("identifiers")
        );
        assert!(!names.contains(&"vigil_schema"));
        let persons = &covered[pos("persons")].1;
        assert!(
            persons.contains(&"merged_into".to_string()) && persons.contains(&"label".to_string())
        );
    }
}

/// A plain pool on the same database, for assertions that look underneath
/// the store (as an attacker or auditor with database access would).
async fn raw_pool(store: &Store) -> sqlx::AnyPool {
    store.raw_pool_for_tests()
}

#[tokio::test]
async fn init_is_once_only_and_users_authenticate() {
    for Backend { name, store, .. } in backends().await {
        let admin = init(&store).await;
        let again = store.init("Other", "US", None, "eve", "password123").await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{name}");
        assert!(
            store.authenticate("alice", "correct horse").await.is_ok(),
            "{name}"
        );
        assert!(matches!(
            store.authenticate("alice", "wrong").await,
            Err(StoreError::Denied(_))
        ));
        let short = store
            .add_user(&admin, "carol", None, "analyst", Some("short"))
            .await;
        assert!(matches!(short, Err(StoreError::Invalid(_))), "{name}");
        // no password or hash ever shows up in the audit log
        let log = store
            .audit_log(&admin, &AuditFilter::default())
            .await
            .unwrap();
        assert!(
            log.iter()
                .all(|e| !e.detail.contains("correct horse") && !e.detail.contains("argon2"))
        );
    }
}

#[tokio::test]
async fn every_record_type_creates_reads_updates_and_lists() {
    for Backend { name, store, .. } in backends().await {
        let admin = init(&store).await;
        // agencies
        let partner = store.add_agency(&admin, "AFP", "AU", None).await.unwrap();
        let partner = store
            .update_agency_contact(&admin, partner.id, "acccce@example.au")
            .await
            .unwrap();
        assert_eq!(partner.contact.as_deref(), Some("acccce@example.au"));
        assert_eq!(
            store.list_agencies(&admin).await.unwrap().len(),
            2,
            "{name}"
        );
        // users
        store
            .add_user(&admin, "ivan", None, "investigator", Some("password-ivan"))
            .await
            .unwrap();
        let ivan = store
            .update_user(&admin, "ivan", Some("investigator,analyst"), None, None)
            .await
            .unwrap();
        assert_eq!(ivan.roles.len(), 2);
        assert_eq!(store.list_users(&admin).await.unwrap().len(), 2);
        let ivan = store.principal("ivan").await.unwrap();
        // cases
        let case = store
            .create_case(
                &ivan,
                "Room #tapes",
                Some("Op Hydrant"),
                &Release::Agency,
                "test",
            )
            .await
            .unwrap();
        assert_eq!(case.operation.as_deref(), Some("Op Hydrant"));
        let case = store
            .update_case(
                &ivan,
                case.id,
                Some("Room #tapes (2008)"),
                Some(&Release::Operation),
            )
            .await
            .unwrap();
        assert_eq!(case.title, "Room #tapes (2008)");
        assert_eq!(case.release, Release::Operation);
        assert_eq!(store.list_cases(&ivan).await.unwrap().len(), 1);
        // persons
        let person = store
            .add_person(
                &ivan,
                case.id,
                &NewPerson::parse("suspect", "G.O.D.").unwrap(),
                "log.txt:12",
            )
            .await
            .unwrap();
        let victim = store
            .add_person(
                &ivan,
                case.id,
                &NewPerson::parse("victim", "Victim A").unwrap(),
                "test",
            )
            .await
            .unwrap();
        let person = store
            .update_person(
                &ivan,
                person.id,
                &PersonUpdate {
                    country: Some("gb".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(person.country.as_deref(), Some("GB"));
        assert_eq!(
            store
                .list_persons(&ivan, Some(case.id))
                .await
                .unwrap()
                .len(),
            2
        );
        // identifiers
        let ip = store
            .add_identifier(
                &ivan,
                person.id,
                &NewIdentifier::parse("ip", "198.51.100.23").unwrap(),
                "log.txt:3",
            )
            .await
            .unwrap();
        let moved = store
            .update_identifier_person(&ivan, ip.id, Some(victim.id))
            .await
            .unwrap();
        assert_eq!(moved.person_id, Some(victim.id));
        store
            .update_identifier_person(&ivan, ip.id, Some(person.id))
            .await
            .unwrap();
        // events and notes
        let ev = store
            .add_event(
                &ivan,
                person.id,
                &NewEvent::parse("arrest", "2008-03-01", "GB").unwrap(),
                "test",
            )
            .await
            .unwrap();
        let ev = store
            .update_event_details(&ivan, ev.id, "arrested at home")
            .await
            .unwrap();
        assert_eq!(ev.details.as_deref(), Some("arrested at home"));
        store
            .add_note(&ivan, case.id, Some(person.id), "Hosts the room.", "test")
            .await
            .unwrap();
        let device = store
            .ensure_device(&ivan, case.id, "laptop-1", "test")
            .await
            .unwrap();
        assert_eq!(
            store
                .ensure_device(&ivan, case.id, "laptop-1", "test")
                .await
                .unwrap()
                .id,
            device.id
        );
        // read back
        let detail = store.show_person(&ivan, person.id).await.unwrap();
        assert_eq!(detail.identifiers.len(), 1);
        assert_eq!(detail.events[0].kind, vigil_domain::EventKind::Arrest);
        assert_eq!(detail.notes.len(), 1);
        assert_eq!(detail.person.source, "log.txt:12");
        assert_eq!(detail.person.created_by, "ivan");
        let cd = store.show_case(&ivan, case.id).await.unwrap();
        assert_eq!(
            (cd.persons.len(), cd.devices.len(), cd.members,),
            (2, 1, vec!["ivan".to_string()])
        );
        // lookup finds it under its normalised form
        let hits = store
            .lookup_identifier(&ivan, " 198.51.100.23 ", None)
            .await
            .unwrap();
        assert_eq!(hits.hits.len(), 1, "{name}");
        assert_eq!(hits.hits[0].agency.name, "Toronto PS");
        assert!(store.verify_audit().await.unwrap().ok);
    }
}

#[tokio::test]
async fn other_agencies_see_only_what_is_released_and_get_blind_hits() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let bob = second_agency(&store, &alice).await;
        let case = store
            .create_case(&alice, "Room A", Some("Op Hydrant"), &Release::Agency, "t")
            .await
            .unwrap();
        let person = store
            .add_person(
                &alice,
                case.id,
                &NewPerson::parse("suspect", "g.o.d").unwrap(),
                "t",
            )
            .await
            .unwrap();
        store
            .add_identifier(
                &alice,
                person.id,
                &NewIdentifier::parse("email", "god@example.org").unwrap(),
                "t",
            )
            .await
            .unwrap();

        assert!(
            matches!(
                store.show_case(&bob, case.id).await,
                Err(StoreError::NotFound { .. })
            ),
            "{name}"
        );
        assert!(matches!(
            store.show_person(&bob, person.id).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.list_cases(&bob).await.unwrap().is_empty());
        assert!(store.list_persons(&bob, None).await.unwrap().is_empty());
        let r = store
            .lookup_identifier(&bob, "GOD@example.org", None)
            .await
            .unwrap();
        assert!(r.hits.is_empty());
        assert_eq!(r.blind_hits.len(), 1);
        assert_eq!(r.blind_hits[0].agency, "Toronto PS");
        assert_eq!(r.blind_hits[0].contact.as_deref(), Some("cet@example.ca"));
        // writes are refused even after release
        store
            .update_person(
                &alice,
                person.id,
                &PersonUpdate {
                    release: Some(Release::parse("to:country=GB").unwrap()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(
            store.show_person(&bob, person.id).await.is_ok(),
            "{name}: released person visible"
        );
        assert!(
            store
                .lookup_identifier(&bob, "god@example.org", None)
                .await
                .unwrap()
                .hits
                .len()
                == 1
        );
        let w = store
            .add_event(
                &bob,
                person.id,
                &NewEvent::parse("arrest", "2008-01-01", "GB").unwrap(),
                "t",
            )
            .await;
        assert!(w.is_err());
        // the refusal is audited
        let log = store
            .audit_log(&bob, &AuditFilter::default())
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|e| e.action == "case.read" && e.outcome.starts_with("denied")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected_and_named() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        for i in 0..5 {
            store
                .create_case(&alice, &format!("case {i}"), None, &Release::Agency, "t")
                .await
                .unwrap();
        }
        assert!(store.verify_audit().await.unwrap().ok);
        let pool = raw_pool(&store).await;
        // the application cannot change the log
        let upd = sqlx::query("UPDATE audit_log SET user_name = 'mallory' WHERE seq = 3")
            .execute(&pool)
            .await;
        assert!(upd.is_err(), "{name}: trigger must refuse UPDATE");
        assert!(
            sqlx::query("DELETE FROM audit_log WHERE seq = 3")
                .execute(&pool)
                .await
                .is_err()
        );
        // someone with DBA rights can — and verify notices
        disable_audit_triggers(&store, &pool).await;
        sqlx::query("UPDATE audit_log SET user_name = 'mallory' WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!((v.ok, v.first_bad_seq), (false, Some(3)), "{name}: {v:?}");
        assert!(v.problem.unwrap().contains("modified"));
    }
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        for i in 0..5 {
            store
                .create_case(&alice, &format!("case {i}"), None, &Release::Agency, "t")
                .await
                .unwrap();
        }
        let pool = raw_pool(&store).await;
        disable_audit_triggers(&store, &pool).await;
        sqlx::query("DELETE FROM audit_log WHERE seq = 4")
            .execute(&pool)
            .await
            .unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!(
            (v.ok, v.first_bad_seq),
            (false, Some(4)),
            "{name}: deletion {v:?}"
        );
    }
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        for i in 0..5 {
            store
                .create_case(&alice, &format!("case {i}"), None, &Release::Agency, "t")
                .await
                .unwrap();
        }
        let pool = raw_pool(&store).await;
        disable_audit_triggers(&store, &pool).await;
        // reorder: swap the contents of entries 2 and 3 (keeping seq)
        sqlx::query("UPDATE audit_log SET seq = -2 WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET seq = 2 WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET seq = 3 WHERE seq = -2")
            .execute(&pool)
            .await
            .unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!(
            (v.ok, v.first_bad_seq),
            (false, Some(2)),
            "{name}: reorder {v:?}"
        );
    }
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        for i in 0..3 {
            store
                .create_case(&alice, &format!("case {i}"), None, &Release::Agency, "t")
                .await
                .unwrap();
        }
        let pool = raw_pool(&store).await;
        // insertion of a forged entry at the end with a wrong link
        sqlx::query("INSERT INTO audit_log (seq, at, user_name, action, target, origin, outcome, detail, prev_hash, hash) \
                     VALUES (5, '2030-01-01T00:00:00Z', 'mallory', 'case.read', 'case:1', 'cli', 'allowed', '{}', 'x', 'y')")
            .execute(&pool).await.unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!(
            (v.ok, v.first_bad_seq),
            (false, Some(5)),
            "{name}: insertion {v:?}"
        );
    }
}

async fn disable_audit_triggers(store: &Store, pool: &sqlx::AnyPool) {
    match store.backend() {
        vigil_store::Backend::Sqlite => {
            sqlx::raw_sql("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
                .execute(pool)
                .await
                .unwrap();
        }
        vigil_store::Backend::Postgres => {
            sqlx::raw_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
                .execute(pool)
                .await
                .unwrap();
        }
    }
}

async fn populated(store: &Store) -> vigil_domain::Principal {
    let alice = init(store).await;
    let bob = second_agency(store, &alice).await;
    let case = store
        .create_case(
            &alice,
            "Room A",
            Some("Op Hydrant"),
            &Release::Operation,
            "t",
        )
        .await
        .unwrap();
    let p1 = store
        .add_person(
            &alice,
            case.id,
            &NewPerson::parse("suspect", "G.O.D.").unwrap(),
            "t",
        )
        .await
        .unwrap();
    let p2 = store
        .add_person(
            &alice,
            case.id,
            &NewPerson::parse("suspect", "Son of God").unwrap(),
            "t",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            &alice,
            p1.id,
            &NewIdentifier::parse("ip", "203.0.113.9").unwrap(),
            "t",
        )
        .await
        .unwrap();
    store
        .add_event(
            &alice,
            p2.id,
            &NewEvent::parse("conviction", "2009-05-05", "CA").unwrap(),
            "t",
        )
        .await
        .unwrap();
    store
        .add_note(&alice, case.id, None, "line one\nline two \u{e9}", "t")
        .await
        .unwrap();
    let case_b = store
        .create_case(&bob, "UK side", Some("Op Hydrant"), &Release::Agency, "t")
        .await
        .unwrap();
    store
        .add_person(
            &bob,
            case_b.id,
            &NewPerson::parse("victim", "Child 1").unwrap(),
            "t",
        )
        .await
        .unwrap();
    alice
}

fn dump_body(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    // drop the header (creation time) and trailer (checksum over it)
    lines[1..lines.len() - 1].to_vec()
}

#[tokio::test]
async fn backup_restores_to_an_identical_database() {
    for Backend { name, store, .. } in backends().await {
        let alice = populated(&store).await;
        let mut first = Vec::new();
        store.backup(&alice, &mut first).await.unwrap();

        let target = if name == "sqlite" {
            common::fresh_sqlite().await
        } else {
            let url = common::fresh_postgres_url().await.unwrap();
            Backend {
                name: "postgres",
                store: Store::open_postgres(&url).await.unwrap(),
                _dir: None,
            }
        };
        target
            .store
            .restore(std::io::Cursor::new(&first))
            .await
            .unwrap();
        let alice2 = target.store.principal("alice").await.unwrap();
        let mut second = Vec::new();
        target.store.backup(&alice2, &mut second).await.unwrap();
        // identical rows, except the second dump's extra audit entry for the
        // first backup, which was written after the snapshot
        let a = dump_body(&first);
        let b = dump_body(&second);
        assert_eq!(&b[..a.len()], &a[..], "{name}");
        assert!(target.store.verify_audit().await.unwrap().ok);
        // new rows get fresh ids after a restore
        let c = target
            .store
            .create_case(&alice2, "after restore", None, &Release::Agency, "t")
            .await
            .unwrap();
        assert!(c.id > 2, "{name}: id {}", c.id);
        // restoring twice is refused: the target is not empty
        assert!(
            target
                .store
                .restore(std::io::Cursor::new(&first))
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn a_damaged_backup_changes_nothing() {
    for Backend { name, store, .. } in backends().await {
        let alice = populated(&store).await;
        let mut dump = Vec::new();
        store.backup(&alice, &mut dump).await.unwrap();
        let text = String::from_utf8(dump).unwrap();
        // flip one character: the checksum refuses it before any write
        let tampered = text.replacen("Son of God", "Son of Gud", 1);
        let target = common::fresh_sqlite().await;
        let e = target
            .store
            .restore(std::io::Cursor::new(tampered.as_bytes()))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("checksum"), "{name}: {e}");
        // a dump whose checksum is right but whose last row breaks a foreign
        // key fails in the middle of the transaction: everything rolls back
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let trailer = lines.pop().unwrap();
        let total: u64 = serde_json::from_str::<serde_json::Value>(&trailer).unwrap()["rows"]
            .as_u64()
            .unwrap();
        lines.insert(
            lines.len(),
            r#"{"t":"notes","r":[999,4242,null,"orphan",1,"2020-01-01T00:00:00Z","t"]}"#.into(),
        );
        let mut body = String::new();
        for l in &lines {
            body.push_str(l);
            body.push('\n');
        }
        use sha2::Digest;
        let sum = hex::encode(sha2::Sha256::digest(body.as_bytes()));
        body.push_str(
            &serde_json::json!({"end": true, "rows": total + 1, "sha256": sum}).to_string(),
        );
        body.push('\n');
        let target = common::fresh_sqlite().await;
        assert!(
            target
                .store
                .restore(std::io::Cursor::new(body.as_bytes()))
                .await
                .is_err()
        );
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM agencies")
            .fetch_one(&raw_pool(&target.store).await)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        assert_eq!(n, 0, "{name}: partial restore must roll back");
    }
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_changes() {
    for Backend { name, store, .. } in backends().await {
        let alice = init(&store).await;
        let before = store.verify_audit().await.unwrap().entries;
        assert!(matches!(
            store.add_agency(&alice, "X", "XX", None).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(
            matches!(
                store
                    .add_person(&alice, 99, &NewPerson::parse("suspect", "x").unwrap(), "t")
                    .await,
                Err(StoreError::NotFound { .. })
            ),
            "{name}"
        );
        assert!(NewIdentifier::parse("ip", "300.1.1.1").is_err());
        assert!(NewEvent::parse("arrest", "2008-13-01", "CA").is_err());
        assert_eq!(
            store.verify_audit().await.unwrap().entries,
            before,
            "{name}"
        );
    }
}
