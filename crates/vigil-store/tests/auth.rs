//! Sessions, API tokens, lock-out and the dashboard's event counts, on
//! SQLite and (with `VIGIL_TEST_DATABASE_URL`) PostgreSQL.

use crate::common;

use common::backends;
use sqlx::Row;
use vigil_domain::{NewEvent, NewPerson, Release};
use vigil_store::{AuditFilter, Origin, Store, StoreError};

const PW: &str = "correct horse battery";

async fn setup(store: &Store) -> vigil_domain::Principal {
    let admin = store
        .init("Agency A", "CA", Some("desk@example.org"), "admin", PW)
        .await
        .unwrap();
    store
        .add_user(&admin, "alice", None, "investigator", Some(PW))
        .await
        .unwrap();
    admin
}

async fn actions(store: &Store, admin: &vigil_domain::Principal) -> Vec<(String, String, String)> {
    store
        .audit_log(admin, &AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.outcome, e.origin))
        .collect()
}

#[tokio::test]
async fn lockout_after_repeated_failures_with_backoff() {
    for b in backends().await {
        let admin = setup(&b.store).await;
        let web = b.store.with_origin(Origin {
            interface: "web",
            address: Some("192.0.2.10".into()),
        });
        for _ in 0..vigil_store::LOCKOUT_THRESHOLD {
            let e = web.login("alice", "not the password").await.unwrap_err();
            assert!(matches!(e, StoreError::Denied(_)), "{}", b.name);
            assert!(!e.to_string().contains("not the password"));
        }
        // Locked: the right password is refused too, with the same message.
        let e = web.login("alice", PW).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("permission denied: {}", vigil_store::LOGIN_REFUSED)
        );
        let row = sqlx::query("SELECT failed_logins, locked_until FROM users WHERE name = 'alice'")
            .fetch_one(&b.store.raw_pool_for_tests())
            .await
            .unwrap();
        assert_eq!(
            row.get::<i64, _>("failed_logins"),
            vigil_store::LOCKOUT_THRESHOLD
        );
        let until: Option<String> = row.get("locked_until");
        assert!(until.is_some(), "{}", b.name);
        let log = actions(&b.store, &admin).await;
        assert!(
            log.iter().any(|(a, o, origin)| a == "auth.lockout"
                && o.starts_with("denied")
                && origin == "web:192.0.2.10"),
            "{}: {log:?}",
            b.name
        );

        // Once the lock expires, one more failure locks for twice as long.
        sqlx::query(
            "UPDATE users SET locked_until = '2000-01-01T00:00:00.000000Z' WHERE name = 'alice'",
        )
        .execute(&b.store.raw_pool_for_tests())
        .await
        .unwrap();
        let before = time::OffsetDateTime::now_utc();
        web.login("alice", "still wrong").await.unwrap_err();
        let until: String = sqlx::query("SELECT locked_until FROM users WHERE name = 'alice'")
            .fetch_one(&b.store.raw_pool_for_tests())
            .await
            .unwrap()
            .get("locked_until");
        let until =
            time::OffsetDateTime::parse(&until, &time::format_description::well_known::Rfc3339)
                .unwrap();
        let secs = (until - before).whole_seconds();
        assert!(
            (2 * vigil_store::LOCKOUT_BASE_SECONDS - 2..=2 * vigil_store::LOCKOUT_BASE_SECONDS + 2)
                .contains(&secs),
            "{}: back-off doubled, got {secs}s",
            b.name
        );

        // After the lock, success resets the count.
        sqlx::query("UPDATE users SET locked_until = NULL WHERE name = 'alice'")
            .execute(&b.store.raw_pool_for_tests())
            .await
            .unwrap();
        let p = web.login("alice", PW).await.unwrap();
        assert_eq!(p.user_name, "alice");
        let n: i64 = sqlx::query("SELECT failed_logins FROM users WHERE name = 'alice'")
            .fetch_one(&b.store.raw_pool_for_tests())
            .await
            .unwrap()
            .get("failed_logins");
        assert_eq!(n, 0);
        // Unknown users are refused the same way, and nothing is locked.
        let e = web.login("nobody", PW).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("permission denied: {}", vigil_store::LOGIN_REFUSED)
        );
    }
}

#[tokio::test]
async fn sessions_expire_and_revoke_and_store_only_hashes() {
    for b in backends().await {
        let admin = setup(&b.store).await;
        let alice = b.store.principal("alice").await.unwrap();
        let s = b.store.create_session(&alice, 600).await.unwrap();
        assert_eq!(s.token.len(), 64);
        let got = b.store.session(&s.token).await.unwrap().expect("valid");
        assert_eq!(got.principal.user_name, "alice");
        assert!(
            b.store
                .session("0".repeat(64).as_str())
                .await
                .unwrap()
                .is_none()
        );
        let stored: String = sqlx::query("SELECT token_hash FROM web_sessions")
            .fetch_one(&b.store.raw_pool_for_tests())
            .await
            .unwrap()
            .get("token_hash");
        assert_ne!(stored, s.token);
        assert_eq!(stored, vigil_store::secret_hash(&s.token));

        b.store.revoke_session(&s.token).await.unwrap();
        assert!(
            b.store.session(&s.token).await.unwrap().is_none(),
            "{}",
            b.name
        );

        let expired = b.store.create_session(&alice, -1).await.unwrap();
        assert!(b.store.session(&expired.token).await.unwrap().is_none());

        // A disabled user's session stops working at once.
        let live = b.store.create_session(&alice, 600).await.unwrap();
        b.store
            .update_user(&admin, "alice", None, Some(true), None)
            .await
            .unwrap();
        assert!(
            b.store.session(&live.token).await.unwrap().is_none(),
            "{}",
            b.name
        );
        let log = actions(&b.store, &admin).await;
        assert!(log.iter().any(|(a, _, _)| a == "auth.session.open"));
        assert!(log.iter().any(|(a, _, _)| a == "auth.session.close"));
    }
}

