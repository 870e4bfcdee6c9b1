//! The administrative API — agencies, users, case/person/event updates,
//! case members, API tokens, audit checkpoints, retention review and agency
//! keys — on SQLite and, when `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL:
//! each endpoint does what its `vigil` command does for a caller the store
//! allows, and refuses one it does not, and the change is audited.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use vigil_domain::{NewEvent, NewPerson, Release};
use vigil_store::{AuditFilter, Store};

use crate::common::{self, PW, delete, get, patch_json, post_json, send};

struct World {
    name: &'static str,
    app: Router,
    store: Store,
    /// Agency A's administrator (A hosts the instance).
    admin: String,
    /// Agency A's investigator `alice`, owner of `case`.
    alice: String,
    /// Agency A's supervisor (read-audit).
    sup: String,
    /// Agency A's liaison officer (reads cases, writes none).
    lo: String,
    /// Agency B's investigator.
    bob: String,
    /// Agency B's administrator (manage-users, but not of the host).
    b_admin: String,
    agency_b: i64,
    case: i64,
    person: i64,
    event: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn worlds() -> Vec<World> {
    let mut v = Vec::new();
    for b in common::backends().await {
        let store = b.store;
        let people = common::two_agencies(&store, "investigator").await;
        store
            .add_user(&people.admin, "sup", None, "supervisor", Some(PW))
            .await
            .unwrap();
        store
            .add_user(&people.admin, "lo", None, "liaison-officer", None)
            .await
            .unwrap();
        store
            .add_user(
                &people.admin,
                "b-admin",
                Some("Agency B"),
                "agency-admin",
                None,
            )
            .await
            .unwrap();
        let case = store
            .create_case(
                &people.alice,
                "Room Nightjar",
                Some("Op Heron"),
                &Release::Agency,
                "test",
            )
            .await
            .unwrap();
        let person = store
            .add_person(
                &people.alice,
                case.id,
                &NewPerson::parse("suspect", "g0d_1").unwrap(),
                "test",
            )
            .await
            .unwrap();
        let event = store
            .add_event(
                &people.alice,
                person.id,
                &NewEvent::parse("arrest", "2026-02-01", "CA").unwrap(),
                "test",
            )
            .await
            .unwrap();
        let sup = store.principal("sup").await.unwrap();
        let b_admin = store.principal("b-admin").await.unwrap();
        v.push(World {
            name: b.name,
            app: common::app(&store, None),
            admin: common::token(&store, &people.admin).await,
            alice: common::token(&store, &people.alice).await,
            sup: common::token(&store, &sup).await,
            lo: common::token(&store, &store.principal("lo").await.unwrap()).await,
            bob: common::token(&store, &people.bob).await,
            b_admin: common::token(&store, &b_admin).await,
            agency_b: people.agency_b,
            case: case.id,
            person: person.id,
            event: event.id,
            store,
            _dir: b.dir,
        });
    }
    v
}

/// Asserts the status, and that errors are problem documents.
fn expect(w: &World, what: &str, r: &common::Reply, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}: {what}: {}", w.name, r.text());
    if !status.is_success() {
        assert_eq!(r.content_type(), "application/problem+json", "{what}");
    }
    r.json()
}

/// The audit entries of `action`, as both agencies' administrators read
/// their logs.
async fn audited(w: &World, action: &str) -> Vec<vigil_store::AuditEntry> {
    let mut out = Vec::new();
    for name in ["admin", "b-admin"] {
        let p = w.store.principal(name).await.unwrap();
        out.extend(
            w.store
                .audit_log(&p, &AuditFilter::default())
                .await
                .unwrap()
                .into_iter()
                .filter(|e| e.action == action),
        );
    }
    out
}

