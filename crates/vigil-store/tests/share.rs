//! Dissemination in the store: two instances exchange a lead package and the
//! outcomes (the envelope is an identity "seal" here — the CLI test covers
//! the real cryptography), releases decide what leaves, imports are all or
//! nothing, and outcome_counts reflect what came back.

mod common;

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
