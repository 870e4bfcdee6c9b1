//! The data capabilities of the API that mirror CLI commands — hash-set
//! import/export/delete, packages between two instances (build, file,
//! import, ack, outcomes, counts), the graph exports and reports, and the
//! chat reindex — through the router in-process, on SQLite and (with
//! `VIGIL_TEST_DATABASE_URL`) PostgreSQL. Each endpoint: a success and a
//! refusal.

use std::process::Command;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_server::Config;
use vigil_share::AgencyKeys;
use vigil_share::secrecy::ExposeSecret;
use vigil_store::{ChatImportRequest, Store};

use crate::common::{self, Reply};

const PW: &str = "correct horse battery";

/// A request whose body is raw bytes (hash-set files, sealed packages), as a
/// client uploads them.
async fn call(app: &Router, method: Method, uri: &str, token: &str, body: Vec<u8>) -> Reply {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap();
    common::send(app, req).await
}

async fn get(app: &Router, uri: &str, token: &str) -> Reply {
    call(app, Method::GET, uri, token, Vec::new()).await
}

async fn post(app: &Router, uri: &str, token: &str, body: impl Into<Vec<u8>>) -> Reply {
    call(app, Method::POST, uri, token, body.into()).await
}

async fn post_json(app: &Router, uri: &str, token: &str, body: Value) -> Reply {
    common::send(app, common::post_json(uri, token, body)).await
}

/// One instance: an agency with an investigator, a forensic examiner, a
/// liaison officer and an administrator without a case role (`adm`; the
/// `admin` who set the instance up holds more roles), each with an API token.
struct Instance {
    store: Store,
    app: Router,
    inv: String,
    fe: String,
    lo: String,
    admin: String,
    _dirs: Vec<tempfile::TempDir>,
}

async fn token(store: &Store, user: &str) -> String {
    let p = store.principal(user).await.unwrap();
    store.create_api_token(&p, "test", None).await.unwrap().1
}

async fn instance(
    store: Store,
    agency: &str,
    country: &str,
    dir: Option<tempfile::TempDir>,
) -> Instance {
    let admin = store
        .init(agency, country, None, "admin", PW)
        .await
        .unwrap();
    for (u, r) in [
        ("inv", "investigator"),
        ("fe", "forensic-examiner"),
        ("lo", "liaison-officer"),
        ("adm", "agency-admin"),
    ] {
        store.add_user(&admin, u, None, r, Some(PW)).await.unwrap();
    }
    let search = vigil_testkit::tempdir();
    let app = vigil_server::router(
        store.clone(),
        Config {
            secure_cookies: true,
            session_ttl_seconds: 600,
            search_dir: Some(search.path().to_path_buf()),
        },
    );
    let mut dirs = vec![search];
    dirs.extend(dir);
    Instance {
        inv: token(&store, "inv").await,
        fe: token(&store, "fe").await,
        lo: token(&store, "lo").await,
        admin: token(&store, "adm").await,
        store,
        app,
        _dirs: dirs,
    }
}

/// Fresh stores: one per backend (two for the package round trip).
async fn stores(n: usize) -> Vec<(&'static str, Vec<(Store, Option<tempfile::TempDir>)>)> {
    let mut out = Vec::new();
    let mut v = Vec::new();
    for _ in 0..n {
        let dir = vigil_testkit::tempdir();
        let s = Store::open_sqlite(&dir.path().join("vigil.db"))
            .await
            .unwrap();
        v.push((s, Some(dir)));
    }
    out.push(("sqlite", v));
    if vigil_testkit::fresh_postgres_url().await.is_some() {
        let mut v = Vec::new();
        for _ in 0..n {
            let url = vigil_testkit::fresh_postgres_url().await.unwrap();
            v.push((Store::open_postgres(&url).await.unwrap(), None));
        }
        out.push(("postgres", v));
    }
    out
}

// ----- hash sets ------------------------------------------------------------

const SET_CSV: &str = "md5,category\n\
0123456789abcdef0123456789abcdef,1\n\
not-a-hash,1\n\
fedcba9876543210fedcba9876543210,2\n";

