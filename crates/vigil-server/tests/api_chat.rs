//! Chat, scans and hash sets over the API and on the web pages, on SQLite
//! and, when `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL. All data is
//! synthetic: invented handles, documentation IPs, example.* domains.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use vigil_domain::Release;
use vigil_store::{EvidenceItem, HashSetImportOptions};

use crate::common::{self, get, post_json, post_text, send};

/// An irssi log as irssi writes it, with a line that tries to inject HTML.
const IRSSI: &str = "--- Log opened Mon Mar 02 23:39:58 2009
23:40 -!- darkfox [~fox@192.0.2.10] has joined #hideout
23:40 -!- mode/#hideout [+o darkfox] by ChanBoss
23:41 <@ChanBoss> welcome back
23:41 <@darkfox> ty. my skype is live:dark.fox77
23:42 -!- nightowl [~owl@198.51.100.7] has joined #hideout
23:42 < nightowl> darkfox: got the new set to trade?
23:43 <@darkfox> nightowl: yes, mail me at fox.trader@example.com
23:44 < nightowl> <script>alert(1)</script> trade later
23:47 -!- DCC SEND from darkfox [198.51.100.23 port 5000]: set_04.zip [7MB]
--- Day changed Tue Mar 03 2009
00:05 -!- darkfox is now known as dfox
00:06 <@dfox> brb
--- Log closed Tue Mar 03 00:10:12 2009
";

const KNOWN_MD5: &str = "0123456789abcdef0123456789abcdef";

struct World {
    name: &'static str,
    app: Router,
    token_a: String,
    token_b: String,
    case_a: i64,
    scan_a: i64,
    _dirs: Vec<tempfile::TempDir>,
}

async fn world(b: common::Backend) -> World {
    let store = b.store;
    let people = common::two_agencies(&store, "investigator,forensic-examiner").await;
    let (alice, bob) = (people.alice, people.bob);
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

    // A scan with one known file (by MD5) and one unknown image.
    let start = store
        .begin_scan(&alice, case.id, "laptop-1", "/mnt/seized")
        .await
        .unwrap();
    let items = vec![
        EvidenceItem {
            path: "photos/a.jpg".into(),
            entry_type: "file".into(),
            size: Some(1000),
            mime: Some("image/jpeg".into()),
            md5: Some(KNOWN_MD5.into()),
            ..Default::default()
        },
        EvidenceItem {
            path: "photos/b.png".into(),
            entry_type: "file".into(),
            size: Some(2000),
            mime: Some("image/png".into()),
            md5: Some("fedcba9876543210fedcba9876543210".into()),
            pdq: Some("f".repeat(64)),
            pdq_quality: Some(100),
            ..Default::default()
        },
        EvidenceItem {
            path: "notes.txt".into(),
            entry_type: "file".into(),
            size: Some(10),
            mime: Some("text/plain".into()),
            md5: Some("00000000000000000000000000000001".into()),
            ..Default::default()
        },
    ];
    store
        .record_evidence(&alice, start.scan.id, &items)
        .await
        .unwrap();
    store.finish_scan(&alice, start.scan.id).await.unwrap();

    // A hash set holding the known file's MD5.
    let csv = format!("md5,category,series\n{KNOWN_MD5},1,Blue Kite\n");
    store
        .import_hash_set(
            &alice,
            &HashSetImportOptions {
                name: "test-set".into(),
                format: None,
                scheme: None,
                source: Some("synthetic test list".into()),
                file_name: "set.csv".into(),
                file_sha256: "a".repeat(64),
                file_size: csv.len() as u64,
                replace: false,
                max_distance: None,
            },
            std::io::Cursor::new(csv.into_bytes()),
            |_| {},
            |_| {},
        )
        .await
        .unwrap();

    let token_a = common::token(&store, &alice).await;
    let token_b = common::token(&store, &bob).await;
    let search = vigil_testkit::tempdir();
    let app = common::app(&store, Some(search.path().join("index")));
    let dirs = b.dir.into_iter().chain([search]).collect();
    World {
        name: b.name,
        app,
        token_a,
        token_b,
        case_a: case.id,
        scan_a: start.scan.id,
        _dirs: dirs,
    }
}