#[tokio::test]
async fn api_tokens_are_shown_once_listed_revoked_and_audited() {
    for b in backends().await {
        let admin = setup(&b.store).await;
        let alice = b.store.principal("alice").await.unwrap();
        let (t, secret) = b
            .store
            .create_api_token(&alice, "laptop", Some(30))
            .await
            .unwrap();
        assert!(secret.starts_with(vigil_store::TOKEN_PREFIX));
        assert!(t.expires_at.is_some());
        let api = b.store.with_origin(Origin {
            interface: "api",
            address: Some("198.51.100.4".into()),
        });
        assert_eq!(
            api.token_principal(&secret).await.unwrap().user_name,
            "alice"
        );
        api.token_principal(&secret).await.unwrap();
        let log = actions(&b.store, &admin).await;
        let uses: Vec<_> = log
            .iter()
            .filter(|(a, o, _)| a == "auth.token.use" && o == "allowed")
            .collect();
        assert_eq!(
            uses.len(),
            1,
            "{}: first use audited, not every request",
            b.name
        );
        assert_eq!(uses[0].2, "api:198.51.100.4");

        // Others cannot revoke (or see) alice's token; alice and admins can.
        b.store
            .add_user(&admin, "carol", None, "investigator", Some(PW))
            .await
            .unwrap();
        let carol = b.store.principal("carol").await.unwrap();
        assert!(b.store.list_api_tokens(&carol).await.unwrap().is_empty());
        let e = b.store.revoke_api_token(&carol, t.id).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound { .. }), "{}: {e}", b.name);
        assert_eq!(b.store.list_api_tokens(&admin).await.unwrap().len(), 1);
        let r = b.store.revoke_api_token(&alice, t.id).await.unwrap();
        assert!(r.revoked_at.is_some());
        assert!(matches!(
            api.token_principal(&secret).await,
            Err(StoreError::Denied(_))
        ));
        assert!(matches!(
            api.token_principal("vgl_nope").await,
            Err(StoreError::Denied(_))
        ));
        let log = actions(&b.store, &admin).await;
        assert!(
            log.iter()
                .filter(|(a, o, _)| a == "auth.token.use" && o.starts_with("denied"))
                .count()
                >= 2
        );

        // Validation, and nothing but hashes in the table.
        assert!(matches!(
            b.store.create_api_token(&alice, "x", Some(0)).await,
            Err(StoreError::Invalid(_))
        ));
        let rows = sqlx::query("SELECT token_hash FROM api_tokens")
            .fetch_all(&b.store.raw_pool_for_tests())
            .await
            .unwrap();
        for r in rows {
            let h: String = r.get("token_hash");
            assert!(!secret.contains(&h) && h != secret);
        }
    }
}

#[tokio::test]
async fn event_counts_respect_release_markings() {
    for b in backends().await {
        let admin = setup(&b.store).await;
        b.store
            .add_agency(&admin, "Agency B", "GB", None)
            .await
            .unwrap();
        b.store
            .add_user(&admin, "bob", Some("Agency B"), "investigator", Some(PW))
            .await
            .unwrap();
        let alice = b.store.principal("alice").await.unwrap();
        let bob = b.store.principal("bob").await.unwrap();
        let ca = b
            .store
            .create_case(&alice, "A1", Some("Op Heron"), &Release::Agency, "t")
            .await
            .unwrap();
        let cb = b
            .store
            .create_case(&bob, "B1", Some("Op Heron"), &Release::Operation, "t")
            .await
            .unwrap();
        let pa = b
            .store
            .add_person(
                &alice,
                ca.id,
                &NewPerson::parse("suspect", "a").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let pb = b
            .store
            .add_person(&bob, cb.id, &NewPerson::parse("suspect", "b").unwrap(), "t")
            .await
            .unwrap();
        b.store
            .add_event(
                &alice,
                pa.id,
                &NewEvent::parse("arrest", "2026-01-05", "CA").unwrap(),
                "t",
            )
            .await
            .unwrap();
        b.store
            .add_event(
                &bob,
                pb.id,
                &NewEvent::parse("arrest", "2026-02-05", "GB").unwrap(),
                "t",
            )
            .await
            .unwrap();
        b.store
            .add_event(
                &bob,
                pb.id,
                &NewEvent::parse("charge", "2026-02-06", "GB").unwrap(),
                "t",
            )
            .await
            .unwrap();
        let total = |v: &[vigil_store::EventCount]| v.iter().map(|c| c.count).sum::<i64>();
        // Alice sees her own and B's operation-released case.
        let a = b
            .store
            .event_counts(&alice, Some("Op Heron"))
            .await
            .unwrap();
        assert_eq!(total(&a), 3, "{}", b.name);
        // Bob does not see A's agency-only case.
        let bb = b.store.event_counts(&bob, Some("Op Heron")).await.unwrap();
        assert_eq!(total(&bb), 2, "{}", b.name);
        assert!(bb.iter().all(|c| c.country == "GB"));
        assert_eq!(
            total(
                &b.store
                    .event_counts(&alice, Some("Other op"))
                    .await
                    .unwrap()
            ),
            0
        );
        let log = actions(&b.store, &admin).await;
        assert!(log.iter().any(|(a, _, _)| a == "dashboard.read"));
    }
}