#[tokio::test]
async fn hash_sets_import_export_reimport_and_delete_through_the_api() {
    for (backend, mut v) in stores(1).await {
        let (store, dir) = v.remove(0);
        let a = instance(store, "Agency A", "CA", dir).await;
        let app = &a.app;

        // Import: the bad line is named FILE:LINE and skipped.
        let r = post(
            app,
            "/api/hashsets?name=known&format=csv&source=test%20release&file_name=known.csv",
            &a.fe,
            SET_CSV,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let o = r.json();
        assert_eq!(o["status"], "created", "{backend}: {o}");
        assert_eq!(o["added"], 2, "{backend}: {o}");
        assert_eq!(o["errors"], 1, "{backend}: {o}");
        let line = o["error_lines"][0].as_str().unwrap();
        assert!(line.starts_with("known.csv:3:"), "{backend}: {line}");
        assert_eq!(o["set"]["source"], "test release");
        // The same bytes again change nothing.
        let again = post(
            app,
            "/api/hashsets?name=known&file_name=known.csv",
            &a.fe,
            SET_CSV,
        )
        .await;
        assert_eq!(again.json()["status"], "already-imported", "{backend}");
        // Refusals: an investigator may not import; a truncated file is refused whole.
        let r = post(app, "/api/hashsets?name=nope", &a.inv, SET_CSV).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}: {}", r.text());
        assert_eq!(r.header(header::CONTENT_TYPE), "application/problem+json");
        let r = post(
            app,
            "/api/hashsets?name=broken&format=vics&file_name=cut.json",
            &a.fe,
            "{\"value\": [{\"MD5\": \"01234",
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {}",
            r.text()
        );
        assert!(
            r.json()["detail"]
                .as_str()
                .unwrap()
                .starts_with("cut.json:")
        );
        assert_eq!(
            get(app, "/api/hashsets/broken", &a.fe).await.status,
            StatusCode::NOT_FOUND,
            "{backend}: nothing of a refused import is kept"
        );

        // Export as VICS and re-import under another name: the same entries.
        let r = get(app, "/api/hashsets/known/export?format=vics", &a.inv).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(r.header(header::CONTENT_TYPE), "application/json");
        assert_eq!(
            r.header(header::CONTENT_DISPOSITION),
            "attachment; filename=\"known.json\""
        );
        let vics = r.body.clone();
        let r = post(
            app,
            "/api/hashsets?name=copy&file_name=known.json",
            &a.fe,
            vics,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let o = r.json();
        assert_eq!(o["format"], "vics", "{backend}: detected: {o}");
        assert_eq!(
            (o["added"].as_u64(), o["errors"].as_u64()),
            (Some(2), Some(0))
        );
        let csv_of = |name: &'static str| {
            let app = app.clone();
            let t = a.inv.clone();
            async move {
                let r = get(&app, &format!("/api/hashsets/{name}/export?format=csv"), &t).await;
                assert_eq!(r.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
                r.text()
            }
        };
        let (one, two) = (csv_of("known").await, csv_of("copy").await);
        assert_eq!(one, two, "{backend}: round trip changed the entries");
        assert!(one.contains("0123456789abcdef0123456789abcdef"));
        let pdq = get(app, "/api/hashsets/known/export?format=pdq", &a.inv).await;
        assert_eq!(pdq.status, StatusCode::OK);
        assert_eq!(pdq.text(), "", "{backend}: no entry has a PDQ hash");
        // Refusals: unknown format; the administrator (no case role) may not export.
        let r = get(app, "/api/hashsets/known/export?format=xls", &a.inv).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = get(app, "/api/hashsets/known/export", &a.admin).await;
        assert!(
            r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
            "{backend}: {}",
            r.status
        );

        // Delete: examiners only.
        let r = call(app, Method::DELETE, "/api/hashsets/copy", &a.inv, vec![]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = call(app, Method::DELETE, "/api/hashsets/copy", &a.fe, vec![]).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(r.json(), json!({"deleted": "copy", "entries": 2}));
        assert_eq!(
            get(app, "/api/hashsets/copy", &a.fe).await.status,
            StatusCode::NOT_FOUND
        );
        // Every call is in the audit log, the refusals too.
        let p = a.store.principal("admin").await.unwrap();
        let log = a
            .store
            .audit_log(&p, &vigil_store::AuditFilter::default())
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        for want in ["hashset.import", "hashset.export", "hashset.delete"] {
            assert!(
                actions.contains(&want),
                "{backend}: no {want} in {actions:?}"
            );
        }
    }
}

// ----- packages ---------------------------------------------------------------

/// Generates and stores this instance's keys (clear: no passphrase in tests).
async fn keys(i: &Instance, agency: &str, country: &str) -> String {
    let lo = i.store.principal("lo").await.unwrap();
    let k =
        AgencyKeys::generate(agency, vigil_share::CountryCode::parse(country).unwrap()).unwrap();
    let b = k.public_bundle();
    i.store
        .store_agency_keys(
            &lo,
            b.fingerprint().as_str(),
            &b.to_json(),
            k.to_secret_json().unwrap().expose_secret(),
        )
        .await
        .unwrap();
    b.to_json()
}

async fn register(i: &Instance, agency: &str, country: &str, bundle: &str) {
    let lo = i.store.principal("lo").await.unwrap();
    let b = vigil_share::PublicBundle::from_json(bundle).unwrap();
    i.store
        .import_partner_key(&lo, agency, country, b.fingerprint().as_str(), bundle)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_package_goes_from_one_instance_to_another_and_outcomes_come_back() {
    for (backend, mut v) in stores(2).await {
        let (sb, db) = v.pop().unwrap();
        let (sa, da) = v.pop().unwrap();
        let a = instance(sa, "Agency A", "CA", da).await;
        let b = instance(sb, "Agency B", "GB", db).await;
        let ka = keys(&a, "Agency A", "CA").await;
        let kb = keys(&b, "Agency B", "GB").await;
        register(&a, "Agency B", "GB", &kb).await;
        register(&b, "Agency A", "CA", &ka).await;

        // A suspect of agency A's operation, released to GB.
        let inv = a.store.principal("inv").await.unwrap();
        let case = a
            .store
            .create_case(
                &inv,
                "Kestrel",
                Some("Op Kestrel"),
                &Release::To {
                    agencies: vec![],
                    countries: vec!["GB".into()],
                },
                "test",
            )
            .await
            .unwrap();
        let fox = a
            .store
            .add_person(
                &inv,
                case.id,
                &NewPerson::parse("suspect", "fox").unwrap(),
                "test",
            )
            .await
            .unwrap();
        a.store
            .add_identifier(
                &inv,
                fox.id,
                &NewIdentifier::parse("email", "fox.trader@example.co.uk").unwrap(),
                "test",
            )
            .await
            .unwrap();

        // Build on A (refused to an investigator and without a recipient).
        let r = post_json(
            &a.app,
            "/api/packages",
            &a.inv,
            json!({"operation": "Op Kestrel", "country": "GB"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}: {}", r.text());
        let r = post_json(
            &a.app,
            "/api/packages",
            &a.lo,
            json!({"operation": "Op Kestrel"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{backend}");
        let r = post_json(
            &a.app,
            "/api/packages",
            &a.lo,
            json!({"operation": "Op Kestrel", "country": "GB"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.text());
        let built = r.json();
        assert_eq!(
            (built["kind"].as_str(), built["state"].as_str()),
            (Some("leads"), Some("built"))
        );
        let id = built["id"].as_i64().unwrap();

        // The file: liaison only; fetching it sends the package.
        let r = get(&a.app, &format!("/api/packages/{id}/file"), &a.inv).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = get(&a.app, &format!("/api/packages/{id}/file"), &a.lo).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(r.header(header::CONTENT_TYPE), "application/octet-stream");
        assert!(r.header(header::CONTENT_DISPOSITION).contains(".vigil"));
        let leads = r.body.clone();
        assert!(!leads.is_empty());
        let list = get(&a.app, "/api/packages", &a.lo).await.json();
        assert_eq!(list["items"][0]["state"], "sent", "{backend}: {list}");

        // Import on B, with an acknowledgement (refusals: role, tampering).
        let r = post(&b.app, "/api/packages/import", &b.inv, leads.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let mut bad = leads.clone();
        let mid = bad.len() / 2;
        bad[mid] ^= 0x55;
        let r = post(&b.app, "/api/packages/import?file_name=t.vigil", &b.lo, bad).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend}: {}",
            r.text()
        );
        assert!(r.text().contains("refused"), "{}", r.text());
        let r = post(
            &b.app,
            "/api/packages/import?ack=true",
            &b.lo,
            leads.clone(),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let imported = r.json();
        assert_eq!(imported["kind"], "leads");
        assert_eq!(
            imported["summary"]["persons_added"], 1,
            "{backend}: {imported}"
        );
        let case_b = imported["package"]["case_id"].as_i64().unwrap();
        let ack_id = imported["ack"]["id"].as_i64().unwrap();
        let r = post(&b.app, "/api/packages/import", &b.lo, leads.clone()).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{backend}: {}", r.text());

        // The ack goes back to A.
        let ack = get(&b.app, &format!("/api/packages/{ack_id}/file"), &b.lo).await;
        assert_eq!(ack.status, StatusCode::OK);
        let r = post(&a.app, "/api/packages/import", &a.lo, ack.body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(r.json()["kind"], "ack");
        assert_eq!(r.json()["package"]["state"], "acknowledged");
        // A second ack of the same package can be built on demand.
        let received = imported["package"]["id"].as_i64().unwrap();
        let r = post(&b.app, &format!("/api/packages/{received}/ack"), &b.inv, "").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = post(&b.app, &format!("/api/packages/{received}/ack"), &b.lo, "").await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.text());
        assert_eq!(r.json()["kind"], "ack");

        // B arrests the suspect and reports back.
        // (A supervisor sees every case of the agency, the imported one too.)
        let badmin = b.store.principal("admin").await.unwrap();
        b.store
            .add_user(&badmin, "sup", None, "supervisor", Some(PW))
            .await
            .unwrap();
        let binv = b.store.principal("sup").await.unwrap();
        let persons = b.store.list_persons(&binv, Some(case_b)).await.unwrap();
        let person = persons.iter().find(|p| p.label == "fox").unwrap();
        b.store
            .add_event(
                &binv,
                person.id,
                &NewEvent::parse("arrest", "2026-03-02", "GB").unwrap(),
                "test",
            )
            .await
            .unwrap();
        let r = post_json(
            &b.app,
            "/api/packages/outcomes",
            &b.inv,
            json!({"to": "Agency A"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{backend}");
        let r = post_json(
            &b.app,
            "/api/packages/outcomes",
            &b.lo,
            json!({"to": "Agency A"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{backend}: {}", r.text());
        let oid = r.json()["id"].as_i64().unwrap();
        let file = get(&b.app, &format!("/api/packages/{oid}/file"), &b.lo).await;
        let r = post(&a.app, "/api/packages/import", &a.lo, file.body.clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(r.json()["kind"], "outcomes");

        // Counts on A: one suspect, arrested, in GB.
        let r = get(
            &a.app,
            "/api/packages/counts?operation=Op%20Kestrel",
            &a.admin,
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "{backend}: administrators hold no case role"
        );
        let r = get(
            &a.app,
            "/api/packages/counts?operation=Op%20Kestrel",
            &a.inv,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let c = r.json();
        assert_eq!(c["total"]["suspects_identified"], 1, "{backend}: {c}");
        assert_eq!(c["total"]["arrested"], 1, "{backend}: {c}");
        let list = get(&a.app, "/api/packages", &a.lo).await.json();
        let sent = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone();
        assert_eq!(sent["state"], "outcomes-received", "{backend}: {sent}");
    }
}

// ----- graph and chat -----------------------------------------------------------

const LOG: &str = "--- Log opened Mon Mar 02 21:00:00 2026
21:00 -!- hostess [~h@192.0.2.70] has joined #aviary
21:01 -!- warden [~w@192.0.2.71] has joined #aviary
21:01 -!- mode/#aviary [+o warden] by hostess
21:02 <@hostess> welcome zebra
21:10 -!- kestrel [~k@192.0.2.72] has joined #aviary
21:11 < kestrel> warden: hello
21:12 -!- DCC SEND from kestrel [198.51.100.9 port 5000]: a.zip [1MB]
21:14 <@warden> kestrel: thanks
--- Log closed Mon Mar 02 21:30:00 2026
";

const NX: &str = r#"
import json, sys
import networkx as nx
G = nx.read_graphml(sys.argv[1])
print(json.dumps({"nodes": G.number_of_nodes(), "edges": G.number_of_edges()}))
"#;

fn networkx() -> bool {
    Command::new("python3")
        .args(["-c", "import networkx"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn graph_reports_exports_and_the_chat_reindex() {
    for (backend, mut v) in stores(1).await {
        let (store, dir) = v.remove(0);
        let a = instance(store, "Agency A", "CA", dir).await;
        let inv = a.store.principal("inv").await.unwrap();
        let case = a
            .store
            .create_case(&inv, "Aviary", Some("Op Heron"), &Release::Agency, "test")
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
        a.store
            .import_chat(
                &inv,
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
        let persons = a.store.list_persons(&inv, Some(case.id)).await.unwrap();
        let id_of = |l: &str| persons.iter().find(|p| p.label == l).unwrap().id;
        let (kestrel, hostess) = (id_of("kestrel"), id_of("hostess"));
        let app = &a.app;
        let scope = "operation=Op%20Heron";

        // Exports: GraphML (networkx reads it), GEXF, CSV nodes and edges.
        let r = get(
            app,
            &format!("/api/graph/export?{scope}&format=graphml"),
            &a.inv,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert_eq!(
            r.header(header::CONTENT_TYPE),
            "application/xml; charset=utf-8"
        );
        assert!(
            r.header(header::CONTENT_DISPOSITION)
                .ends_with(".graphml\"")
        );
        let kp = get(
            app,
            &format!("/api/graph/key-players?{scope}&top=3"),
            &a.inv,
        )
        .await;
        assert_eq!(kp.status, StatusCode::OK, "{backend}: {}", kp.text());
        let kp = kp.json();
        if networkx() {
            let tmp = vigil_testkit::tempdir();
            let path = tmp.path().join("g.graphml");
            std::fs::write(&path, &r.body).unwrap();
            let o = Command::new("python3")
                .args(["-c", NX, path.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let nx: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(nx["nodes"], kp["nodes"], "{backend}: {nx}");
            assert_eq!(nx["edges"], kp["edges"], "{backend}: {nx}");
        } else {
            eprintln!("\n*** SKIPPED networkx check: python3 with networkx is not installed ***\n");
        }
        let gexf = get(
            app,
            &format!("/api/graph/export?{scope}&format=gexf"),
            &a.inv,
        )
        .await;
        assert!(gexf.text().contains("<gexf"), "{backend}");
        let nodes = get(
            app,
            &format!("/api/graph/export?{scope}&format=csv"),
            &a.inv,
        )
        .await;
        let edges = get(
            app,
            &format!("/api/graph/export?{scope}&format=csv&part=edges"),
            &a.inv,
        )
        .await;
        assert_eq!(
            nodes.header(header::CONTENT_TYPE),
            "text/csv; charset=utf-8"
        );
        assert_eq!(
            nodes.text().lines().count() as u64,
            kp["nodes"].as_u64().unwrap() + 1,
            "{backend}: header + one line per node"
        );
        assert!(
            edges
                .header(header::CONTENT_DISPOSITION)
                .contains("-edges.csv")
        );
        assert_ne!(nodes.text(), edges.text());
        let r = get(
            app,
            &format!("/api/graph/export?{scope}&format=csv&part=both"),
            &a.inv,
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // Key players: the host is named.
        assert!(
            kp["report"]["hosts"].to_string().contains("hostess"),
            "{backend}: {kp}"
        );
        // Path and communities.
        let r = get(
            app,
            &format!("/api/graph/path?{scope}&from={kestrel}&to={hostess}"),
            &a.inv,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let p = r.json();
        assert_eq!(p["kind"], "shortest");
        assert!(
            p["path"]["hops"].as_array().is_some_and(|h| !h.is_empty()),
            "{backend}: {p}"
        );
        let r = get(
            app,
            &format!("/api/graph/communities?{scope}&top=2"),
            &a.inv,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        assert!(r.json()["count"].as_u64().unwrap() >= 1);

        // Refusals: the administrator holds no case role; another agency's
        // user does not see the case.
        let admin = a.store.principal("admin").await.unwrap();
        a.store
            .add_agency(&admin, "Agency B", "GB", None)
            .await
            .unwrap();
        a.store
            .add_user(&admin, "bob", Some("Agency B"), "investigator", Some(PW))
            .await
            .unwrap();
        let bob = token(&a.store, "bob").await;
        let cs = format!("case={}", case.id);
        for uri in [
            format!("/api/graph/export?{cs}&format=graphml"),
            format!("/api/graph/key-players?{cs}"),
            format!("/api/graph/path?{cs}&from={kestrel}&to={hostess}"),
            format!("/api/graph/communities?{cs}"),
        ] {
            let r = get(app, &uri, &a.admin).await;
            assert!(
                r.status == StatusCode::FORBIDDEN || r.status == StatusCode::NOT_FOUND,
                "{backend}: {uri}: {}",
                r.status
            );
            let r = get(app, &uri, &bob).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{backend}: {uri} as another agency"
            );
        }

        // Chat reindex: the stored messages go (back) into the index.
        let r = get(app, "/api/chat/search?q=zebra", &a.inv).await;
        assert_eq!(
            r.json()["page"]["total"],
            0,
            "{backend}: nothing indexed yet"
        );
        let r = post(
            app,
            &format!("/api/chat/reindex?case={}", case.id),
            &bob,
            "",
        )
        .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{backend}: {}", r.text());
        let r = post(app, "/api/chat/reindex", &a.inv, "").await;
        assert_eq!(r.status, StatusCode::OK, "{backend}: {}", r.text());
        let o = r.json();
        assert_eq!(o["messages"], 3, "{backend}: three lines said: {o}");
        let r = get(app, "/api/chat/search?q=zebra", &a.inv).await;
        assert_eq!(r.json()["page"]["total"], 1, "{backend}: {}", r.text());
    }
}