#[tokio::test]
async fn agencies_and_users_are_managed_by_administrators_only() {
    for w in worlds().await {
        let r = send(
            &w.app,
            post_json(
                "/api/agencies",
                &w.admin,
                json!({"name": "Agency C", "country": "fr", "contact": "desk-c@example.org"}),
            ),
        )
        .await;
        let c = expect(&w, "admin adds an agency", &r, StatusCode::CREATED);
        assert_eq!(c["country"], "FR");
        assert_eq!(c["is_local"], false);
        let r = send(
            &w.app,
            post_json(
                "/api/agencies",
                &w.admin,
                json!({"name": "Agency C", "country": "FR"}),
            ),
        )
        .await;
        expect(&w, "the same name again", &r, StatusCode::CONFLICT);
        let r = send(
            &w.app,
            post_json(
                "/api/agencies",
                &w.alice,
                json!({"name": "Agency D", "country": "FR"}),
            ),
        )
        .await;
        expect(
            &w,
            "an investigator adds an agency",
            &r,
            StatusCode::FORBIDDEN,
        );

        let r = send(
            &w.app,
            patch_json(
                &format!("/api/agencies/{}", w.agency_b),
                &w.admin,
                json!({"contact": "night-desk-b@example.org"}),
            ),
        )
        .await;
        let b = expect(&w, "admin updates B", &r, StatusCode::OK);
        assert_eq!(b["contact"], "night-desk-b@example.org");
        // B's administrator manages B's entry, not the hosting agency's.
        let a_id = w.store.agency_by_name("Agency A").await.unwrap().id;
        let r = send(
            &w.app,
            patch_json(
                &format!("/api/agencies/{a_id}"),
                &w.b_admin,
                json!({"contact": "hijacked@example.org"}),
            ),
        )
        .await;
        expect(&w, "B's admin updates A", &r, StatusCode::FORBIDDEN);
        let a = w.store.agency_by_name("Agency A").await.unwrap();
        assert_eq!(a.contact.as_deref(), Some("desk-a@example.org"));

        // A user with a password: created, never echoed, able to sign in.
        let secret_pw = "tangerine sailboat 42";
        let r = send(
            &w.app,
            post_json(
                "/api/users",
                &w.admin,
                json!({"name": "carol", "roles": ["analyst", "liaison-officer"],
                       "password": secret_pw}),
            ),
        )
        .await;
        let u = expect(&w, "admin adds a user", &r, StatusCode::CREATED);
        assert_eq!(u["roles"], json!(["analyst", "liaison-officer"]));
        assert_eq!(u["agency"], "Agency A");
        assert!(!r.text().contains(secret_pw), "{}: password echoed", w.name);
        assert!(u.get("password").is_none());
        let signed = common::sign_in_reply(&w.app, "carol", secret_pw).await;
        assert_eq!(
            signed.status,
            StatusCode::SEE_OTHER,
            "{}: carol signs in",
            w.name
        );
        let r = send(
            &w.app,
            post_json(
                "/api/users",
                &w.admin,
                json!({"name": "dave", "roles": ["sheriff"]}),
            ),
        )
        .await;
        expect(&w, "an unknown role", &r, StatusCode::UNPROCESSABLE_ENTITY);
        let r = send(
            &w.app,
            post_json(
                "/api/users",
                &w.alice,
                json!({"name": "eve", "roles": ["agency-admin"]}),
            ),
        )
        .await;
        expect(
            &w,
            "an investigator adds an admin",
            &r,
            StatusCode::FORBIDDEN,
        );
        // B's administrator adds to B, but not to the hosting agency.
        let r = send(
            &w.app,
            post_json(
                "/api/users",
                &w.b_admin,
                json!({"name": "b-analyst", "roles": ["analyst"]}),
            ),
        )
        .await;
        let bu = expect(&w, "B's admin adds to B", &r, StatusCode::CREATED);
        assert_eq!(bu["agency"], "Agency B");
        let r = send(
            &w.app,
            post_json(
                "/api/users",
                &w.b_admin,
                json!({"name": "mole", "roles": ["investigator"], "agency": "Agency A"}),
            ),
        )
        .await;
        expect(&w, "B's admin adds to A", &r, StatusCode::FORBIDDEN);

        // Update: roles, disable (her sign-in stops), password.
        let r = send(
            &w.app,
            patch_json(
                "/api/users/carol",
                &w.admin,
                json!({"roles": ["analyst"], "disabled": true}),
            ),
        )
        .await;
        let u = expect(&w, "admin updates carol", &r, StatusCode::OK);
        assert_eq!(u["roles"], json!(["analyst"]));
        assert_eq!(u["disabled"], true);
        let signed = common::sign_in_reply(&w.app, "carol", secret_pw).await;
        assert_ne!(signed.status, StatusCode::SEE_OTHER, "{}: disabled", w.name);
        let r = send(
            &w.app,
            patch_json("/api/users/carol", &w.b_admin, json!({"disabled": false})),
        )
        .await;
        expect(&w, "B's admin updates A's user", &r, StatusCode::NOT_FOUND);
        let r = send(
            &w.app,
            patch_json("/api/users/carol", &w.alice, json!({"disabled": false})),
        )
        .await;
        expect(
            &w,
            "an investigator updates a user",
            &r,
            StatusCode::FORBIDDEN,
        );
        assert!(w.store.principal("carol").await.is_err(), "still disabled");

        // Audited, with the password's change but never the password.
        let adds = audited(&w, "user.add").await;
        assert!(adds.iter().any(|e| e.detail.contains("carol")
            && e.origin.starts_with("api")
            && e.outcome == "allowed"));
        assert!(
            adds.iter()
                .any(|e| e.outcome != "allowed" && e.user_name == "alice"),
            "{}: the refusal is audited",
            w.name
        );
        let all = w
            .store
            .audit_log(
                &w.store.principal("admin").await.unwrap(),
                &AuditFilter::default(),
            )
            .await
            .unwrap();
        assert!(!all.iter().any(|e| e.detail.contains(secret_pw)));
        assert!(!audited(&w, "agency.add").await.is_empty());
        assert!(!audited(&w, "agency.update").await.is_empty());
        assert!(!audited(&w, "user.update").await.is_empty());
    }
}

