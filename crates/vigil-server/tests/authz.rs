//! The authorisation matrix of the server: every API route
//! (`api::api_router().routes()`) and every page route
//! (`pages::page_router().routes()`) × every role × (own agency, other agency
//! with a release, other agency without one), sent through the router
//! in-process on a seeded two-agency instance, on SQLite and (when
//! `VIGIL_TEST_DATABASE_URL` is set) PostgreSQL.
//!
//! **A route without a row in [`ROWS`] fails the test**: add one line naming
//! the route, a concrete request (`{case}`, `{person}`, `{event}`, `{email}`
//! stand for the scope's target record, `{spare}` for a user of the actor's
//! own agency, `{agency_b}` for agency B's id, `{own_token}` for the id of the
//! caller's own API token, `{uniq}` for a number new to every request,
//! `{bundle}` for a partner agency's public key bundle) and what it needs
//! ([`Req`]).

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use tower::ServiceExt;
use vigil_domain::{Capability, NewEvent, NewIdentifier, NewPerson, Release, Role};
use vigil_server::Config;
use vigil_share::secrecy::ExposeSecret;
use vigil_store::Store;

/// What a route needs; as in the CLI matrix (`vigil-cli/tests/authz.rs`).
#[derive(Debug, Clone, Copy)]
enum Req {
    /// No sign-in at all.
    Public,
    /// Any signed-in user of any agency.
    Any,
    /// The role must grant the capability.
    Cap(Capability),
    /// Read the target (release markings apply).
    Read,
    /// Change the target (owning agency only).
    Write,
    /// A listing or search: needs the capability; the marker appears in the
    /// body exactly when the caller may read the target.
    Shows(Capability, &'static str),
    /// One of the capabilities.
    AnyCap(&'static [Capability]),
    /// One of the capabilities, and only the agency this instance belongs to
    /// (keys, checkpoints): another agency's users with the capability are
    /// refused too, for a reason other than their role.
    LocalCap(&'static [Capability]),
    /// Capability gate only: the request names an id that does not exist, so
    /// a role with the capability gets 404 and one without 403 or 404 (the
    /// record-level rule is covered by the feature's own tests).
    Gate(Capability),
    /// Not run here, with the reason.
    Exempt(&'static str),
}

use Capability::*;
use Req::*;

/// How the request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `Authorization: Bearer` API token.
    Token,
    /// A web session cookie (and the CSRF field on forms).
    Session,
}

struct Row {
    method: Method,
    route: &'static str,
    /// The concrete request path (with placeholders).
    uri: &'static str,
    /// JSON (API) or form (pages) body for writes.
    body: &'static str,
    req: Req,
}

fn row(
    method: Method,
    route: &'static str,
    uri: &'static str,
    body: &'static str,
    req: Req,
) -> Row {
    Row {
        method,
        route,
        uri,
        body,
        req,
    }
}

/// The expectations: one row per route.
fn rows() -> Vec<Row> {
    let (g, p) = (Method::GET, Method::POST);
    let (patch, del) = (Method::PATCH, Method::DELETE);
    vec![
        // ----- API
        row(
            g.clone(),
            "/api/openapi.json",
            "/api/openapi.json",
            "",
            Public,
        ),
        row(g.clone(), "/api/me", "/api/me", "", Any),
        row(g.clone(), "/api/agencies", "/api/agencies", "", Any),
        row(
            p.clone(),
            "/api/agencies",
            "/api/agencies",
            r#"{"name":"Agency Z{uniq}","country":"FR"}"#,
            Cap(ManageUsers),
        ),
        row(
            patch.clone(),
            "/api/agencies/{id}",
            "/api/agencies/{agency_b}",
            r#"{"contact":"desk@example.org"}"#,
            Cap(ManageUsers),
        ),
        row(g.clone(), "/api/users", "/api/users", "", Cap(ManageUsers)),
        row(
            p.clone(),
            "/api/users",
            "/api/users",
            r#"{"name":"new-user-{uniq}","roles":["analyst"]}"#,
            Cap(ManageUsers),
        ),
        row(
            patch.clone(),
            "/api/users/{name}",
            "/api/users/{spare}",
            r#"{"roles":["investigator"]}"#,
            Cap(ManageUsers),
        ),
        row(
            p.clone(),
            "/api/tokens",
            "/api/tokens",
            r#"{"name":"ci"}"#,
            Any,
        ),
        row(g.clone(), "/api/tokens", "/api/tokens", "", Any),
        // Revokes the very token the request is authenticated with.
        row(
            del.clone(),
            "/api/tokens/{id}",
            "/api/tokens/{own_token}",
            "",
            Any,
        ),
        row(
            g.clone(),
            "/api/cases",
            "/api/cases?limit=500",
            "",
            Shows(ReadCase, "{case_title}"),
        ),
        row(
            p.clone(),
            "/api/cases",
            "/api/cases",
            r#"{"title":"New case"}"#,
            Cap(WriteCase),
        ),
        row(g.clone(), "/api/cases/{id}", "/api/cases/{case}", "", Read),
        // Writes what is there already, so later rows still find it.
        row(
            patch.clone(),
            "/api/cases/{id}",
            "/api/cases/{case}",
            r#"{"title":"{case_title}"}"#,
            Write,
        ),
        row(
            p.clone(),
            "/api/cases/{id}/members",
            "/api/cases/{case}/members",
            r#"{"user":"a-spare"}"#,
            Write,
        ),
        row(
            p.clone(),
            "/api/cases/{id}/notes",
            "/api/cases/{case}/notes",
            r#"{"body":"a note"}"#,
            Write,
        ),
        row(
            p.clone(),
            "/api/cases/{id}/persons",
            "/api/cases/{case}/persons",
            r#"{"role":"victim","label":"V-9"}"#,
            Write,
        ),
        row(
            g.clone(),
            "/api/persons",
            "/api/persons?limit=500",
            "",
            Shows(ReadCase, "{person_label}"),
        ),
        row(
            g.clone(),
            "/api/persons/{id}",
            "/api/persons/{person}",
            "",
            Read,
        ),
        row(
            patch.clone(),
            "/api/persons/{id}",
            "/api/persons/{person}",
            r#"{"label":"{person_label}"}"#,
            Write,
        ),
        row(
            patch.clone(),
            "/api/events/{id}",
            "/api/events/{event}",
            r#"{"details":"remanded"}"#,
            Write,
        ),
        row(
            p.clone(),
            "/api/persons/{id}/identifiers",
            "/api/persons/{person}/identifiers",
            r#"{"kind":"handle","value":"n3w","network":"irc"}"#,
            Write,
        ),
        row(
            p.clone(),
            "/api/persons/{id}/events",
            "/api/persons/{person}/events",
            r#"{"kind":"arrest","date":"2026-03-02","country":"CA"}"#,
            Write,
        ),
        row(
            g.clone(),
            "/api/identifiers/lookup",
            "/api/identifiers/lookup?value={email}",
            "",
            Shows(ReadCase, "{person_label}"),
        ),
        row(
            g.clone(),
            "/api/dashboard",
            "/api/dashboard",
            "",
            Cap(ReadCase),
        ),
        row(g.clone(), "/api/audit", "/api/audit", "", Cap(ReadAudit)),
        row(
            g.clone(),
            "/api/audit/verify",
            "/api/audit/verify",
            "",
            Cap(ReadAudit),
        ),
        row(
            p.clone(),
            "/api/audit/checkpoint",
            "/api/audit/checkpoint",
            "",
            LocalCap(&[ReadAudit]),
        ),
        row(
            g.clone(),
            "/api/retention/review",
            "/api/retention/review?as_of=2040-01-01",
            "",
            Cap(ReadAudit),
        ),
        // ----- chat, scans, hash sets
        row(
            g.clone(),
            "/api/chat/search",
            "/api/chat/search?q=zebra",
            "",
            Cap(ReadCase),
        ),
        row(
            g.clone(),
            "/api/chat/rooms",
            "/api/chat/rooms",
            "",
            Cap(ReadCase),
        ),
        row(
            g.clone(),
            "/api/chat/rooms/{id}",
            "/api/chat/rooms/999999",
            "",
            Gate(ReadCase),
        ),
        row(
            g.clone(),
            "/api/chat/rooms/{id}/messages",
            "/api/chat/rooms/999999/messages",
            "",
            Gate(ReadCase),
        ),
        row(
            p.clone(),
            "/api/chat/import",
            "/api/chat/import",
            r##"{"case_id":{case},"log":"--- Log opened Sat Mar 01 20:00:00 2008\n20:01 <zed> hello there\n","room":"#authz"}"##,
            Write,
        ),
        row(g.clone(), "/api/scans", "/api/scans", "", Cap(ReadCase)),
        row(
            g.clone(),
            "/api/scans/{id}",
            "/api/scans/999999",
            "",
            Gate(ReadCase),
        ),
        row(
            g.clone(),
            "/api/scans/{id}/items",
            "/api/scans/999999/items",
            "",
            Gate(ReadCase),
        ),
        row(
            g.clone(),
            "/api/hashsets",
            "/api/hashsets",
            "",
            Cap(ReadCase),
        ),
        row(
            g.clone(),
            "/api/hashsets/{name}",
            "/api/hashsets/no-such-set",
            "",
            Gate(ReadCase),
        ),
        row(
            p.clone(),
            "/api/hashsets",
            "/api/hashsets?name=authz-{who}&format=csv",
            "md5\n0123456789abcdef0123456789abcdef\n",
            Cap(ManageHashSets),
        ),
        row(
            Method::DELETE,
            "/api/hashsets/{name}",
            "/api/hashsets/no-such-set",
            "",
            Gate(ManageHashSets),
        ),
        row(
            g.clone(),
            "/api/hashsets/{name}/export",
            "/api/hashsets/no-such-set/export?format=csv",
            "",
            Gate(ReadCase),
        ),
        row(
            p.clone(),
            "/api/chat/reindex",
            "/api/chat/reindex?case={case}",
            "",
            Read,
        ),
        row(
            p.clone(),
            "/api/match",
            "/api/match",
            r#"{"md5":["0123456789abcdef0123456789abcdef"]}"#,
            Cap(ReadCase),
        ),
        // ----- links, alerts, dissemination, graph
        // Lists only candidates between persons the caller may read: for a
        // case it cannot see the list is empty, as for one that does not exist.
        row(
            g.clone(),
            "/api/links/candidates",
            "/api/links/candidates?case_id={case}",
            "",
            Cap(ReadCase),
        ),
        row(
            p.clone(),
            "/api/links/candidates/{id}/accept",
            "/api/links/candidates/999999/accept",
            r#"{"note":"same person"}"#,
            Gate(WriteCase),
        ),
        row(
            p.clone(),
            "/api/links/candidates/{id}/reject",
            "/api/links/candidates/999999/reject",
            r#"{"note":"different people"}"#,
            Gate(WriteCase),
        ),
        row(
            g.clone(),
            "/api/persons/{id}/links",
            "/api/persons/{person}/links",
            "",
            Read,
        ),
        row(
            p.clone(),
            "/api/persons/{id}/unmerge",
            "/api/persons/999999/unmerge",
            "",
            Gate(WriteCase),
        ),
        row(g.clone(), "/api/alerts", "/api/alerts", "", Cap(ReadCase)),
        row(
            p.clone(),
            "/api/alerts/{id}/read",
            "/api/alerts/999999/read",
            "",
            Gate(ReadCase),
        ),
        row(
            g.clone(),
            "/api/attribution",
            "/api/attribution?operation=Op%20Kestrel",
            "",
            Shows(ReadCase, "{person_label}"),
        ),
        row(
            g.clone(),
            "/api/packages",
            "/api/packages",
            "",
            Cap(Packages),
        ),
        row(
            g.clone(),
            "/api/keys",
            "/api/keys",
            "",
            AnyCap(&[Packages, ManageUsers]),
        ),
        row(
            p.clone(),
            "/api/keys",
            "/api/keys",
            "",
            LocalCap(&[Packages, ManageUsers]),
        ),
        row(
            g.clone(),
            "/api/keys/public",
            "/api/keys/public",
            "",
            LocalCap(&[Packages, ManageUsers]),
        ),
        row(
            p.clone(),
            "/api/keys/partners",
            "/api/keys/partners",
            "{bundle}",
            LocalCap(&[Packages, ManageUsers]),
        ),
        row(g.clone(), "/api/graph", "/api/graph?case={case}", "", Read),
        row(
            g.clone(),
            "/api/graph/export",
            "/api/graph/export?case={case}&format=graphml",
            "",
            Read,
        ),
        row(
            g.clone(),
            "/api/graph/key-players",
            "/api/graph/key-players?case={case}",
            "",
            Read,
        ),
        row(
            g.clone(),
            "/api/graph/path",
            "/api/graph/path?case={case}&from={person}&to={person}",
            "",
            Read,
        ),
        row(
            g.clone(),
            "/api/graph/communities",
            "/api/graph/communities?case={case}",
            "",
            Read,
        ),
        // ----- packages (the feature's own tests cover real builds/imports)
        row(
            p.clone(),
            "/api/packages",
            "/api/packages",
            r#"{"operation":"Op Kestrel","to":"No Such Agency"}"#,
            Gate(Packages),
        ),
        row(
            g.clone(),
            "/api/packages/{id}/file",
            "/api/packages/999999/file",
            "",
            Gate(Packages),
        ),
        row(
            p.clone(),
            "/api/packages/{id}/ack",
            "/api/packages/999999/ack",
            "",
            Gate(Packages),
        ),
        row(
            p.clone(),
            "/api/packages/outcomes",
            "/api/packages/outcomes",
            r#"{"to":"No Such Agency"}"#,
            Gate(Packages),
        ),
        // Not a package: refused by role (403) before it is opened, and
        // for a liaison officer refused as not a package (422).
        row(
            p.clone(),
            "/api/packages/import",
            "/api/packages/import",
            "not a package",
            Exempt("a body that opens needs two instances: tests/api_data.rs"),
        ),
        row(
            g.clone(),
            "/api/packages/counts",
            "/api/packages/counts?operation=Op%20Kestrel",
            "",
            Cap(ReadCase),
        ),
        // ----- pages
        row(
            g.clone(),
            "/static/vigil.css",
            "/static/vigil.css",
            "",
            Public,
        ),
        row(g.clone(), "/login", "/login", "", Public),
        row(
            p.clone(),
            "/login",
            "/login",
            "",
            Exempt("the sign-in form itself: tests/api.rs and tests/browser.rs"),
        ),
        row(p.clone(), "/logout", "/logout", "", Any),
        row(g.clone(), "/", "/", "", Cap(ReadCase)),
        row(
            g.clone(),
            "/cases",
            "/cases",
            "",
            Shows(ReadCase, "{case_title}"),
        ),
        row(g.clone(), "/cases/{id}", "/cases/{case}", "", Read),
        row(g.clone(), "/persons/{id}", "/persons/{person}", "", Read),
        row(
            p.clone(),
            "/persons/{id}/notes",
            "/persons/{person}/notes",
            "body=a+note",
            Write,
        ),
        row(
            g.clone(),
            "/lookup",
            "/lookup?value={email}",
            "",
            Shows(ReadCase, "{person_label}"),
        ),
        row(g.clone(), "/chat", "/chat?q=zebra", "", Cap(ReadCase)),
        row(
            g.clone(),
            "/chat/rooms/{id}",
            "/chat/rooms/999999",
            "",
            Gate(ReadCase),
        ),
        row(g.clone(), "/scans", "/scans", "", Cap(ReadCase)),
        row(
            g.clone(),
            "/scans/{id}",
            "/scans/999999",
            "",
            Gate(ReadCase),
        ),
        row(g.clone(), "/hashsets", "/hashsets", "", Cap(ReadCase)),
        row(
            g.clone(),
            "/hashsets/{name}",
            "/hashsets/no-such-set",
            "",
            Gate(ReadCase),
        ),
        row(g.clone(), "/graph", "/graph?case={case}", "", Read),
        row(
            g.clone(),
            "/static/graph.js",
            "/static/graph.js",
            "",
            Public,
        ),
        row(
            g.clone(),
            "/static/vendor/cytoscape-3.35.0.min.js",
            "/static/vendor/cytoscape-3.35.0.min.js",
            "",
            Public,
        ),
        row(g.clone(), "/alerts", "/alerts", "", Cap(ReadCase)),
        row(
            p.clone(),
            "/alerts/{id}/read",
            "/alerts/999999/read",
            "",
            Gate(ReadCase),
        ),
        row(
            g.clone(),
            "/dissemination",
            "/dissemination",
            "",
            Cap(ReadCase),
        ),
        row(
            p.clone(),
            "/persons/{id}/candidates/{cid}/{decision}",
            "/persons/{person}/candidates/999999/accept",
            "note=same",
            Gate(WriteCase),
        ),
        row(
            p.clone(),
            "/persons/{id}/unmerge",
            "/persons/999999/unmerge",
            "",
            Gate(WriteCase),
        ),
        row(g, "/audit", "/audit", "", Cap(ReadAudit)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Own,
    Released,
    Unreleased,
}

const ROLES: &[Role] = &[
    Role::Investigator,
    Role::ForensicExaminer,
    Role::Analyst,
    Role::Supervisor,
    Role::LiaisonOfficer,
    Role::AgencyAdmin,
];

fn can(role: Role, cap: Capability) -> bool {
    role.capabilities().contains(&cap)
}

#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Allow,
    AllowShows(bool),
    Deny,
    /// Denied, and the target must look absent (404).
    Absent,
    /// Refused for a reason other than the role (any 4xx).
    Fail,
}

fn expect(req: Req, role: Role, scope: Scope) -> Expect {
    let own = scope == Scope::Own;
    let readable = can(role, ReadCase) && scope != Scope::Unreleased;
    let record_deny = if scope == Scope::Unreleased {
        Expect::Absent
    } else {
        Expect::Deny
    };
    match req {
        Public | Any => Expect::Allow,
        Cap(c) if can(role, c) => Expect::Allow,
        Cap(_) => Expect::Deny,
        AnyCap(cs) if cs.iter().any(|c| can(role, *c)) => Expect::Allow,
        AnyCap(_) => Expect::Deny,
        LocalCap(cs) if !cs.iter().any(|c| can(role, *c)) => Expect::Deny,
        LocalCap(_) if own => Expect::Allow,
        LocalCap(_) => Expect::Fail,
        Gate(c) if can(role, c) => Expect::Absent,
        Gate(_) => Expect::Deny,
        Read if readable => Expect::Allow,
        // A role without the capability may be refused for its role (403)
        // before the record is looked at; that reveals nothing about it.
        Read if !can(role, ReadCase) => Expect::Deny,
        Read => record_deny,
        Write if own && can(role, WriteCase) => Expect::Allow,
        Write => record_deny,
        Shows(c, _) if can(role, c) => Expect::AllowShows(readable),
        Shows(..) => Expect::Deny,
        Exempt(_) => unreachable!(),
    }
}

struct Target {
    case: i64,
    case_title: String,
    person: i64,
    person_label: String,
    event: i64,
    email: String,
}

struct World {
    name: &'static str,
    app: Router,
    store: Store,
    /// [unreleased, released]
    targets: [Target; 2],
    agency_b: i64,
    /// A partner agency's public key bundle (JSON).
    bundle: String,
    _dir: Option<tempfile::TempDir>,
    /// The chat search index of this world.
    _search: tempfile::TempDir,
}

fn user(agency: char, role: Role) -> String {
    format!("{agency}-{}", role.as_str())
}

async fn world(store: Store, name: &'static str, dir: Option<tempfile::TempDir>) -> World {
    let search = vigil_testkit::tempdir();
    let admin = store
        .init("Agency A", "CA", None, "a0", "correct horse battery")
        .await
        .unwrap();
    let b = store
        .add_agency(&admin, "Agency B", "GB", None)
        .await
        .unwrap();
    for r in ROLES {
        store
            .add_user(&admin, &user('a', *r), None, r.as_str(), None)
            .await
            .unwrap();
        store
            .add_user(&admin, &user('b', *r), Some("Agency B"), r.as_str(), None)
            .await
            .unwrap();
    }
    for (name, agency) in [("a-spare", None), ("b-spare", Some("Agency B"))] {
        store
            .add_user(&admin, name, agency, "investigator", None)
            .await
            .unwrap();
    }
    // Agency A's keys (checkpoints sign with them) and agency C's bundle.
    let ca = vigil_share::CountryCode::parse("CA").unwrap();
    let keys = vigil_share::generate_stored_keys("Agency A", ca, None).unwrap();
    store
        .store_agency_keys(
            &admin,
            keys.fingerprint.as_str(),
            &keys.public_bundle,
            keys.stored_secret.expose_secret(),
        )
        .await
        .unwrap();
    let fr = vigil_share::CountryCode::parse("FR").unwrap();
    let bundle = vigil_share::generate_stored_keys("Agency C", fr, None)
        .unwrap()
        .public_bundle;
    let owner = store.principal("a-investigator").await.unwrap();
    let mut targets = Vec::new();
    for (title, release, tag) in [
        ("Kestrel private", Release::Agency, "priv"),
        (
            "Kestrel released",
            Release::To {
                agencies: vec![b.id],
                countries: vec![],
            },
            "rel",
        ),
    ] {
        let case = store
            .create_case(&owner, title, Some("Op Kestrel"), &release, "test")
            .await
            .unwrap();
        for r in ROLES {
            if can(*r, ReadCase) && *r != Role::Investigator {
                store
                    .add_case_member(&owner, case.id, &user('a', *r))
                    .await
                    .unwrap();
            }
        }
        let label = format!("{tag}_suspect");
        let person = store
            .add_person(
                &owner,
                case.id,
                &NewPerson::parse("suspect", &label).unwrap(),
                "test",
            )
            .await
            .unwrap();
        let email = format!("{tag}.trader@example.net");
        store
            .add_identifier(
                &owner,
                person.id,
                &NewIdentifier::parse("email", &email).unwrap(),
                "test",
            )
            .await
            .unwrap();
        let event = store
            .add_event(
                &owner,
                person.id,
                &NewEvent::parse("tip-received", "2026-01-01", "CA").unwrap(),
                "test",
            )
            .await
            .unwrap();
        targets.push(Target {
            case: case.id,
            case_title: title.to_string(),
            person: person.id,
            person_label: label,
            event: event.id,
            email,
        });
    }
    let app = vigil_server::router(
        store.clone(),
        Config {
            secure_cookies: true,
            session_ttl_seconds: 600,
            search_dir: Some(search.path().to_path_buf()),
        },
    );
    let [t0, t1]: [Target; 2] = match targets.try_into() {
        Ok(t) => t,
        Err(_) => unreachable!(),
    };
    World {
        name,
        app,
        store,
        targets: [t0, t1],
        agency_b: b.id,
        bundle,
        _dir: dir,
        _search: search,
    }
}

async fn worlds() -> Vec<World> {
    let dir = vigil_testkit::tempdir();
    let store = Store::open_sqlite(&dir.path().join("vigil.db"))
        .await
        .unwrap();
    let mut v = vec![world(store, "sqlite", Some(dir)).await];
    if let Some(url) = vigil_testkit::fresh_postgres_url().await {
        let store = Store::open_postgres(&url).await.unwrap();
        v.push(world(store, "postgres", None).await);
    }
    v
}

/// Fills a row's placeholders for a request in `scope` (`{own_token}` and
/// `{uniq}` are filled by [`request`]).
fn fill(text: &str, w: &World, scope: Scope) -> String {
    let t = &w.targets[usize::from(scope == Scope::Released)];
    let spare = if scope == Scope::Own {
        "a-spare"
    } else {
        "b-spare"
    };
    text.replace("{case_title}", &t.case_title)
        .replace("{case}", &t.case.to_string())
        .replace("{person_label}", &t.person_label)
        .replace("{person}", &t.person.to_string())
        .replace("{event}", &t.event.to_string())
        .replace("{email}", &t.email)
        .replace("{spare}", spare)
        .replace("{agency_b}", &w.agency_b.to_string())
        .replace("{bundle}", &w.bundle)
}

/// A number new to every request (names of created agencies and users).
static UNIQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Routes as the routers record them, `METHOD path`.
fn recorded() -> BTreeSet<String> {
    let api = vigil_server::api::api_router();
    let pages = vigil_server::pages::page_router();
    api.routes()
        .iter()
        .chain(pages.routes())
        .map(|(m, p)| format!("{m} {p}"))
        .collect()
}

#[test]
fn every_route_has_a_row() {
    let recorded = recorded();
    let rows: BTreeSet<String> = rows()
        .iter()
        .map(|r| format!("{} {}", r.method, r.route))
        .collect();
    let missing: Vec<&String> = recorded.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without an authorisation row (add one to rows() in crates/vigil-server/tests/authz.rs): {missing:?}"
    );
    let stale: Vec<&String> = rows.difference(&recorded).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that no longer exist: {stale:?}"
    );
    for r in self::rows() {
        if let Exempt(reason) = r.req {
            assert!(
                reason.len() > 10,
                "{}: an exemption needs its reason",
                r.route
            );
        }
    }
}

/// One request as `who` (none: no credentials); `body` has its placeholders
/// filled like the path.
async fn request(
    w: &World,
    row: &Row,
    uri: &str,
    body: &str,
    who: Option<&str>,
) -> (StatusCode, String) {
    let via = if row.route.starts_with("/api/") {
        Via::Token
    } else {
        Via::Session
    };
    let uniq = UNIQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // `{who}`: the caller's user name, for records named per caller (a hash
    // set's name is unique across agencies).
    let mut uri = uri.replace("{who}", who.unwrap_or("anonymous"));
    let mut body = body.replace("{uniq}", &uniq.to_string());
    let mut headers = Vec::new();
    if let Some(name) = who {
        let p = w.store.principal(name).await.unwrap();
        match via {
            Via::Token => {
                let (t, token) = w.store.create_api_token(&p, "matrix", None).await.unwrap();
                uri = uri.replace("{own_token}", &t.id.to_string());
                headers.push((header::AUTHORIZATION, format!("Bearer {token}")));
            }
            Via::Session => {
                let s = w.store.create_session(&p, 600).await.unwrap();
                headers.push((
                    header::COOKIE,
                    format!("{}={}", vigil_server::auth::SESSION_COOKIE, s.token),
                ));
                if row.method == Method::POST {
                    let csrf = vigil_server::auth::csrf_token(&s.token);
                    body = if body.is_empty() {
                        format!("csrf={csrf}")
                    } else {
                        format!("{body}&csrf={csrf}")
                    };
                }
            }
        }
    }
    let uri = uri.replace("{own_token}", "999999");
    let mut b = Request::builder().method(row.method.clone()).uri(uri);
    for (k, v) in headers {
        b = b.header(k, v);
    }
    if row.method != Method::GET {
        let ct = match via {
            Via::Token => "application/json",
            Via::Session => "application/x-www-form-urlencoded",
        };
        b = b.header(header::CONTENT_TYPE, ct);
    }
    let res = w
        .app
        .clone()
        .oneshot(b.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 24)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn every_route_role_and_scope_is_allowed_or_denied_as_the_table_says() {
    for w in worlds().await {
        let mut failures = Vec::new();
        let mut runs = 0;
        for row in rows() {
            if matches!(row.req, Exempt(_)) {
                continue;
            }
            let scopes: &[Scope] = match row.req {
                Read | Write | Shows(..) => &[Scope::Own, Scope::Released, Scope::Unreleased],
                _ => &[Scope::Own, Scope::Unreleased],
            };
            for role in ROLES {
                for scope in scopes {
                    runs += 1;
                    let uri = fill(row.uri, &w, *scope);
                    let name = user(if *scope == Scope::Own { 'a' } else { 'b' }, *role);
                    let (status, body) =
                        request(&w, &row, &uri, &fill(row.body, &w, *scope), Some(&name)).await;
                    let want = expect(row.req, *role, *scope);
                    let allowed = status.is_success() || status.is_redirection();
                    let good = match &want {
                        Expect::Allow => allowed,
                        Expect::AllowShows(shows) => {
                            let Shows(_, marker) = row.req else {
                                unreachable!()
                            };
                            allowed && body.contains(&fill(marker, &w, *scope)) == *shows
                        }
                        Expect::Deny => {
                            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND
                        }
                        Expect::Absent => status == StatusCode::NOT_FOUND,
                        Expect::Fail => status.is_client_error(),
                    };
                    if !good {
                        failures.push(format!(
                            "{} {} as {name} ({scope:?}): expected {want:?}, got {status}: {}",
                            row.method,
                            uri,
                            body.chars().take(200).collect::<String>()
                        ));
                    }
                }
            }
            // Without credentials only public routes answer.
            let (status, _) = request(
                &w,
                &row,
                &fill(row.uri, &w, Scope::Own),
                &fill(row.body, &w, Scope::Own),
                None,
            )
            .await;
            let anonymous_ok = status.is_success() && !matches!(row.req, Public)
                || (!status.is_success() && matches!(row.req, Public));
            if anonymous_ok {
                failures.push(format!(
                    "{} {} without credentials: got {status}",
                    row.method, row.uri
                ));
            }
        }
        assert!(runs > 150, "{}: only {runs} runs", w.name);
        assert!(
            failures.is_empty(),
            "{}: {} of {runs} requests disagree with the table:\n{}",
            w.name,
            failures.len(),
            failures.join("\n")
        );
    }
}
