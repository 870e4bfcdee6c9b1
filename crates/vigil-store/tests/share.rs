//! Dissemination in the store: two instances exchange a lead package and the
//! outcomes (the envelope is an identity "seal" here — the CLI test covers
//! the real cryptography), releases decide what leaves, imports are all or
//! nothing, and outcome_counts reflect what came back.

use crate::common;

use common::backends;
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_store::{
    AttributionNote, LeadsPayload, OutcomesPayload, PersonUpdate, ReceivedPackage, Store,
    StoreError,
};

fn plain(b: &[u8]) -> Result<Vec<u8>, String> {
    Ok(b.to_vec())
}

async fn rows(s: &Store, table: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM {table}"
    )))
    .fetch_one(&s.raw_pool_for_tests())
    .await
    .unwrap()
    .try_get("n")
    .unwrap()
}

async fn snapshot(s: &Store) -> Vec<i64> {
    let mut v = Vec::new();
    for t in [
        "persons",
        "identifiers",
        "events",
        "cases",
        "packages",
        "package_records",
    ] {
        v.push(rows(s, t).await);
    }
    v
}

#[tokio::test]
async fn leads_and_outcomes_round_trip_between_two_stores() {
    let mut a_list = backends().await;
    let mut b_list = backends().await;
    while let (Some(a), Some(b)) = (a_list.pop(), b_list.pop()) {
        let (sa, sb) = (&a.store, &b.store);
        let admin_a = sa
            .init("RCMP NCECC", "CA", None, "alice", "a long passphrase")
            .await
            .unwrap();
        let admin_b = sb
            .init("NCA CEOP", "GB", None, "bob", "a long passphrase")
            .await
            .unwrap();
        sa.add_user(&admin_a, "lo", None, "liaison-officer", None)
            .await
            .unwrap();
        sb.add_user(&admin_b, "lo", None, "liaison-officer", None)
            .await
            .unwrap();
        let lo_a = sa.principal("lo").await.unwrap();
        let lo_b = sb.principal("lo").await.unwrap();
        sa.store_agency_keys(&lo_a, "FP-A", "{bundle a}", "{secret a}")
            .await
            .unwrap();
        sb.store_agency_keys(&lo_b, "FP-B", "{bundle b}", "{secret b}")
            .await
            .unwrap();
        let b_at_a = sa
            .import_partner_key(&lo_a, "NCA CEOP", "GB", "FP-B", "{bundle b}")
            .await
            .unwrap();
        sb.import_partner_key(&lo_b, "RCMP NCECC", "CA", "FP-A", "{bundle a}")
            .await
            .unwrap();
        // An investigator may not touch keys.
        sa.add_user(&admin_a, "inv", None, "investigator", None)
            .await
            .unwrap();
        let inv = sa.principal("inv").await.unwrap();
        assert!(matches!(
            sa.list_keys(&inv).await,
            Err(StoreError::Denied(_))
        ));

        // A: one suspect released to B, one not.
        let case = sa
            .create_case(&inv, "Room", Some("Op Hydrant"), &Release::Agency, "test")
            .await
            .unwrap();
        let god = sa
            .add_person(
                &inv,
                case.id,
                &NewPerson::parse("suspect", "G.O.D.").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let upd = PersonUpdate {
            country: Some("GB".into()),
            release: Some(Release::To {
                agencies: vec![b_at_a.agency_id],
                countries: vec![],
            }),
            ..Default::default()
        };
        sa.update_person(&inv, god.id, &upd).await.unwrap();
        sa.add_identifier(
            &inv,
            god.id,
            &NewIdentifier::parse("email", "host.god@example.org").unwrap(),
            "t",
        )
        .await
        .unwrap();
        let hidden = sa
            .add_person(
                &inv,
                case.id,
                &NewPerson::parse("suspect", "Hidden").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let upd = PersonUpdate {
            country: Some("GB".into()),
            ..Default::default()
        };
        sa.update_person(&inv, hidden.id, &upd).await.unwrap();

        let by_country = |f: &vigil_store::PersonFacts| AttributionNote {
            country: f.person.country.clone(),
            why: "entered".into(),
        };
        let built = sa
            .build_leads(
                &lo_a,
                "Op Hydrant",
                b_at_a.agency_id,
                "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0001",
                by_country,
                plain,
            )
            .await
            .unwrap();
        let content: LeadsPayload = serde_json::from_slice(&built.bytes).unwrap();
        let labels: Vec<&str> = content.persons.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["G.O.D."], "{}", a.name);
        assert_eq!(content.persons[0].uid, god.uid);

        // B imports; a replay and a misaddressed content change nothing.
        let pkg = ReceivedPackage {
            package_uid: built.record.package_uid.clone(),
            sender_fingerprint: "FP-A".into(),
            in_reply_to: None,
        };
        let mut wrong = content.clone();
        wrong.recipient_agency = "Someone Else".into();
        let before = snapshot(sb).await;
        assert!(matches!(
            sb.import_leads(&lo_b, &pkg, &wrong).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(snapshot(sb).await, before);
        let got = sb.import_leads(&lo_b, &pkg, &content).await.unwrap();
        assert_eq!((got.persons_added, got.identifiers_added), (1, 1));
        let after = snapshot(sb).await;
        assert!(matches!(
            sb.import_leads(&lo_b, &pkg, &content).await,
            Err(StoreError::Conflict(m)) if m.contains("already imported")
        ));
        assert_eq!(snapshot(sb).await, after);

        // B records outcomes on the received person and sends them back.
        let received = sb
            .list_persons(&admin_b, got.package.case_id)
            .await
            .unwrap();
        assert_eq!(received.len(), 1);
        assert!(received[0].source.starts_with("package:"));
        for kind in ["arrest", "child-safeguarded"] {
            sb.add_event(
                &admin_b,
                received[0].id,
                &NewEvent::parse(kind, "2026-01-10", "GB").unwrap(),
                "t",
            )
            .await
            .unwrap();
        }
        let before = sa.outcome_counts(&admin_a, "Op Hydrant").await.unwrap();
        assert_eq!(before.total.suspects_identified, 2);
        assert_eq!(before.total.arrested, 0);
        let out = sb
            .build_outcomes(
                &lo_b,
                got.package.peer_agency_id,
                "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0002",
                plain,
            )
            .await
            .unwrap();
        let outcomes: OutcomesPayload = serde_json::from_slice(&out.bytes).unwrap();
        assert_eq!(outcomes.outcomes.len(), 2);
        assert!(outcomes.outcomes.iter().all(|o| o.person_uid == god.uid));
        let opkg = ReceivedPackage {
            package_uid: out.record.package_uid.clone(),
            sender_fingerprint: "FP-B".into(),
            in_reply_to: None,
        };
        sa.import_outcomes(&lo_a, &opkg, &outcomes).await.unwrap();
        let now = sa.outcome_counts(&admin_a, "Op Hydrant").await.unwrap();
        assert_eq!(now.total.arrested, 1);
        assert_eq!(now.by_country["GB"].arrested, 1);
        assert_eq!(now.by_country["GB"].children_safeguarded, 1);
        let list = sa.list_packages(&lo_a).await.unwrap();
        let leads = list.iter().find(|p| p.kind == "leads").unwrap();
        assert_eq!(leads.state, "outcomes-received");
        // Nothing new to report: refused.
        assert!(matches!(
            sb.build_outcomes(
                &lo_b,
                got.package.peer_agency_id,
                "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0003",
                plain
            )
            .await,
            Err(StoreError::Conflict(_))
        ));
    }
}

/// A small irssi log: darkfox (released to B below) gives an e-mail address;
/// nightowl and ChanBoss (not released) talk too.
const LOG: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:41 <@ChanBoss> welcome back, the usual place
23:41 <darkfox> ty. mail me at fox.trader@example.com
23:42 < nightowl> darkfox: got the new set? nightowl.private@example.net
23:43  * darkfox checks the folder
--- Log closed Mon Mar 02 23:50:00 2009
";

/// Synthetic "file contents" for the seized devices: only their hashes
/// reach the store; the package must not carry anything else of them.
fn fake_file(seed: u8) -> Vec<u8> {
    (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 ^ seed)
        .collect()
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn leads_carry_exactly_the_released_records_and_acks_move_states() {
    use sqlx::Row;
    use vigil_store::{AckPayload, ChatImportRequest, EvidenceItem, HashSetImportOptions};
    let mut a_list = backends().await;
    let mut b_list = backends().await;
    while let (Some(a), Some(b)) = (a_list.pop(), b_list.pop()) {
        let (sa, sb) = (&a.store, &b.store);
        let admin_a = sa
            .init("RCMP NCECC", "CA", None, "alice", "a long passphrase")
            .await
            .unwrap();
        let admin_b = sb
            .init("NCA CEOP", "GB", None, "bob", "a long passphrase")
            .await
            .unwrap();
        for (s, admin) in [(sa, &admin_a), (sb, &admin_b)] {
            s.add_user(admin, "lo", None, "liaison-officer", None)
                .await
                .unwrap();
        }
        sa.add_user(&admin_a, "inv", None, "investigator", None)
            .await
            .unwrap();
        sa.add_user(&admin_a, "erin", None, "forensic-examiner,supervisor", None)
            .await
            .unwrap();
        let (lo_a, lo_b) = (
            sa.principal("lo").await.unwrap(),
            sb.principal("lo").await.unwrap(),
        );
        let inv = sa.principal("inv").await.unwrap();
        let erin = sa.principal("erin").await.unwrap();
        sa.store_agency_keys(&lo_a, "FP-A", "{a}", "{sa}")
            .await
            .unwrap();
        sb.store_agency_keys(&lo_b, "FP-B", "{b}", "{sb}")
            .await
            .unwrap();
        let b_at_a = sa
            .import_partner_key(&lo_a, "NCA CEOP", "GB", "FP-B", "{b}")
            .await
            .unwrap();
        sb.import_partner_key(&lo_b, "RCMP NCECC", "CA", "FP-A", "{a}")
            .await
            .unwrap();

        // A's case: a chat log, then persons from it.
        let case = sa
            .create_case(&inv, "Hideout", Some("Op Hydrant"), &Release::Agency, "t")
            .await
            .unwrap();
        sa.add_case_member(&inv, case.id, "erin").await.unwrap();
        let log = vigil_chat::parse(LOG.as_bytes(), &vigil_chat::ParseOptions::default()).unwrap();
        let summary = vigil_chat::summarize(&log);
        sa.import_chat(
            &inv,
            &ChatImportRequest {
                case_id: case.id,
                file: "hideout.log".into(),
                room: "#hideout".into(),
                network: Some("ExampleNet".into()),
                officer_handle: None,
                summary: &summary,
            },
        )
        .await
        .unwrap();
        let persons = sa.list_persons(&inv, Some(case.id)).await.unwrap();
        let find = |label: &str| {
            persons
                .iter()
                .find(|p| p.label == label)
                .unwrap_or_else(|| panic!("{label} imported"))
                .clone()
        };
        let (fox, owl, boss) = (find("darkfox"), find("nightowl"), find("ChanBoss"));
        // darkfox: released to B. nightowl: attributed to GB, not released.
        // ChanBoss: not attributed, not released.
        sa.update_person(
            &inv,
            fox.id,
            &PersonUpdate {
                country: Some("GB".into()),
                release: Some(Release::To {
                    agencies: vec![b_at_a.agency_id],
                    countries: vec![],
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        sa.update_person(
            &inv,
            owl.id,
            &PersonUpdate {
                country: Some("GB".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        for (person, detail) in [
            (&fox, "arrest-detail-fox"),
            (&owl, "arrest-detail-owl"),
            (&boss, "arrest-detail-boss"),
        ] {
            let mut e = NewEvent::parse("arrest", "2026-01-05", "CA").unwrap();
            e.details = Some(detail.into());
            sa.add_event(&inv, person.id, &e, "t").await.unwrap();
        }
        sa.add_identifier(
            &inv,
            owl.id,
            &NewIdentifier::parse("phone", "+44 20 7946 0999").unwrap(),
            "t",
        )
        .await
        .unwrap();

        // Seized devices of darkfox and nightowl, each with one file that
        // matches a hash set.
        let (fox_file, owl_file) = (fake_file(1), fake_file(2));
        let csv = format!(
            "media_id,sha256,category\n1,{},1\n2,{},2\n",
            sha256_hex(&fox_file),
            sha256_hex(&owl_file)
        );
        sa.import_hash_set(
            &erin,
            &HashSetImportOptions {
                name: "known".into(),
                format: None,
                scheme: Some(vigil_hashset::CategoryScheme::ProjectVicUs),
                source: Some("synthetic".into()),
                file_name: "known.csv".into(),
                file_sha256: sha256_hex(csv.as_bytes()),
                file_size: csv.len() as u64,
                replace: false,
                max_distance: None,
            },
            std::io::Cursor::new(csv.clone().into_bytes()),
            |e| panic!("{e:?}"),
            |_| {},
        )
        .await
        .unwrap();
        for (person, label, bytes, path) in [
            (
                &fox,
                "fox laptop",
                &fox_file,
                "Users/fox/secret-fox-file.bin",
            ),
            (&owl, "owl phone", &owl_file, "DCIM/secret-owl-file.bin"),
        ] {
            let start = sa
                .begin_scan(&erin, case.id, label, &format!("/mnt/{}", person.id))
                .await
                .unwrap();
            sa.set_device_person(&erin, start.scan.device_id, person.id)
                .await
                .unwrap();
            sa.record_evidence(
                &erin,
                start.scan.id,
                &[EvidenceItem {
                    path: path.into(),
                    entry_type: "file".into(),
                    size: Some(bytes.len() as i64),
                    sha256: Some(sha256_hex(bytes)),
                    ..Default::default()
                }],
            )
            .await
            .unwrap();
            sa.finish_scan(&erin, start.scan.id).await.unwrap();
            let run = sa
                .match_scan(&erin, start.scan.id, &Default::default())
                .await
                .unwrap();
            assert_eq!(run.exact, 1, "{}", a.name);
        }

        let by_country = |f: &vigil_store::PersonFacts| AttributionNote {
            country: f.person.country.clone(),
            why: "entered".into(),
        };
        let lead_uid = "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0101";
        let built = sa
            .build_leads(
                &lo_a,
                "Op Hydrant",
                b_at_a.agency_id,
                lead_uid,
                by_country,
                plain,
            )
            .await
            .unwrap();
        let text = String::from_utf8(built.bytes.clone()).unwrap();
        let content: LeadsPayload = serde_json::from_slice(&built.bytes).unwrap();

        // Enumerate what A holds and check each record against the payload.
        let pool = sa.raw_pool_for_tests();
        let released_person = |id: i64| id == fox.id;
        let all_persons = sqlx::query("SELECT id, uid, label FROM persons")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(all_persons.len() >= 3);
        for r in &all_persons {
            let (id, uid, label): (i64, String, String) =
                (r.get("id"), r.get("uid"), r.get("label"));
            let in_pkg = content.persons.iter().any(|p| p.uid == uid);
            assert_eq!(in_pkg, released_person(id), "person {label}");
            if !released_person(id) {
                assert!(!text.contains(&uid), "unreleased person uid {label} leaked");
            }
        }
        let in_pkg_idents: Vec<&str> = content
            .persons
            .iter()
            .flat_map(|p| p.identifiers.iter().map(|i| i.uid.as_str()))
            .collect();
        let all_idents = sqlx::query("SELECT uid, person_id, raw FROM identifiers")
            .fetch_all(&pool)
            .await
            .unwrap();
        for r in &all_idents {
            let (uid, person, raw): (String, Option<i64>, String) =
                (r.get("uid"), r.get("person_id"), r.get("raw"));
            let released = person.is_some_and(released_person);
            assert_eq!(in_pkg_idents.contains(&uid.as_str()), released, "{raw}");
            if !released {
                assert!(!text.contains(&uid), "identifier {raw} leaked");
            }
        }
        assert!(text.contains("fox.trader@example.com"));
        assert!(!text.contains("+44 20 7946 0999"));
        let all_events = sqlx::query("SELECT uid, person_id, details FROM events")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(all_events.len(), 3);
        for r in &all_events {
            let (uid, person, details): (String, i64, Option<String>) =
                (r.get("uid"), r.get("person_id"), r.get("details"));
            let details = details.unwrap();
            assert_eq!(text.contains(&uid), released_person(person), "{details}");
            assert_eq!(
                text.contains(&details),
                released_person(person),
                "{details}"
            );
        }
        // Chat: each stored message is in the package iff darkfox said it
        // or an identifier of his was extracted from its line.
        let excerpts: Vec<vigil_store::ChatExcerpt> =
            serde_json::from_value(content.sections["chat_excerpts"].clone()).unwrap();
        let all_messages = sqlx::query("SELECT event_key, handle, text FROM chat_messages")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert!(all_messages.len() >= 4, "{}", all_messages.len());
        let mut carried = 0;
        for r in &all_messages {
            let (key, handle, msg): (String, String, String) =
                (r.get("event_key"), r.get("handle"), r.get("text"));
            let expected = handle == "darkfox";
            let found = excerpts.iter().any(|x| x.key == key);
            assert_eq!(found, expected, "message {handle}: {msg}");
            assert_eq!(text.contains(&msg), expected, "message {handle}: {msg}");
            carried += usize::from(found);
        }
        assert_eq!(carried, 2);
        let mail = excerpts
            .iter()
            .find(|x| x.text.contains("fox.trader@example.com"))
            .unwrap();
        assert_eq!(
            (mail.person_uid.as_str(), mail.room.as_str(), mail.line),
            (fox.uid.as_str(), "#hideout", Some(4))
        );
        assert!(mail.time.is_some());
        // Hash matches: darkfox's file only; hashes and category, no path.
        let hashes: Vec<vigil_store::HashMatchLead> =
            serde_json::from_value(content.sections["hash_matches"].clone()).unwrap();
        assert_eq!(hashes.len(), 1);
        assert_eq!(
            hashes[0].sha256.as_deref(),
            Some(sha256_hex(&fox_file).as_str())
        );
        assert_eq!(hashes[0].category, "csam");
        assert_eq!(hashes[0].device, "fox laptop");
        assert!(!text.contains(&sha256_hex(&owl_file)));
        assert!(!text.contains("secret-fox-file") && !text.contains("secret-owl-file"));
        assert!(!text.contains("owl phone"));
        for bytes in [&fox_file, &owl_file] {
            assert!(
                !built
                    .bytes
                    .windows(32)
                    .any(|w| bytes.windows(32).any(|b| b == w))
            );
        }
        assert_eq!(built.record.summary["chat_excerpts"], 2);
        assert_eq!(built.record.summary["hash_matches"], 1);

        // B imports; received records carry their provenance as columns.
        let pkg = ReceivedPackage {
            package_uid: lead_uid.into(),
            sender_fingerprint: "FP-A".into(),
            in_reply_to: None,
        };
        let got = sb.import_leads(&lo_b, &pkg, &content).await.unwrap();
        assert_eq!(
            (
                got.persons_added,
                got.chat_excerpts_added,
                got.hash_matches_added
            ),
            (1, 2, 1)
        );
        let bpool = sb.raw_pool_for_tests();
        let a_at_b: i64 = sqlx::query("SELECT id FROM agencies WHERE name = 'RCMP NCECC'")
            .fetch_one(&bpool)
            .await
            .unwrap()
            .get("id");
        for table in [
            "persons",
            "identifiers",
            "events",
            "chat_messages",
            "received_hash_matches",
        ] {
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT received_from_agency, received_package FROM {table}"
            )))
            .fetch_all(&bpool)
            .await
            .unwrap();
            assert!(!rows.is_empty(), "{table}");
            for r in rows {
                let from: Option<i64> = r.get("received_from_agency");
                let package: Option<String> = r.get("received_package");
                assert_eq!(
                    (from, package.as_deref()),
                    (Some(a_at_b), Some(lead_uid)),
                    "{table}"
                );
            }
        }

        // A content whose section is malformed changes nothing at B.
        let mut bad = content.clone();
        bad.sections
            .insert("hash_matches".into(), serde_json::json!([{"key": "x"}]));
        let bad_pkg = ReceivedPackage {
            package_uid: "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0199".into(),
            ..pkg.clone()
        };
        let before = snapshot(sb).await;
        assert!(matches!(
            sb.import_leads(&lo_b, &bad_pkg, &bad).await,
            Err(StoreError::Invalid(e)) if e.to_string().contains("hash_matches")
        ));
        assert_eq!(snapshot(sb).await, before);

        // Acknowledgement: A's package goes built → sent → acknowledged.
        let sent = sa.mark_package_sent(&lo_a, lead_uid).await.unwrap();
        assert_eq!(sent.state, "sent");
        assert!(sent.sent_at.is_some() && sent.acknowledged_at.is_none());
        let ack_uid = "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0102";
        let ack = sb.build_ack(&lo_b, lead_uid, ack_uid, plain).await.unwrap();
        assert_eq!(ack.record.kind, "ack");
        let ack_content: AckPayload = serde_json::from_slice(&ack.bytes).unwrap();
        assert_eq!(ack_content.acknowledges, lead_uid);
        let ack_pkg = ReceivedPackage {
            package_uid: ack_uid.into(),
            sender_fingerprint: "FP-B".into(),
            in_reply_to: Some(lead_uid.into()),
        };
        // An ack naming a package A never sent to B changes nothing.
        let mut stray = ack_content.clone();
        stray.acknowledges = "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0fff".into();
        let stray_pkg = ReceivedPackage {
            in_reply_to: None,
            ..ack_pkg.clone()
        };
        let before = snapshot(sa).await;
        assert!(matches!(
            sa.import_ack(&lo_a, &stray_pkg, &stray).await,
            Err(StoreError::Invalid(e)) if e.to_string().contains("not a package we sent")
        ));
        assert_eq!(snapshot(sa).await, before);
        let acked = sa.import_ack(&lo_a, &ack_pkg, &ack_content).await.unwrap();
        assert_eq!(acked.package_uid, lead_uid);
        assert_eq!(acked.state, "acknowledged");
        assert!(acked.acknowledged_at.is_some());
        let after = snapshot(sa).await;
        assert!(matches!(
            sa.import_ack(&lo_a, &ack_pkg, &ack_content).await,
            Err(StoreError::Conflict(m)) if m.contains("already imported")
        ));
        assert_eq!(snapshot(sa).await, after);
        let listed = sa.list_packages(&lo_a).await.unwrap();
        let leads = listed.iter().find(|p| p.package_uid == lead_uid).unwrap();
        assert_eq!(leads.state, "acknowledged");
        assert!(
            listed
                .iter()
                .any(|p| p.kind == "ack" && p.direction == "received")
        );
    }
}
