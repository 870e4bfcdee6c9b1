//! `GET /api/graph` and the `/graph` page, driven through the router on
//! SQLite and, when `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL: the
//! Cytoscape.js shape, the key players, a path, and that another agency
//! sees none of the records (only a blind hit "held by").

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use vigil_domain::{NewIdentifier, NewPerson, Release};
use vigil_store::ChatImportRequest;

use crate::common::{self, get};

/// The host opens the room, makes `warden` an operator and leaves;
/// `kestrel` and `plover` come later and talk to the operator.
const LOG: &str = "--- Log opened Mon Mar 02 21:00:00 2026
21:00 -!- hostess [~h@192.0.2.70] has joined #aviary
21:01 -!- warden [~w@192.0.2.71] has joined #aviary
21:01 -!- mode/#aviary [+o warden] by hostess
21:02 <@hostess> welcome
21:03 -!- hostess [~h@192.0.2.70] has quit [Quit: bye]
21:10 -!- kestrel [~k@192.0.2.72] has joined #aviary
21:11 < kestrel> warden: hello
21:12 -!- DCC SEND from kestrel [198.51.100.9 port 5000]: a.zip [1MB]
21:13 -!- DCC SEND from kestrel [198.51.100.9 port 5000]: b.zip [1MB]
21:14 <@warden> kestrel: thanks
--- Log closed Mon Mar 02 21:30:00 2026
";