#[tokio::test]
async fn cases_persons_and_events_are_updated_by_their_owners() {
    for w in worlds().await {
        let uri = format!("/api/cases/{}", w.case);
        let r = send(
            &w.app,
            patch_json(&uri, &w.alice, json!({"title": "Room Nightjar II"})),
        )
        .await;
        let c = expect(&w, "owner renames", &r, StatusCode::OK);
        assert_eq!(c["title"], "Room Nightjar II");
        let r = send(
            &w.app,
            patch_json(
                &uri,
                &w.alice,
                json!({"release": "to:country=GB", "retention_until": "2020-01-31",
                       "retention_basis": "Test statute s.1"}),
            ),
        )
        .await;
        let c = expect(&w, "release and retention", &r, StatusCode::OK);
        assert_eq!(c["retention_until"], "2020-01-31");
        assert_eq!(c["retention_basis"], "Test statute s.1");
        assert!(c["release"].as_str().unwrap().contains("GB"), "{c}");
        let r = send(
            &w.app,
            patch_json(
                &uri,
                &w.alice,
                json!({"title": "Half done", "retention_until": "2020-13-01"}),
            ),
        )
        .await;
        expect(&w, "a bad date", &r, StatusCode::UNPROCESSABLE_ENTITY);
        let r = send(&w.app, get(&uri, &w.alice)).await;
        let c = expect(&w, "unchanged", &r, StatusCode::OK);
        assert_eq!(
            c["case"]["title"], "Room Nightjar II",
            "{}: partly applied",
            w.name
        );
        let r = send(&w.app, patch_json(&uri, &w.alice, json!({}))).await;
        expect(
            &w,
            "nothing to update",
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        let r = send(&w.app, patch_json(&uri, &w.alice, json!({"titel": "x"}))).await;
        expect(&w, "an unknown field", &r, StatusCode::BAD_REQUEST);
        // Released to GB now: B reads it, but only A writes it (and to
        // another agency a write target looks absent, released or not).
        let r = send(&w.app, get(&uri, &w.bob)).await;
        expect(&w, "B reads the released case", &r, StatusCode::OK);
        let r = send(&w.app, patch_json(&uri, &w.bob, json!({"title": "mine"}))).await;
        expect(&w, "another agency renames", &r, StatusCode::NOT_FOUND);
        // A liaison officer reads cases but writes none.
        let r = send(&w.app, patch_json(&uri, &w.lo, json!({"title": "mine"}))).await;
        expect(&w, "a liaison officer renames", &r, StatusCode::FORBIDDEN);
        assert_eq!(
            w.store
                .show_case(&w.store.principal("alice").await.unwrap(), w.case)
                .await
                .unwrap()
                .case
                .title,
            "Room Nightjar II"
        );

        // Members.
        let members = format!("/api/cases/{}/members", w.case);
        let r = send(
            &w.app,
            post_json(&members, &w.alice, json!({"user": "sup"})),
        )
        .await;
        let m = expect(&w, "owner adds a member", &r, StatusCode::OK);
        assert_eq!(m, json!({"case_id": w.case, "user": "sup"}));
        let r = send(&w.app, get(&uri, &w.alice)).await;
        let d = expect(&w, "the case", &r, StatusCode::OK);
        assert!(d["members"].as_array().unwrap().contains(&json!("sup")));
        let r = send(
            &w.app,
            post_json(&members, &w.alice, json!({"user": "bob"})),
        )
        .await;
        expect(&w, "a user of B", &r, StatusCode::UNPROCESSABLE_ENTITY);
        let r = send(&w.app, post_json(&members, &w.bob, json!({"user": "bob"}))).await;
        expect(&w, "B adds itself", &r, StatusCode::NOT_FOUND);

        // Persons and events.
        let puri = format!("/api/persons/{}", w.person);
        let r = send(
            &w.app,
            patch_json(
                &puri,
                &w.alice,
                json!({"label": "g0d_one", "country": "gb", "role": "other"}),
            ),
        )
        .await;
        let p = expect(&w, "owner updates a person", &r, StatusCode::OK);
        assert_eq!(p["label"], "g0d_one");
        assert_eq!(p["country"], "GB");
        assert_eq!(p["role"], "other");
        let r = send(&w.app, patch_json(&puri, &w.alice, json!({"role": "boss"}))).await;
        expect(&w, "a bad role", &r, StatusCode::UNPROCESSABLE_ENTITY);
        let r = send(&w.app, patch_json(&puri, &w.bob, json!({"label": "x"}))).await;
        expect(&w, "B updates A's person", &r, StatusCode::NOT_FOUND);
        let euri = format!("/api/events/{}", w.event);
        let r = send(
            &w.app,
            patch_json(&euri, &w.alice, json!({"details": "remanded in custody"})),
        )
        .await;
        let e = expect(&w, "owner updates an event", &r, StatusCode::OK);
        assert_eq!(e["details"], "remanded in custody");
        let r = send(&w.app, patch_json(&euri, &w.bob, json!({"details": "x"}))).await;
        expect(&w, "B updates A's event", &r, StatusCode::NOT_FOUND);
        let r = send(
            &w.app,
            patch_json("/api/events/999999", &w.alice, json!({"details": "x"})),
        )
        .await;
        expect(&w, "no such event", &r, StatusCode::NOT_FOUND);

        // Unreleased again: B gets "not found" for every write.
        let r = send(
            &w.app,
            patch_json(&uri, &w.alice, json!({"release": "agency"})),
        )
        .await;
        expect(&w, "withdrawn", &r, StatusCode::OK);
        for (what, req) in [
            ("case", patch_json(&uri, &w.bob, json!({"title": "x"}))),
            ("person", patch_json(&puri, &w.bob, json!({"label": "x"}))),
            ("event", patch_json(&euri, &w.bob, json!({"details": "x"}))),
            (
                "members",
                post_json(&members, &w.bob, json!({"user": "bob"})),
            ),
            (
                "retention",
                patch_json(&uri, &w.bob, json!({"retention_basis": "mine"})),
            ),
        ] {
            let r = send(&w.app, req).await;
            expect(&w, what, &r, StatusCode::NOT_FOUND);
        }
        for action in [
            "case.update",
            "case.retention",
            "case.member.add",
            "person.update",
            "event.update",
        ] {
            let entries = audited(&w, action).await;
            assert!(
                entries.iter().any(|e| e.outcome == "allowed"),
                "{}: {action} audited",
                w.name
            );
            assert!(
                entries.iter().any(|e| e.outcome != "allowed"),
                "{}: {action} refusal audited",
                w.name
            );
        }
    }
}

#[tokio::test]
async fn tokens_are_shown_once_listed_without_secrets_and_revocable() {
    for w in worlds().await {
        let r = send(
            &w.app,
            post_json(
                "/api/tokens",
                &w.alice,
                json!({"name": "laptop", "expires_days": 30}),
            ),
        )
        .await;
        let t = expect(&w, "create", &r, StatusCode::CREATED);
        let secret = t["secret"].as_str().unwrap().to_string();
        let id = t["token"]["id"].as_i64().unwrap();
        assert_eq!(t["token"]["user"], "alice");
        assert!(t["token"]["expires_at"].is_string());
        let r = send(&w.app, get("/api/me", &secret)).await;
        assert_eq!(
            expect(&w, "the new token works", &r, StatusCode::OK)["user_name"],
            "alice"
        );
        let r = send(
            &w.app,
            post_json(
                "/api/tokens",
                &w.alice,
                json!({"name": "x", "expires_days": 0}),
            ),
        )
        .await;
        expect(&w, "zero days", &r, StatusCode::UNPROCESSABLE_ENTITY);

        let r = send(&w.app, get("/api/tokens", &w.alice)).await;
        let list = expect(&w, "list", &r, StatusCode::OK);
        assert!(!r.text().contains(&secret), "{}: secret listed", w.name);
        let items = list["items"].as_array().unwrap();
        assert!(
            items
                .iter()
                .all(|t| t["user"] == "alice" && t.get("secret").is_none())
        );
        assert!(items.iter().any(|t| t["id"] == id));
        // An administrator sees the agency's tokens; another agency's
        // investigator only their own.
        let r = send(&w.app, get("/api/tokens?limit=500", &w.admin)).await;
        let all = expect(&w, "admin's list", &r, StatusCode::OK);
        assert!(
            all["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["id"] == id)
        );
        let r = send(&w.app, get("/api/tokens", &w.bob)).await;
        let bobs = expect(&w, "bob's list", &r, StatusCode::OK);
        assert!(
            bobs["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["user"] == "bob")
        );

        // Someone else's token looks absent; its holder or the admin revokes.
        let uri = format!("/api/tokens/{id}");
        let r = send(&w.app, delete(&uri, &w.bob)).await;
        expect(&w, "bob revokes alice's", &r, StatusCode::NOT_FOUND);
        let r = send(&w.app, delete(&uri, &w.sup)).await;
        expect(&w, "a colleague revokes alice's", &r, StatusCode::NOT_FOUND);
        let r = send(&w.app, get("/api/me", &secret)).await;
        expect(&w, "still valid", &r, StatusCode::OK);
        let r = send(&w.app, delete(&uri, &w.admin)).await;
        let t = expect(&w, "admin revokes", &r, StatusCode::OK);
        assert!(t["revoked_at"].is_string());
        let r = send(&w.app, get("/api/me", &secret)).await;
        expect(&w, "revoked", &r, StatusCode::UNAUTHORIZED);
        let r = send(&w.app, delete("/api/tokens/999999", &w.alice)).await;
        expect(&w, "no such token", &r, StatusCode::NOT_FOUND);
        assert!(!audited(&w, "auth.token.create").await.is_empty());
        let revokes = audited(&w, "auth.token.revoke").await;
        assert!(revokes.iter().any(|e| e.outcome == "allowed"));
        assert!(revokes.iter().any(|e| e.outcome != "allowed"));
    }
}

#[tokio::test]
async fn keys_are_generated_exported_and_partners_imported_by_the_host() {
    for w in worlds().await {
        let r = send(&w.app, post_json("/api/keys", &w.alice, json!({}))).await;
        expect(&w, "an investigator generates", &r, StatusCode::FORBIDDEN);
        let r = send(&w.app, get("/api/keys/public", &w.admin)).await;
        expect(&w, "no keys yet", &r, StatusCode::NOT_FOUND);
        let r = send(&w.app, post_json("/api/keys", &w.admin, json!({}))).await;
        let k = expect(&w, "admin generates", &r, StatusCode::CREATED);
        let fp = k["fingerprint"].as_str().unwrap().to_string();
        assert_eq!(k["active"], true);
        assert_eq!(k["public_bundle"]["fingerprint"], fp.as_str());
        assert!(
            !r.text().contains("AGE-SECRET-KEY"),
            "{}: secret in answer",
            w.name
        );
        let r = send(&w.app, post_json("/api/keys", &w.b_admin, json!({}))).await;
        expect(
            &w,
            "B's admin generates on A's instance",
            &r,
            StatusCode::FORBIDDEN,
        );

        // The exported bundle is what a partner's `vigil keys import` reads.
        let r = send(&w.app, get("/api/keys/public", &w.admin)).await;
        let bundle = expect(&w, "export", &r, StatusCode::OK);
        let parsed = vigil_share::PublicBundle::from_json(&r.text()).unwrap();
        assert_eq!(parsed.fingerprint().as_str(), fp);
        assert_eq!(bundle["agency"], "Agency A");
        let r = send(&w.app, get("/api/keys/public", &w.alice)).await;
        expect(&w, "an investigator exports", &r, StatusCode::FORBIDDEN);

        // A partner's bundle.
        let c = vigil_share::AgencyKeys::generate(
            "Agency C",
            vigil_share::CountryCode::parse("FR").unwrap(),
        )
        .unwrap();
        let c_json: Value = serde_json::from_str(&c.public_bundle().to_json()).unwrap();
        let r = send(
            &w.app,
            post_json("/api/keys/partners", &w.alice, c_json.clone()),
        )
        .await;
        expect(&w, "an investigator imports", &r, StatusCode::FORBIDDEN);
        let mut forged = c_json.clone();
        forged["agency"] = json!("Agency Mallory");
        let r = send(&w.app, post_json("/api/keys/partners", &w.admin, forged)).await;
        expect(
            &w,
            "an altered bundle",
            &r,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        let r = send(
            &w.app,
            post_json("/api/keys/partners", &w.admin, c_json.clone()),
        )
        .await;
        let pk = expect(&w, "admin imports", &r, StatusCode::OK);
        assert_eq!(pk["agency"], "Agency C");
        assert_eq!(pk["country"], "FR");
        assert_eq!(pk["fingerprint"], c.public_bundle().fingerprint().as_str());
        let r = send(&w.app, post_json("/api/keys/partners", &w.admin, c_json)).await;
        expect(&w, "again: no change", &r, StatusCode::OK);
        let r = send(&w.app, get("/api/keys", &w.admin)).await;
        let keys = expect(&w, "list", &r, StatusCode::OK);
        assert_eq!(keys["partners"].as_array().unwrap().len(), 1);
        assert_eq!(keys["local"].as_array().unwrap().len(), 1);
        let r = send(&w.app, get("/api/agencies", &w.alice)).await;
        let agencies = expect(&w, "agencies", &r, StatusCode::OK);
        assert!(
            agencies["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["name"] == "Agency C")
        );
        let gens = audited(&w, "keys.generate").await;
        assert!(
            gens.iter()
                .any(|e| e.outcome == "allowed" && e.origin.starts_with("api"))
        );
        assert!(gens.iter().any(|e| e.outcome != "allowed"));
        assert!(!audited(&w, "keys.import").await.is_empty());
    }
}

#[tokio::test]
async fn checkpoints_and_retention_review_need_read_audit() {
    for w in worlds().await {
        let r = send(
            &w.app,
            post_json("/api/audit/checkpoint", &w.sup, json!({})),
        )
        .await;
        expect(&w, "no signing key yet", &r, StatusCode::CONFLICT);
        let r = send(&w.app, post_json("/api/keys", &w.admin, json!({}))).await;
        let fp = expect(&w, "keys", &r, StatusCode::CREATED)["fingerprint"].clone();
        let r = send(
            &w.app,
            post_json("/api/audit/checkpoint", &w.alice, json!({})),
        )
        .await;
        expect(&w, "an investigator signs", &r, StatusCode::FORBIDDEN);
        let r = send(
            &w.app,
            post_json("/api/audit/checkpoint", &w.sup, json!({})),
        )
        .await;
        let cp = expect(&w, "a supervisor signs", &r, StatusCode::CREATED);
        assert_eq!(cp["key_fingerprint"], fp);
        assert!(
            cp["signature"]
                .as_str()
                .unwrap()
                .contains("trusted comment")
        );
        assert!(
            cp["message"]
                .as_str()
                .unwrap()
                .contains(cp["hash"].as_str().unwrap())
        );
        let r = send(&w.app, get("/api/audit/verify", &w.sup)).await;
        let v = expect(&w, "verify", &r, StatusCode::OK);
        assert_eq!(v["ok"], true, "{}: {v}", w.name);
        assert!(v["checkpoints"].as_i64().unwrap() >= 1);

        // Retention: one case past its date, one not yet.
        let r = send(
            &w.app,
            patch_json(
                &format!("/api/cases/{}", w.case),
                &w.alice,
                json!({"retention_until": "2030-06-30", "retention_basis": "Test statute s.1"}),
            ),
        )
        .await;
        expect(&w, "retention set", &r, StatusCode::OK);
        let r = send(
            &w.app,
            get("/api/retention/review?as_of=2030-07-02", &w.sup),
        )
        .await;
        let due = expect(&w, "review", &r, StatusCode::OK);
        let items = due["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{}: {due}", w.name);
        assert_eq!(items[0]["case_id"], w.case);
        assert_eq!(items[0]["days_overdue"], 2);
        assert_eq!(items[0]["retention_basis"], "Test statute s.1");
        let r = send(
            &w.app,
            get("/api/retention/review?as_of=2030-06-29", &w.sup),
        )
        .await;
        assert_eq!(
            expect(&w, "not yet", &r, StatusCode::OK)["page"]["total"],
            0
        );
        let r = send(&w.app, get("/api/retention/review?as_of=soon", &w.sup)).await;
        expect(&w, "a bad date", &r, StatusCode::UNPROCESSABLE_ENTITY);
        let r = send(&w.app, get("/api/retention/review", &w.alice)).await;
        expect(&w, "an investigator reviews", &r, StatusCode::FORBIDDEN);
        let r = send(&w.app, get("/api/retention/review", &w.admin)).await;
        expect(&w, "an administrator reviews", &r, StatusCode::OK);
        let reviews = audited(&w, "retention.review").await;
        assert!(reviews.iter().any(|e| e.outcome == "allowed"));
        assert!(reviews.iter().any(|e| e.outcome != "allowed"));
        assert!(
            audited(&w, "audit.checkpoint")
                .await
                .iter()
                .any(|e| e.outcome == "allowed")
        );
    }
}