async fn worlds() -> Vec<World> {
    let mut v = Vec::new();
    for b in common::backends().await {
        v.push(world(b).await);
    }
    v
}

/// Signs in through the form; returns the `Cookie` header value.
async fn session(app: &Router, user: &str) -> String {
    common::sign_in(app, user).await
}

async fn page(app: &Router, cookie: &str, uri: &str) -> common::Reply {
    send(app, common::page(uri, cookie)).await
}

/// Imports the test log through the API as JSON; returns the answer.
async fn import(w: &World) -> Value {
    let r = send(
        &w.app,
        post_json(
            "/api/chat/import",
            &w.token_a,
            json!({"case_id": w.case_a, "log": IRSSI, "network": "ExampleNet",
                   "officer_handle": "ChanBoss", "file_name": "hideout.log"}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}: {}", w.name, r.text());
    r.json()
}

#[tokio::test]
async fn chat_import_search_and_rooms_over_the_api() {
    for w in worlds().await {
        let first = import(&w).await;
        assert_eq!(first["format"], "irssi", "{}", w.name);
        assert_eq!(first["room"], "#hideout");
        assert_eq!(first["messages_added"], 6);
        assert_eq!(first["nick_changes"], 1);
        assert_eq!(first["file_offers"], 1);
        assert_eq!(first["indexed"], true);
        let idents = first["identifiers"].as_array().unwrap();
        assert!(
            idents
                .iter()
                .any(|i| i["value"] == "fox.trader@example.com" && i["owner"] == "darkfox"),
            "{idents:?}"
        );
        // The same log as text/plain adds nothing.
        let again = send(
            &w.app,
            post_text(
                &format!(
                    "/api/chat/import?case_id={}&network=ExampleNet&file_name=hideout.log",
                    w.case_a
                ),
                &w.token_a,
                IRSSI,
            ),
        )
        .await;
        assert_eq!(again.status, StatusCode::CREATED, "{}", again.text());
        assert_eq!(again.json()["messages_added"], 0);
        assert_eq!(again.json()["room_id"], first["room_id"]);
        // Not a chat log: 422 problem.
        let bad = send(
            &w.app,
            post_text(
                &format!("/api/chat/import?case_id={}", w.case_a),
                &w.token_a,
                "this is a shopping list\nmilk\neggs\n",
            ),
        )
        .await;
        assert_eq!(
            bad.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            bad.text()
        );
        assert_eq!(bad.content_type(), "application/problem+json");
        // Agency B cannot import into A's case.
        let refused = send(
            &w.app,
            post_json(
                "/api/chat/import",
                &w.token_b,
                json!({"case_id": w.case_a, "log": IRSSI}),
            ),
        )
        .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.text());

        // Search: highlighted, escaped, linked to the room.
        let s = send(&w.app, get("/api/chat/search?q=trade", &w.token_a))
            .await
            .json();
        assert_eq!(s["page"]["total"], 2, "{}: {s}", w.name);
        let hits = s["items"].as_array().unwrap();
        assert!(hits.iter().all(|h| h["room_id"] == first["room_id"]));
        let inj = hits
            .iter()
            .find(|h| h["snippet"].as_str().unwrap().contains("<script>"))
            .expect("the injection line is a hit");
        let html = inj["snippet_html"].as_str().unwrap();
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("<mark>trade</mark>"), "{html}");
        assert!(!html.contains("<script>"));
        let hl = &inj["highlights"][0];
        let snippet = inj["snippet"].as_str().unwrap();
        assert_eq!(
            &snippet[hl["start"].as_u64().unwrap() as usize..hl["end"].as_u64().unwrap() as usize],
            "trade"
        );
        // Filters and pagination.
        let by_handle = send(
            &w.app,
            get(
                "/api/chat/search?q=trade&handle=NIGHTOWL&limit=1",
                &w.token_a,
            ),
        )
        .await
        .json();
        assert_eq!(by_handle["page"]["total"], 2);
        assert_eq!(by_handle["items"].as_array().unwrap().len(), 1);
        assert_eq!(by_handle["page"]["next"], "?limit=1&offset=1");
        let none = send(
            &w.app,
            get("/api/chat/search?q=trade&handle=darkfox", &w.token_a),
        )
        .await
        .json();
        assert_eq!(none["page"]["total"], 0);
        let bad_q = send(
            &w.app,
            get("/api/chat/search?q=trade&since=yesterday", &w.token_a),
        )
        .await;
        assert_eq!(bad_q.status, StatusCode::BAD_REQUEST);
        assert_eq!(bad_q.content_type(), "application/problem+json");
        // Agency B's search sees nothing of A's unreleased case.
        let b = send(&w.app, get("/api/chat/search?q=trade", &w.token_b))
            .await
            .json();
        assert_eq!(b["page"]["total"], 0);

        // Rooms.
        let rooms = send(&w.app, get("/api/chat/rooms", &w.token_a))
            .await
            .json();
        assert_eq!(rooms["page"]["total"], 1);
        assert_eq!(rooms["items"][0]["messages"], 6);
        let room_id = first["room_id"].as_i64().unwrap();
        let d = send(
            &w.app,
            get(&format!("/api/chat/rooms/{room_id}"), &w.token_a),
        )
        .await
        .json();
        assert_eq!(d["room"]["network"], "ExampleNet");
        let parts = d["participants"].as_array().unwrap();
        let fox = parts
            .iter()
            .find(|p| p["handle_key"] == "darkfox")
            .expect("darkfox participates");
        assert_eq!(fox["hostmasks"], json!(["~fox@192.0.2.10"]), "{fox}");
        assert_eq!(fox["operator"], true);
        assert_eq!(fox["messages"], 2);
        let ops = d["operators"].as_array().unwrap();
        assert_eq!(ops[0]["nick"], "darkfox");
        assert_eq!(ops[0]["by"], "ChanBoss");
        assert_eq!(ops[0]["role"], "operator");
        assert_eq!(d["nick_changes"][0]["old"], "darkfox");
        assert_eq!(d["nick_changes"][0]["new"], "dfox");
        assert_eq!(d["file_offers"][0]["file"], "set_04.zip");
        assert_eq!(d["file_offers"][0]["ip"], "198.51.100.23");
        let msgs = send(
            &w.app,
            get(
                &format!("/api/chat/rooms/{room_id}/messages?limit=2&offset=2"),
                &w.token_a,
            ),
        )
        .await
        .json();
        assert_eq!(msgs["page"]["total"], 6);
        assert_eq!(msgs["items"].as_array().unwrap().len(), 2);
        assert_eq!(msgs["items"][0]["handle"], "nightowl");
        assert_eq!(msgs["page"]["next"], "?limit=2&offset=4");

        // Agency B: the room is "not found", like a room that does not exist.
        let r = send(
            &w.app,
            get(&format!("/api/chat/rooms/{room_id}"), &w.token_b),
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", w.name);
        let missing = send(&w.app, get("/api/chat/rooms/999999", &w.token_b)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json()["title"], missing.json()["title"]);
        let m = send(
            &w.app,
            get(&format!("/api/chat/rooms/{room_id}/messages"), &w.token_b),
        )
        .await;
        assert_eq!(m.status, StatusCode::NOT_FOUND);
        let rooms_b = send(&w.app, get("/api/chat/rooms", &w.token_b))
            .await
            .json();
        assert_eq!(rooms_b["page"]["total"], 0);
    }
}

#[tokio::test]
async fn chat_pages_escape_logs_and_mark_only_hits() {
    for w in worlds().await {
        let first = import(&w).await;
        let room_id = first["room_id"].as_i64().unwrap();
        let a = session(&w.app, "alice").await;
        let empty = page(&w.app, &a, "/chat").await;
        assert_eq!(empty.status, StatusCode::OK, "{}", w.name);
        assert!(empty.text().contains("#hideout"), "room listed");
        assert!(empty.text().contains("<label for=\"q\">"));
        let r = page(&w.app, &a, "/chat?q=trade&handle=&room=&case_id=").await;
        assert_eq!(r.status, StatusCode::OK);
        let html = r.text();
        assert!(html.contains("2 matching messages"), "{html}");
        assert!(html.contains("<mark>trade</mark>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));
        assert!(html.contains(&format!("href=\"/chat/rooms/{room_id}\"")));
        assert!(html.contains("aria-current=\"page\">Chat</a>"));
        let bad = page(&w.app, &a, "/chat?q=%22unclosed").await;
        assert_eq!(bad.status, StatusCode::OK, "a bad query is explained");
        let room = page(&w.app, &a, &format!("/chat/rooms/{room_id}")).await;
        assert_eq!(room.status, StatusCode::OK);
        let html = room.text();
        for want in [
            "~fox@192.0.2.10",
            "ChanBoss",
            "set_04.zip",
            "dfox",
            "fox.trader@example.com",
            "alert(1)",
            "<th scope=\"col\">Hostmasks</th>",
        ] {
            assert!(html.contains(want), "{want} in {html}");
        }
        assert!(!html.contains("<script"));
        assert!(!html.contains("<img"));

        // Agency B: not found on the web too.
        let b = session(&w.app, "bob").await;
        let nf = page(&w.app, &b, &format!("/chat/rooms/{room_id}")).await;
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert!(!nf.text().contains("#hideout"));
        let sb = page(&w.app, &b, "/chat?q=trade").await;
        assert!(sb.text().contains("0 matching messages"));
        assert!(!sb.text().contains("#hideout"));
    }
}

#[tokio::test]
async fn scans_triage_items_and_refusal() {
    for w in worlds().await {
        let list = send(
            &w.app,
            get(&format!("/api/scans?case_id={}", w.case_a), &w.token_a),
        )
        .await;
        assert_eq!(list.status, StatusCode::OK, "{}: {}", w.name, list.text());
        let list = list.json();
        assert_eq!(list["page"]["total"], 1);
        assert_eq!(list["items"][0]["device"], "laptop-1");
        assert_eq!(list["items"][0]["files"], 3);

        let d = send(&w.app, get(&format!("/api/scans/{}", w.scan_a), &w.token_a)).await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text());
        let d = d.json();
        assert_eq!(d["scan"]["id"], w.scan_a);
        assert_eq!(d["triage"]["files"], 3);
        let known: i64 = d["triage"]["known"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(known, 1, "the MD5 in the set: {}", d["triage"]);
        assert_eq!(d["triage"]["unknown_images"], 1);
        assert_eq!(d["triage"]["known_series"][0]["series"], "Blue Kite");

        let items = send(
            &w.app,
            get(
                &format!("/api/scans/{}/items?limit=2", w.scan_a),
                &w.token_a,
            ),
        )
        .await
        .json();
        assert_eq!(items["page"]["total"], 3);
        assert_eq!(items["items"][0]["path"], "notes.txt");
        assert_eq!(items["items"][1]["md5"], KNOWN_MD5);
        assert_eq!(items["page"]["next"], "?limit=2&offset=2");
        let bad = send(
            &w.app,
            get(
                &format!("/api/scans/{}/items?limit=0", w.scan_a),
                &w.token_a,
            ),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);

        // Agency B: not found, indistinguishable from a missing scan.
        for uri in [
            format!("/api/scans/{}", w.scan_a),
            format!("/api/scans/{}/items", w.scan_a),
            format!("/api/scans?case_id={}", w.case_a),
        ] {
            let r = send(&w.app, get(&uri, &w.token_b)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{}: {uri}", w.name);
        }
        let none = send(&w.app, get("/api/scans", &w.token_b)).await.json();
        assert_eq!(none["page"]["total"], 0);

        // Pages.
        let a = session(&w.app, "alice").await;
        let l = page(&w.app, &a, "/scans").await;
        assert_eq!(l.status, StatusCode::OK);
        assert!(l.text().contains("laptop-1"));
        let s = page(&w.app, &a, &format!("/scans/{}", w.scan_a)).await;
        assert_eq!(s.status, StatusCode::OK);
        let html = s.text();
        assert!(html.contains("<svg class=\"chart\""), "bar chart");
        assert!(html.contains("Items by category"));
        assert!(html.contains("Blue Kite"));
        assert!(html.contains(KNOWN_MD5));
        assert!(html.contains("photos/b.png"));
        assert!(!html.contains("<img"), "never an image");
        let b = session(&w.app, "bob").await;
        let nf = page(&w.app, &b, &format!("/scans/{}", w.scan_a)).await;
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
        assert!(!nf.text().contains("laptop-1"));
    }
}

#[tokio::test]
async fn hash_sets_and_matching() {
    for w in worlds().await {
        let l = send(&w.app, get("/api/hashsets", &w.token_a)).await;
        assert_eq!(l.status, StatusCode::OK, "{}: {}", w.name, l.text());
        let l = l.json();
        assert_eq!(l["page"]["total"], 1);
        assert_eq!(l["items"][0]["name"], "test-set");
        assert_eq!(l["items"][0]["entries"], 1);
        let d = send(&w.app, get("/api/hashsets/test-set", &w.token_a))
            .await
            .json();
        assert_eq!(d["set"]["source"], "synthetic test list");
        assert_eq!(d["imports"][0]["file_name"], "set.csv");
        assert_eq!(d["imports"][0]["imported_by"], "alice");
        let cats: i64 = d["categories"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_i64().unwrap())
            .sum();
        assert_eq!(cats, 1);
        let missing = send(&w.app, get("/api/hashsets/nope", &w.token_a)).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        // Another agency's set is not found; its list is empty.
        let b = send(&w.app, get("/api/hashsets/test-set", &w.token_b)).await;
        assert_eq!(b.status, StatusCode::NOT_FOUND, "{}", b.text());
        let lb = send(&w.app, get("/api/hashsets", &w.token_b)).await.json();
        assert_eq!(lb["page"]["total"], 0);

        let m = send(
            &w.app,
            post_json(
                "/api/match",
                &w.token_a,
                json!({"md5": [KNOWN_MD5.to_uppercase(), "ffffffffffffffffffffffffffffffff"],
                       "pdq": [{"hash": "0".repeat(64), "quality": 20}]}),
            ),
        )
        .await;
        assert_eq!(m.status, StatusCode::OK, "{}", m.text());
        let m = m.json();
        let a = m["answers"].as_array().unwrap();
        assert_eq!(a.len(), 3);
        assert_eq!(a[0]["matches"][0]["set"], "test-set");
        assert_eq!(a[0]["matches"][0]["kind"], "md5");
        assert_eq!(a[0]["matches"][0]["series"], "Blue Kite");
        assert_eq!(a[1]["matches"].as_array().unwrap().len(), 0);
        assert_eq!(a[2]["unreliable"], true);
        // Agency B matches against its own (empty) sets only.
        let mb = send(
            &w.app,
            post_json("/api/match", &w.token_b, json!({"md5": [KNOWN_MD5]})),
        )
        .await
        .json();
        assert_eq!(mb["answers"][0]["matches"].as_array().unwrap().len(), 0);
        let nothing = send(&w.app, post_json("/api/match", &w.token_a, json!({}))).await;
        assert_eq!(nothing.status, StatusCode::OK);
        assert_eq!(nothing.json()["answers"], json!([]));
        for bad in [
            json!({"md5": ["xyz"]}),
            json!({"pdq": [{"hash": "00"}]}),
            json!({"md5": [KNOWN_MD5], "max_distance": 999}),
            json!({"sha512": []}),
        ] {
            let r = send(&w.app, post_json("/api/match", &w.token_a, bad.clone())).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
            assert_eq!(r.content_type(), "application/problem+json");
        }

        // Pages.
        let s = session(&w.app, "alice").await;
        let l = page(&w.app, &s, "/hashsets").await;
        assert_eq!(l.status, StatusCode::OK);
        assert!(l.text().contains("href=\"/hashsets/test-set\""));
        assert!(l.text().contains("aria-current=\"page\">Hash sets</a>"));
        let d = page(&w.app, &s, "/hashsets/test-set").await;
        assert_eq!(d.status, StatusCode::OK);
        let html = d.text();
        assert!(html.contains("synthetic test list"));
        assert!(html.contains("set.csv"));
        assert!(html.contains("<svg class=\"chart\""));
        assert!(!html.contains("<img"));
        let nf = page(&w.app, &s, "/hashsets/nope").await;
        assert_eq!(nf.status, StatusCode::NOT_FOUND);
    }
}