struct World {
    name: &'static str,
    app: Router,
    token_a: String,
    token_b: String,
    case_a: i64,
    kestrel: i64,
    warden: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn world(b: common::Backend) -> World {
    let store = b.store;
    let people = common::two_agencies(&store, "investigator").await;
    let (alice, bob) = (people.alice, people.bob);
    let case = store
        .create_case(
            &alice,
            "Room Aviary",
            Some("Op Heron"),
            &Release::Agency,
            "test",
        )
        .await
        .unwrap();
    let log = vigil_chat::parse(
        LOG.as_bytes(),
        &vigil_chat::ParseOptions {
            format: None,
            zone: vigil_chat::Zone::parse("UTC").unwrap(),
            base_date: None,
        },
    )
    .unwrap();
    let summary = vigil_chat::summarize(&log);
    store
        .import_chat(
            &alice,
            &ChatImportRequest {
                case_id: case.id,
                file: "aviary.log".into(),
                room: "#aviary".into(),
                network: None,
                officer_handle: None,
                summary: &summary,
            },
        )
        .await
        .unwrap();
    let persons = store.list_persons(&alice, Some(case.id)).await.unwrap();
    let id_of = |label: &str| persons.iter().find(|p| p.label == label).unwrap().id;
    let (kestrel, warden) = (id_of("kestrel"), id_of("warden"));
    store
        .add_identifier(
            &alice,
            kestrel,
            &NewIdentifier::parse("email", "kestrel@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    // Agency B holds the same address in its own case of the operation.
    let case_b = store
        .create_case(&bob, "B side", Some("Op Heron"), &Release::Agency, "test")
        .await
        .unwrap();
    let pb = store
        .add_person(
            &bob,
            case_b.id,
            &NewPerson::parse("suspect", "b-suspect").unwrap(),
            "test",
        )
        .await
        .unwrap();
    store
        .add_identifier(
            &bob,
            pb.id,
            &NewIdentifier::parse("email", "kestrel@example.net").unwrap(),
            "test",
        )
        .await
        .unwrap();
    World {
        name: b.name,
        app: common::app(&store, None),
        token_a: common::token(&store, &alice).await,
        token_b: common::token(&store, &bob).await,
        case_a: case.id,
        kestrel,
        warden,
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

/// [`common::send`] as (status, headers, body text).
async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let r = common::send(app, req).await;
    (r.status, r.headers.clone(), r.text())
}

#[tokio::test]
async fn api_graph_is_cytoscape_json_with_key_players_and_respects_agencies() {
    for w in worlds().await {
        let (status, _, body) =
            send(&w.app, get("/api/graph?operation=Op%20Heron", &w.token_a)).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", w.name);
        let g: Value = serde_json::from_str(&body).unwrap();
        let nodes = g["elements"]["nodes"].as_array().unwrap();
        let edges = g["elements"]["edges"].as_array().unwrap();
        assert_eq!(g["node_count"].as_u64().unwrap() as usize, nodes.len());
        assert_eq!(g["edge_count"].as_u64().unwrap() as usize, edges.len());
        let room = nodes
            .iter()
            .find(|n| n["data"]["kind"] == "room")
            .unwrap_or_else(|| panic!("no room: {g:#}"));
        assert_eq!(room["data"]["label"], "#aviary");
        for n in nodes {
            let d = &n["data"];
            assert!(d["id"].is_string() && d["label"].is_string(), "{n}");
            assert!(
                n["classes"]
                    .as_str()
                    .unwrap()
                    .contains(d["kind"].as_str().unwrap())
            );
            assert!(
                d["pagerank"].is_number() && d["community"].is_number(),
                "{n}"
            );
        }
        let ids: Vec<&str> = nodes
            .iter()
            .map(|n| n["data"]["id"].as_str().unwrap())
            .collect();
        for e in edges {
            assert!(ids.contains(&e["data"]["source"].as_str().unwrap()), "{e}");
            assert!(ids.contains(&e["data"]["target"].as_str().unwrap()), "{e}");
            assert!(e["data"]["count"].as_u64().unwrap() >= 1);
        }
        let op = edges
            .iter()
            .find(|e| e["data"]["kind"] == "operator_of")
            .unwrap_or_else(|| panic!("no operator_of: {g:#}"));
        assert!(
            op["data"]["granted_by"]
                .as_str()
                .unwrap()
                .starts_with("handle:")
        );
        let kp = &g["key_players"];
        assert_eq!(kp["ranking"][0]["player"]["label"], "hostess", "{kp:#}");
        assert_eq!(kp["administrators"][0]["player"]["label"], "warden");
        assert_eq!(kp["administrators"][0]["appointed_by"]["label"], "hostess");
        assert_eq!(kp["distributors_by_files"][0]["player"]["label"], "kestrel");
        assert_eq!(kp["distributors_by_files"][0]["files_supplied"], 2);
        // Alice cannot see B's person, only that B holds the address.
        assert!(!body.contains("b-suspect"), "{}", w.name);

        // A path between two persons of the graph.
        let (status, _, body) = send(
            &w.app,
            get(
                &format!(
                    "/api/graph?case={}&from={}&to={}",
                    w.case_a, w.kestrel, w.warden
                ),
                &w.token_a,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let p: Value = serde_json::from_str(&body).unwrap();
        let hops = p["path"]["nodes"].as_array().unwrap();
        assert_eq!(
            hops.first().unwrap()["key"],
            format!("person:{}", w.kestrel)
        );
        assert_eq!(hops.last().unwrap()["key"], format!("person:{}", w.warden));
        let (status, _, _) = send(
            &w.app,
            get(
                &format!("/api/graph?case={}&from={}", w.case_a, w.kestrel),
                &w.token_a,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Agency B: A's case is not found; B's graph of the operation holds
        // its own person and a blind hit that says only who holds it.
        let (status, _, body) = send(
            &w.app,
            get(&format!("/api/graph?case={}", w.case_a), &w.token_b),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{}: {body}", w.name);
        let (status, _, body) =
            send(&w.app, get("/api/graph?operation=Op%20Heron", &w.token_b)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for secret in [
            "hostess",
            "warden",
            "kestrel\"",
            "aviary",
            "Room Aviary",
            "192.0.2.7",
        ] {
            assert!(
                !body.contains(secret),
                "{}: B sees {secret}: {body}",
                w.name
            );
        }
        let g: Value = serde_json::from_str(&body).unwrap();
        let nodes = g["elements"]["nodes"].as_array().unwrap();
        assert!(
            nodes.iter().any(|n| n["data"]["label"] == "b-suspect"),
            "{g:#}"
        );
        let blind: Vec<&Value> = nodes
            .iter()
            .filter(|n| n["data"]["blind_hit"] == true)
            .collect();
        assert_eq!(blind.len(), 1, "{}: {g:#}", w.name);
        let d = blind[0]["data"].as_object().unwrap();
        assert_eq!(d["held_by"], "Agency A");
        assert_eq!(d["label"], "held by Agency A");
        let mut keys: Vec<&str> = d.keys().map(|k| k.as_str()).collect();
        keys.sort();
        for k in &keys {
            assert!(
                [
                    "id",
                    "label",
                    "kind",
                    "blind_hit",
                    "held_by",
                    "degree",
                    "betweenness",
                    "pagerank",
                    "community"
                ]
                .contains(k),
                "blind hit carries {k}"
            );
        }
    }
}

#[tokio::test]
async fn graph_page_renders_tables_and_loads_only_local_scripts() {
    for w in worlds().await {
        // Sign in through the form like a browser.
        let cookie = common::sign_in(&w.app, "alice").await;
        let page = |uri: &str| {
            Request::get(uri)
                .header(header::COOKIE, &cookie)
                .body(Body::empty())
                .unwrap()
        };
        let (status, headers, html) = send(&w.app, page("/graph?operation=Op+Heron")).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(html.contains(r#"<script src="/static/vendor/cytoscape-3.35.0.min.js"></script>"#));
        assert!(
            html.contains(r#"data-src="/api/graph?operation=Op+Heron""#),
            "{html}"
        );
        assert!(!html.contains("<script>"), "no inline script");
        // Usable without JavaScript: key players and the node list.
        assert!(html.contains("hostess"), "{html}");
        assert!(html.contains("#aviary"));
        assert!(html.contains(r#"href="/graph" aria-current="page""#));
        let (status, headers, js) =
            send(&w.app, page("/static/vendor/cytoscape-3.35.0.min.js")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(js.contains("Cytoscape Consortium"));
        assert!(
            headers[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        let (status, _, js) = send(&w.app, page("/static/graph.js")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(js.contains("data-src"));
    }
}
