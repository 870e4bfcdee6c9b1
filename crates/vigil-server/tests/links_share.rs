//! Links, alerts, dissemination and the outcomes dashboard through the
//! router (API and pages), on SQLite and, when `VIGIL_TEST_DATABASE_URL`
//! is set, PostgreSQL. Agency B must never see agency A's unreleased
//! candidates, alert content or attribution.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_store::{
    AttributionNote, LeadsPayload, OutcomesPayload, PersonUpdate, ReceivedPackage, Store,
};

use crate::common::{self, PW, form, get, hidden_csrf, page, post_json, send, sign_in};

struct World {
    name: &'static str,
    app: Router,
    token_a: String,
    token_b: String,
    /// Agency A's liaison officer.
    token_lo: String,
    /// A's suspects `SonOfGod` (older) and `Son_of_G0d` (newer), one case.
    god: i64,
    god2: i64,
    case_a: i64,
    /// B's person holding the same e-mail as `god`.
    person_b: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn world(b: common::Backend) -> World {
    let store = b.store;
    let people = common::two_agencies(&store, "investigator").await;
    store
        .add_user(&people.admin, "lo", None, "liaison-officer", Some(PW))
        .await
        .unwrap();
    let (alice, bob) = (people.alice, people.bob);
    let lo = store.principal("lo").await.unwrap();
    let case = store
        .create_case(
            &alice,
            "Room Nightjar",
            Some("Op Heron"),
            &Release::Agency,
            "test",
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for label in ["SonOfGod", "Son_of_G0d"] {
        let p = store
            .add_person(
                &alice,
                case.id,
                &NewPerson::parse("suspect", label).unwrap(),
                "test",
            )
            .await
            .unwrap();
        ids.push(p.id);
    }
    store
        .update_person(
            &alice,
            ids[0],
            &PersonUpdate {
                country: Some("CA".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .add_identifier(
            &alice,
            ids[0],
            &NewIdentifier::parse("email", "god.host@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    let case_b = store
        .create_case(
            &bob,
            "Forum Kestrel",
            Some("Op Kite"),
            &Release::Agency,
            "t",
        )
        .await
        .unwrap();
    let pb = store
        .add_person(
            &bob,
            case_b.id,
            &NewPerson::parse("suspect", "kestrel_admin").unwrap(),
            "test",
        )
        .await
        .unwrap();
    // B stores an e-mail A already holds: a blind hit for both sides.
    store
        .add_identifier(
            &bob,
            pb.id,
            &NewIdentifier::parse("email", "God.Host@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .store_agency_keys(&lo, "FP-A", "{bundle a}", "{secret a}")
        .await
        .unwrap();
    World {
        name: b.name,
        app: common::app(&store, None),
        token_a: common::token(&store, &alice).await,
        token_b: common::token(&store, &bob).await,
        token_lo: common::token(&store, &lo).await,
        god: ids[0],
        god2: ids[1],
        case_a: case.id,
        person_b: pb.id,
        _dir: b.dir,
    }
}

async fn worlds() -> Vec<World> {
    let mut v = Vec::new();
    for b in common::backends().await {
        v.push(world(b).await);
    }
    v
}

/// The candidate between `god` and `god2`, as `token` sees it.
async fn candidate(w: &World, token: &str) -> Option<Value> {
    let r = send(
        &w.app,
        get(&format!("/api/links/candidates?person_id={}", w.god), token),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}: {}", w.name, r.text());
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            let ids = [c["person_a"]["id"].as_i64(), c["person_b"]["id"].as_i64()];
            ids.contains(&Some(w.god)) && ids.contains(&Some(w.god2))
        })
        .cloned()
}

#[tokio::test]
async fn candidates_carry_evidence_and_decisions_round_trip() {
    for w in worlds().await {
        let c = candidate(&w, &w.token_a).await.expect("candidate listed");
        assert!(c["score"].as_f64().unwrap() > 0.0, "{}: {c}", w.name);
        assert_eq!(c["status"], "open");
        assert_eq!(c["cross_agency"], false);
        let ev = c["evidence"].as_array().unwrap();
        assert!(
            ev.iter()
                .any(|e| e["kind"].as_str().unwrap().starts_with("handle")
                    && e["detail"].as_str().unwrap().to_lowercase().contains("son")),
            "handle evidence naming the compared values: {c}"
        );
        let id = c["id"].as_i64().unwrap();
        // By case too; paginated.
        let by_case = send(
            &w.app,
            get(
                &format!("/api/links/candidates?case_id={}&limit=1", w.case_a),
                &w.token_a,
            ),
        )
        .await
        .json();
        assert!(by_case["page"]["total"].as_u64().unwrap() >= 1);
        assert_eq!(by_case["items"].as_array().unwrap().len(), 1);

        // Agency B sees nothing of it and cannot decide it.
        assert!(candidate(&w, &w.token_b).await.is_none(), "{}", w.name);
        let all_b = send(&w.app, get("/api/links/candidates", &w.token_b))
            .await
            .json();
        assert!(!all_b.to_string().contains("SonOfGod"));
        for d in ["accept", "reject"] {
            let r = send(
                &w.app,
                post_json(
                    &format!("/api/links/candidates/{id}/{d}"),
                    &w.token_b,
                    json!({"note": "probe"}),
                ),
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{}: {d}: {}",
                w.name,
                r.text()
            );
        }
        let r = send(
            &w.app,
            post_json(
                &format!("/api/persons/{}/unmerge", w.god2),
                &w.token_b,
                json!({}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", w.name);

        // Accept merges the newer person into the older, unmerge restores.
        let before = send(&w.app, get(&format!("/api/persons/{}", w.god), &w.token_a))
            .await
            .json();
        let m = send(
            &w.app,
            post_json(
                &format!("/api/links/candidates/{id}/accept"),
                &w.token_a,
                json!({"note": "same host, confirmed by the room log"}),
            ),
        )
        .await;
        assert_eq!(m.status, StatusCode::OK, "{}: {}", w.name, m.text());
        assert_eq!(m.json()["kept"], w.god);
        assert_eq!(m.json()["merged"], w.god2);
        let u = send(
            &w.app,
            Request::post(format!("/api/persons/{}/unmerge", w.god2).as_str())
                .header(header::AUTHORIZATION, format!("Bearer {}", w.token_a))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(u.status, StatusCode::OK, "{}: {}", w.name, u.text());
        let again = send(
            &w.app,
            Request::post(format!("/api/persons/{}/unmerge", w.god2).as_str())
                .header(header::AUTHORIZATION, format!("Bearer {}", w.token_a))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "not merged any more");
        let after = send(&w.app, get(&format!("/api/persons/{}", w.god), &w.token_a))
            .await
            .json();
        assert_eq!(before, after, "{}: unmerge restores the person", w.name);
        assert_eq!(
            candidate(&w, &w.token_a).await.unwrap()["status"],
            "open",
            "the decision is undone too"
        );

        // Reject keeps the note.
        let r = send(
            &w.app,
            post_json(
                &format!("/api/links/candidates/{id}/reject"),
                &w.token_a,
                json!({"note": "different people"}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let c = candidate(&w, &w.token_a).await.unwrap();
        assert_eq!(c["status"], "rejected");
        assert_eq!(c["note"], "different people");
        assert_eq!(c["decided_by"], "alice");
        let missing = send(
            &w.app,
            post_json("/api/links/candidates/999999/reject", &w.token_a, json!({})),
        )
        .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn exact_links_and_alerts_reveal_only_who_to_call() {
    for w in worlds().await {
        // B's view: a blind hit naming agency A and its contact only.
        let l = send(
            &w.app,
            get(&format!("/api/persons/{}/links", w.person_b), &w.token_b),
        )
        .await;
        assert_eq!(l.status, StatusCode::OK, "{}: {}", w.name, l.text());
        let links = l.json();
        let other = &links["items"][0]["other"];
        assert_eq!(other["visibility"], "blind", "{links}");
        assert_eq!(other["agency"], "Agency A");
        assert_eq!(other["contact"], "desk-a@example.org");
        assert!(other["person_id"].is_null() && other["case_title"].is_null());
        for hidden in ["SonOfGod", "Room Nightjar"] {
            assert!(!l.text().contains(hidden), "{hidden} leaked");
        }
        // A's person page data is not B's to read.
        let r = send(
            &w.app,
            get(&format!("/api/persons/{}/links", w.god), &w.token_b),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", w.name);

        let alerts_b = send(&w.app, get("/api/alerts", &w.token_b)).await;
        assert_eq!(alerts_b.status, StatusCode::OK);
        let ab = alerts_b.json();
        let mine = ab["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["other"]["agency"] == "Agency A")
            .cloned()
            .unwrap_or_else(|| panic!("{}: no alert for B: {ab}", w.name));
        assert_eq!(mine["other"]["visibility"], "blind");
        assert_eq!(mine["value"], "god.host@example.net");
        assert!(!alerts_b.text().contains("SonOfGod"));
        assert!(!alerts_b.text().contains("Room Nightjar"));

        // A is alerted too, and sees B's record only as a blind hit.
        let aa = send(&w.app, get("/api/alerts", &w.token_a)).await.json();
        let theirs = aa["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["other"]["agency"] == "Agency B")
            .cloned()
            .unwrap_or_else(|| panic!("{}: no alert for A: {aa}", w.name));
        assert_eq!(theirs["other"]["contact"], "desk-b@example.org");
        assert!(!aa.to_string().contains("kestrel_admin"));

        // Marking read: only one's own agency's alerts.
        let id = mine["id"].as_i64().unwrap();
        let r = send(
            &w.app,
            post_json(&format!("/api/alerts/{id}/read"), &w.token_a, json!({})),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", w.name);
        let r = send(
            &w.app,
            post_json(&format!("/api/alerts/{id}/read"), &w.token_b, json!({})),
        )
        .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
        let unread = send(&w.app, get("/api/alerts?unread=true", &w.token_b))
            .await
            .json();
        assert!(
            unread["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["id"].as_i64() != Some(id))
        );
        let all = send(&w.app, get("/api/alerts", &w.token_b)).await.json();
        assert!(
            all["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["id"].as_i64() == Some(id) && a["read"] == true)
        );
    }
}

#[tokio::test]
async fn attribution_packages_and_keys() {
    for w in worlds().await {
        let r = send(
            &w.app,
            get("/api/attribution?operation=Op+Heron", &w.token_a),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", w.name, r.text());
        let a = r.json();
        let db = &a["databases"][0];
        assert!(!db["name"].as_str().unwrap().is_empty(), "{a}");
        assert_eq!(db["built"].as_str().unwrap().len(), 10, "a date");
        let god = a["persons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["person_id"] == w.god)
            .unwrap();
        assert_eq!(god["country"], "CA");
        assert_eq!(god["confidence"], "strong", "{god}");
        assert!(
            god["signals"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["kind"] == "agency_input")
        );
        assert!(
            a["by_country"]
                .as_array()
                .unwrap()
                .contains(&json!({"country": "CA", "suspects": 1, "conflicts": 0})),
            "{a}"
        );
        assert!(
            a["by_country"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["country"] == "unattributed"),
            "Son_of_G0d has no evidence: {a}"
        );
        let page = send(
            &w.app,
            get("/api/attribution?operation=Op+Heron&limit=1", &w.token_a),
        )
        .await
        .json();
        assert_eq!(page["persons"].as_array().unwrap().len(), 1);
        assert_eq!(page["page"]["total"], 2);

        // Agency B: the operation's suspects are not released to it.
        let b = send(
            &w.app,
            get("/api/attribution?operation=Op+Heron", &w.token_b),
        )
        .await;
        assert_eq!(b.status, StatusCode::OK, "{}", b.text());
        assert_eq!(b.json()["persons"].as_array().unwrap().len(), 0);
        assert!(!b.text().contains("SonOfGod"));
        for (uri, status) in [
            ("/api/attribution", StatusCode::BAD_REQUEST),
            ("/api/attribution?operation=", StatusCode::BAD_REQUEST),
            (
                "/api/attribution?operation=No+such+op",
                StatusCode::NOT_FOUND,
            ),
        ] {
            let r = send(&w.app, get(uri, &w.token_a)).await;
            assert_eq!(r.status, status, "{}: {uri}: {}", w.name, r.text());
        }

        // Packages and keys: liaison officers only.
        for uri in ["/api/packages", "/api/keys"] {
            let r = send(&w.app, get(uri, &w.token_a)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}: {uri}", w.name);
            let r = send(&w.app, get(uri, &w.token_lo)).await;
            assert_eq!(r.status, StatusCode::OK, "{}: {uri}: {}", w.name, r.text());
        }
        let keys = send(&w.app, get("/api/keys", &w.token_lo)).await.json();
        assert_eq!(keys["local"][0]["fingerprint"], "FP-A");
        assert!(!keys.to_string().contains("secret"), "public parts only");
        let pk = send(&w.app, get("/api/packages", &w.token_lo)).await.json();
        assert_eq!(pk["page"]["total"], 0);
    }
}

#[tokio::test]
async fn pages_show_links_alerts_and_dissemination_without_images() {
    for w in worlds().await {
        let alice = sign_in(&w.app, "alice").await;
        let p = send(&w.app, page(&format!("/persons/{}", w.god), &alice)).await;
        assert_eq!(p.status, StatusCode::OK, "{}: {}", w.name, p.text());
        let html = p.text();
        for text in [
            "Candidate links",
            "Son_of_G0d",
            "Weight (bits)",
            "Accept and merge",
            "Exact links",
            "Blind hit: Agency B (GB) holds a matching record",
            "desk-b@example.org",
            "Timeline",
        ] {
            assert!(html.contains(text), "{}: person page lacks {text}", w.name);
        }
        assert!(!html.contains("kestrel_admin"), "B's record stays hidden");
        let c = candidate(&w, &w.token_a).await.unwrap();
        let cid = c["id"].as_i64().unwrap();
        // The decision forms need the CSRF token.
        let uri = format!("/persons/{}/candidates/{cid}/reject", w.god);
        let no = send(&w.app, form(&uri, &alice, "note=x")).await;
        assert_eq!(no.status, StatusCode::FORBIDDEN);
        let csrf = hidden_csrf(&html);
        let ok = send(
            &w.app,
            form(&uri, &alice, &format!("note=not+the+same&csrf={csrf}")),
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text());
        assert_eq!(
            candidate(&w, &w.token_a).await.unwrap()["status"],
            "rejected"
        );

        let bob = sign_in(&w.app, "bob").await;
        let al = send(&w.app, page("/alerts", &bob)).await;
        assert_eq!(al.status, StatusCode::OK, "{}", al.text());
        assert!(
            al.text().contains("Blind hit: Agency A (CA)"),
            "{}",
            al.text()
        );
        assert!(al.text().contains("desk-a@example.org"));
        assert!(!al.text().contains("SonOfGod") && !al.text().contains("Room Nightjar"));
        let csrf = hidden_csrf(&al.text());
        let id = send(&w.app, get("/api/alerts", &w.token_b)).await.json()["items"][0]["id"]
            .as_i64()
            .unwrap();
        let r = send(
            &w.app,
            form(&format!("/alerts/{id}/read"), &bob, &format!("csrf={csrf}")),
        )
        .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // B cannot open A's person page either.
        let r = send(&w.app, page(&format!("/persons/{}", w.god), &bob)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);

        let d = send(&w.app, page("/dissemination?operation=Op+Heron", &alice)).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        for text in [
            "Attribution by country",
            "<svg",
            "built ",
            "SonOfGod",
            "country entered by the agency",
            "Packages are handled by liaison officers",
        ] {
            assert!(
                d.text().contains(text),
                "{}: dissemination lacks {text}",
                w.name
            );
        }
        let lo = sign_in(&w.app, "lo").await;
        let d = send(&w.app, page("/dissemination", &lo)).await;
        assert_eq!(d.status, StatusCode::OK);
        assert!(d.text().contains("FP-A"), "own key fingerprint");
        assert!(d.text().contains("No packages built or received yet."));
        let db = send(&w.app, page("/dissemination?operation=Op+Heron", &bob)).await;
        assert!(!db.text().contains("SonOfGod"), "B sees no A suspects");

        for (path, cookie) in [
            (format!("/persons/{}", w.god), &alice),
            ("/alerts".to_string(), &bob),
            ("/dissemination".to_string(), &lo),
            (
                "/?operation=Op+Heron&country=CA&agency=Agency+A".to_string(),
                &alice,
            ),
        ] {
            let r = send(&w.app, page(&path, cookie)).await;
            assert_eq!(r.status, StatusCode::OK, "{}: {path}", w.name);
            assert!(r.text().contains("<main"), "{path}");
            assert!(!r.text().contains("<img"), "{path}: no images");
            assert!(r.text().contains("href=\"/alerts\""), "nav entry");
            assert!(r.text().contains("href=\"/dissemination\""), "nav entry");
        }
    }
}

/// Two agencies, two stores: A sends a lead to B, B records an arrest and a
/// safeguarded child and sends the outcomes back; A's dashboard counts them
/// (per country and per reporting agency), on the API and the page.
#[tokio::test]
async fn the_dashboard_counts_outcomes_received_back_through_a_package() {
    // Two databases of each backend, one per agency's instance.
    let pairs: Vec<(&str, Store, Store, _)> = common::backends()
        .await
        .into_iter()
        .zip(common::backends().await)
        .map(|(a, b)| (a.name, a.store, b.store, (a.dir, b.dir)))
        .collect();
    for (name, sa, sb, _dirs) in pairs {
        let admin_a = sa
            .init("RCMP NCECC", "CA", None, "alice", PW)
            .await
            .unwrap();
        let admin_b = sb.init("NCA CEOP", "GB", None, "bob", PW).await.unwrap();
        sa.add_user(&admin_a, "lo", None, "liaison-officer", None)
            .await
            .unwrap();
        sb.add_user(&admin_b, "lo", None, "liaison-officer", None)
            .await
            .unwrap();
        let lo_a = sa.principal("lo").await.unwrap();
        let lo_b = sb.principal("lo").await.unwrap();
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
        let case = sa
            .create_case(&admin_a, "Room", Some("Op Hydrant"), &Release::Agency, "t")
            .await
            .unwrap();
        let god = sa
            .add_person(
                &admin_a,
                case.id,
                &NewPerson::parse("suspect", "G.O.D.").unwrap(),
                "t",
            )
            .await
            .unwrap();
        sa.update_person(
            &admin_a,
            god.id,
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
        let built = sa
            .build_leads(
                &lo_a,
                "Op Hydrant",
                b_at_a.agency_id,
                "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0101",
                |f: &vigil_store::PersonFacts| AttributionNote {
                    country: f.person.country.clone(),
                    why: "entered".into(),
                },
                |x: &[u8]| Ok::<Vec<u8>, String>(x.to_vec()),
            )
            .await
            .unwrap();
        let leads: LeadsPayload = serde_json::from_slice(&built.bytes).unwrap();
        let got = sb
            .import_leads(
                &lo_b,
                &ReceivedPackage {
                    package_uid: built.record.package_uid.clone(),
                    sender_fingerprint: "FP-A".into(),
                    in_reply_to: None,
                },
                &leads,
            )
            .await
            .unwrap();
        let received = sb
            .list_persons(&admin_b, got.package.case_id)
            .await
            .unwrap();
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
        let app_a = common::app(&sa, None);
        let (_, token) = sa.create_api_token(&admin_a, "ci", None).await.unwrap();
        let before = send(&app_a, get("/api/dashboard?operation=Op+Hydrant", &token))
            .await
            .json();
        assert_eq!(before["outcomes"]["suspects_identified"], 1, "{name}");
        assert_eq!(before["outcomes"]["arrested"], 0);

        let out = sb
            .build_outcomes(
                &lo_b,
                got.package.peer_agency_id,
                "8d0c8a52-7a43-4a8e-9a51-3c1d1f1e0102",
                |x: &[u8]| Ok::<Vec<u8>, String>(x.to_vec()),
            )
            .await
            .unwrap();
        let outcomes: OutcomesPayload = serde_json::from_slice(&out.bytes).unwrap();
        sa.import_outcomes(
            &lo_a,
            &ReceivedPackage {
                package_uid: out.record.package_uid.clone(),
                sender_fingerprint: "FP-B".into(),
                in_reply_to: None,
            },
            &outcomes,
        )
        .await
        .unwrap();

        let d = send(&app_a, get("/api/dashboard?operation=Op+Hydrant", &token)).await;
        assert_eq!(d.status, StatusCode::OK, "{name}: {}", d.text());
        let d = d.json();
        assert_eq!(d["outcomes"]["arrested"], 1, "{name}: {d}");
        assert_eq!(d["outcomes"]["children_safeguarded"], 1);
        assert_eq!(d["outcomes"]["suspects_identified"], 1);
        let row = |rows: &Value, key: &str| {
            rows.as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == key)
                .map(|r| r["outcomes"].clone())
                .unwrap_or_else(|| panic!("no row {key}: {rows}"))
        };
        assert_eq!(row(&d["by_country"], "GB")["arrested"], 1);
        assert_eq!(row(&d["by_agency"], "NCA CEOP")["arrested"], 1);
        assert_eq!(row(&d["by_agency"], "RCMP NCECC")["suspects_identified"], 1);
        assert_eq!(row(&d["by_month"], "2026-01")["children_safeguarded"], 1);
        assert_eq!(row(&d["by_operation"], "Op Hydrant")["arrested"], 1);
        // The same numbers as the CLI's outcome counts.
        let counts = sa.outcome_counts(&admin_a, "Op Hydrant").await.unwrap();
        assert_eq!(d["outcomes"]["arrested"], counts.total.arrested);
        // Filters: by the reporting agency, by another country.
        let f = send(&app_a, get("/api/dashboard?agency=NCA+CEOP", &token))
            .await
            .json();
        assert_eq!(f["outcomes"]["arrested"], 1, "{f}");
        assert_eq!(f["outcomes"]["suspects_identified"], 0, "suspects are A's");
        let f = send(&app_a, get("/api/dashboard?country=us", &token))
            .await
            .json();
        assert_eq!(f["outcomes"]["arrested"], 0);
        assert_eq!(f["country"], "US");
        let bad = send(&app_a, get("/api/dashboard?country=Nowhere", &token)).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        // The page shows the received outcomes with charts and tables.
        let cookie = sign_in(&app_a, "alice").await;
        let p = send(&app_a, page("/?operation=Op+Hydrant", &cookie)).await;
        assert_eq!(p.status, StatusCode::OK);
        let html = p.text();
        assert!(html.contains("<svg"), "charts");
        assert!(html.contains("NCA CEOP"), "the reporting agency's row");
        assert!(
            html.contains("<span class=\"n\">1</span> children safeguarded"),
            "{name}"
        );
        assert!(!html.contains("<img"));
        sa.close().await;
        sb.close().await;
    }
}
