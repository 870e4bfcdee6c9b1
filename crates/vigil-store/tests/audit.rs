//! Signed audit checkpoints, retention review, the PostgreSQL guard on the
//! audit tables, and secrets that must never be stored or echoed — on
//! SQLite and, when `VIGIL_TEST_DATABASE_URL` is set, PostgreSQL.

use crate::common;

use common::{Backend, backends};
use sqlx::Row;
use vigil_domain::{Principal, Release};
use vigil_share::{AgencyKeys, CountryCode};
use vigil_store::{Store, StoreError, backup_columns};

const PW: &str = "correct horse battery";

/// An instance with keys, a supervisor and a few audited actions.
async fn instance(store: &Store) -> (Principal, Principal) {
    let admin = store
        .init("Agency A", "CA", None, "admin", PW)
        .await
        .unwrap();
    let keys = AgencyKeys::generate("Agency A", CountryCode::parse("CA").unwrap()).unwrap();
    let secret = keys.to_secret_json().unwrap();
    let bundle = keys.public_bundle();
    store
        .store_agency_keys(
            &admin,
            bundle.fingerprint().as_str(),
            &bundle.to_json(),
            vigil_share::secrecy::ExposeSecret::expose_secret(&secret),
        )
        .await
        .unwrap();
    store
        .add_user(&admin, "sam", None, "supervisor", None)
        .await
        .unwrap();
    let sam = store.principal("sam").await.unwrap();
    for i in 0..4 {
        store
            .create_case(&sam, &format!("case {i}"), None, &Release::Agency, "t")
            .await
            .unwrap();
    }
    (admin, sam)
}

async fn drop_audit_triggers(store: &Store, pool: &sqlx::AnyPool) {
    let sql = match store.backend() {
        vigil_store::Backend::Sqlite => {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
        }
        vigil_store::Backend::Postgres => "ALTER TABLE audit_log DISABLE TRIGGER USER",
    };
    sqlx::raw_sql(sql).execute(pool).await.unwrap();
}

#[tokio::test]
async fn an_untouched_log_with_checkpoints_verifies() {
    for Backend { name, store, .. } in backends().await {
        let (_, sam) = instance(&store).await;
        let cp = store.audit_checkpoint(&sam).await.unwrap();
        // The checkpoint covers the entry recording its own request.
        let head = store.verify_audit().await.unwrap();
        assert_eq!(head.entries, cp.seq, "{name}");
        store
            .create_case(&sam, "later", None, &Release::Agency, "t")
            .await
            .unwrap();
        let second = store.audit_checkpoint(&sam).await.unwrap();
        assert!(second.seq > cp.seq);
        let v = store.verify_audit().await.unwrap();
        assert!(v.ok, "{name}: {v:?}");
        assert_eq!(v.checkpoints, 2, "{name}");
        // The signed text names what it attests.
        assert!(cp.message.contains(&format!("seq: {}", cp.seq)));
        assert!(cp.message.contains(&cp.hash));
        assert!(
            cp.public_key
                .as_deref()
                .is_some_and(|k| k.starts_with("RW"))
        );
    }
}

#[tokio::test]
async fn deleting_the_newest_entries_is_named_through_the_checkpoint() {
    for Backend { name, store, .. } in backends().await {
        let (_, sam) = instance(&store).await;
        let cp = store.audit_checkpoint(&sam).await.unwrap();
        let pool = store.raw_pool_for_tests();
        drop_audit_triggers(&store, &pool).await;
        // Cut the tail: the remaining chain is internally consistent.
        sqlx::query("DELETE FROM audit_log WHERE seq >= $1")
            .bind(cp.seq - 1)
            .execute(&pool)
            .await
            .unwrap();
        let v = store.verify_audit().await.unwrap();
        assert!(!v.ok, "{name}: truncation went unnoticed");
        assert_eq!(v.first_bad_seq, Some(cp.seq - 1), "{name}: {v:?}");
        assert_eq!(v.bad_checkpoint, Some(cp.id), "{name}");
        assert!(
            v.problem.as_deref().unwrap_or("").contains("truncated"),
            "{name}: {v:?}"
        );
    }
}

/// Recomputes every entry's hash from `from` on, as someone with database
/// access who knows the (public) chaining rule would after a rewrite.
async fn rehash_from(pool: &sqlx::AnyPool, from: i64) {
    use sha2::{Digest, Sha256};
    let rows = sqlx::query(
        "SELECT seq, at, user_id, user_name, agency_id, action, target, case_id, origin, \
         outcome, detail, prev_hash FROM audit_log ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut prev: Option<String> = None;
    for r in rows {
        let seq: i64 = r.try_get("seq").unwrap();
        if seq < from {
            continue;
        }
        let prev_hash: String = prev
            .clone()
            .unwrap_or_else(|| r.try_get("prev_hash").unwrap());
        let canonical = serde_json::json!([
            seq,
            r.try_get::<String, _>("at").unwrap(),
            r.try_get::<Option<i64>, _>("user_id").unwrap(),
            r.try_get::<String, _>("user_name").unwrap(),
            r.try_get::<Option<i64>, _>("agency_id").unwrap(),
            r.try_get::<String, _>("action").unwrap(),
            r.try_get::<String, _>("target").unwrap(),
            r.try_get::<Option<i64>, _>("case_id").unwrap(),
            r.try_get::<String, _>("origin").unwrap(),
            r.try_get::<String, _>("outcome").unwrap(),
            r.try_get::<String, _>("detail").unwrap(),
            prev_hash.clone(),
        ]);
        let hash = hex::encode(Sha256::digest(canonical.to_string().as_bytes()));
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(prev_hash)
            .bind(hash.clone())
            .bind(seq)
            .execute(pool)
            .await
            .unwrap();
        prev = Some(hash);
    }
}

#[tokio::test]
async fn a_chain_rewritten_and_rehashed_under_a_checkpoint_is_named() {
    for Backend { name, store, .. } in backends().await {
        let (_, sam) = instance(&store).await;
        let cp = store.audit_checkpoint(&sam).await.unwrap();
        store
            .create_case(&sam, "after the checkpoint", None, &Release::Agency, "t")
            .await
            .unwrap();
        let pool = store.raw_pool_for_tests();
        drop_audit_triggers(&store, &pool).await;
        // Rewrite an entry before the checkpoint and re-hash the whole chain
        // from there: every link is consistent again.
        sqlx::query("UPDATE audit_log SET user_name = 'mallory' WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        rehash_from(&pool, 3).await;
        let v = store.verify_audit().await.unwrap();
        assert!(!v.ok, "{name}: a re-hashed rewrite went unnoticed");
        assert_eq!(v.first_bad_seq, Some(cp.seq), "{name}: {v:?}");
        assert_eq!(v.bad_checkpoint, Some(cp.id), "{name}");
        assert!(
            v.problem.as_deref().unwrap_or("").contains("rewritten"),
            "{name}: {v:?}"
        );
    }
}

#[tokio::test]
async fn a_forged_checkpoint_fails_its_signature() {
    for Backend { name, store, .. } in backends().await {
        let (_, sam) = instance(&store).await;
        let real = store.audit_checkpoint(&sam).await.unwrap();
        assert!(store.verify_audit().await.unwrap().ok);
        // A forger without the agency key signs with their own, claiming the
        // agency's fingerprint and a real (seq, hash).
        let forger = AgencyKeys::generate("Agency A", CountryCode::parse("CA").unwrap()).unwrap();
        let message = vigil_store::checkpoint_message(
            real.seq - 1,
            "0".repeat(64).as_str(),
            &real.at,
            &real.key_fingerprint,
        );
        let signature = forger
            .sign_detached(message.as_bytes(), "vigil audit checkpoint")
            .unwrap();
        let pool = store.raw_pool_for_tests();
        sqlx::query(
            "INSERT INTO audit_checkpoints (seq, hash, at, agency_id, key_fingerprint, message, \
             signature, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(real.seq - 1)
        .bind("0".repeat(64))
        .bind(real.at.clone())
        .bind(real.agency_id)
        .bind(real.key_fingerprint.clone())
        .bind(message)
        .bind(signature)
        .execute(&pool)
        .await
        .unwrap();
        let v = store.verify_audit().await.unwrap();
        assert!(!v.ok, "{name}: forged checkpoint accepted");
        assert_eq!(v.checkpoints, 1, "{name}: the real one still verifies");
        let problem = v.problem.unwrap();
        assert!(problem.contains("invalid signature"), "{name}: {problem}");
        // The real checkpoint row's table is append-only for the application.
        assert!(
            sqlx::query("DELETE FROM audit_checkpoints")
                .execute(&pool)
                .await
                .is_err(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn checkpoints_need_read_audit_and_keys() {
    for Backend { name, store, .. } in backends().await {
        let admin = store
            .init("Agency A", "CA", None, "admin", PW)
            .await
            .unwrap();
        store
            .add_user(&admin, "ivan", None, "investigator", None)
            .await
            .unwrap();
        let ivan = store.principal("ivan").await.unwrap();
        assert!(matches!(
            store.audit_checkpoint(&ivan).await,
            Err(StoreError::Denied(_))
        ));
        // No keys yet: a clear conflict, nothing signed.
        let e = store.audit_checkpoint(&admin).await.unwrap_err();
        assert!(e.to_string().contains("vigil keys generate"), "{name}: {e}");
    }
}

#[tokio::test]
async fn retention_rules_need_a_basis_and_review_lists_what_is_due() {
    for Backend { name, store, .. } in backends().await {
        let (admin, sam) = instance(&store).await;
        store
            .add_user(&admin, "ivan", None, "investigator", None)
            .await
            .unwrap();
        let ivan = store.principal("ivan").await.unwrap();
        let due = store
            .create_case(&ivan, "Old case", None, &Release::Agency, "t")
            .await
            .unwrap();
        let later = store
            .create_case(&ivan, "Newer case", None, &Release::Agency, "t")
            .await
            .unwrap();
        // A date without a legal basis is refused.
        let e = store
            .set_case_retention(&ivan, due.id, Some("2030-01-01"), None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("retention-basis"), "{name}: {e}");
        let c = store
            .set_case_retention(
                &ivan,
                due.id,
                Some("2030-01-01"),
                Some("Criminal Records Act s.6"),
            )
            .await
            .unwrap();
        assert_eq!(c.retention_until.as_deref(), Some("2030-01-01"));
        assert_eq!(
            c.retention_basis.as_deref(),
            Some("Criminal Records Act s.6")
        );
        store
            .set_case_retention(&ivan, later.id, Some("2035-06-30"), Some("ongoing trial"))
            .await
            .unwrap();
        assert!(
            store
                .set_case_retention(&ivan, due.id, Some("2030-02-30"), None)
                .await
                .is_err(),
            "{name}: impossible date"
        );
        // Investigators do not review; supervisors and administrators do.
        assert!(matches!(
            store.retention_review(&ivan, Some("2031-01-01")).await,
            Err(StoreError::Denied(_))
        ));
        for who in [&sam, &admin] {
            let list = store
                .retention_review(who, Some("2031-01-01"))
                .await
                .unwrap();
            assert_eq!(list.len(), 1, "{name}: {list:?}");
            assert_eq!(list[0].case_id, due.id);
            assert_eq!(list[0].days_overdue, 365);
        }
        assert!(
            store
                .retention_review(&sam, Some("2029-12-31"))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .retention_review(&sam, Some("2035-06-30"))
                .await
                .unwrap()
                .len(),
            2
        );
        // Another agency's reviewer sees none of these cases.
        store
            .add_agency(&admin, "Agency B", "GB", None)
            .await
            .unwrap();
        store
            .add_user(&admin, "bea", Some("Agency B"), "supervisor", None)
            .await
            .unwrap();
        let bea = store.principal("bea").await.unwrap();
        assert!(
            store
                .retention_review(&bea, Some("2040-01-01"))
                .await
                .unwrap()
                .is_empty()
        );
        // Both the rule and the review are audited.
        let log = store
            .audit_log(&admin, &vigil_store::AuditFilter::default())
            .await
            .unwrap();
        assert!(log.iter().any(|e| e.action == "case.retention"));
        assert!(log.iter().any(|e| e.action == "retention.review"));
    }
}

#[tokio::test]
async fn postgres_refuses_update_delete_and_truncate_of_the_audit_tables() {
    for Backend { name, store, .. } in backends().await {
        if store.backend() != vigil_store::Backend::Postgres {
            continue;
        }
        let (_, sam) = instance(&store).await;
        store.audit_checkpoint(&sam).await.unwrap();
        let pool = store.raw_pool_for_tests();
        for sql in [
            "UPDATE audit_log SET user_name = 'mallory'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "UPDATE audit_checkpoints SET seq = 1",
            "DELETE FROM audit_checkpoints",
            "TRUNCATE audit_checkpoints",
        ] {
            let r = sqlx::raw_sql(sql).execute(&pool).await;
            let e = r.expect_err(sql);
            assert!(e.to_string().contains("append-only"), "{name}: {sql}: {e}");
        }
        assert!(store.verify_audit().await.unwrap().ok);
    }
}

/// Every value of every column of every table, as text.
async fn all_text(store: &Store) -> Vec<(String, String, String)> {
    let pool = store.raw_pool_for_tests();
    let mut out = Vec::new();
    for (table, columns) in backup_columns(store).await.unwrap() {
        for c in columns {
            let sql = format!("SELECT CAST(\"{c}\" AS TEXT) AS v FROM \"{table}\"");
            for r in sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&pool)
                .await
                .unwrap()
            {
                if let Some(v) = r.try_get::<Option<String>, _>("v").unwrap() {
                    out.push((table.clone(), c.clone(), v));
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn passwords_and_tokens_are_never_stored_logged_or_echoed() {
    for Backend { name, store, .. } in backends().await {
        let (admin, _) = instance(&store).await;
        let password = "Zebra-Quartz-Lantern-9931";
        store
            .add_user(&admin, "ivan", None, "investigator", Some(password))
            .await
            .unwrap();
        let ivan = store.principal("ivan").await.unwrap();
        let (_, token) = store.create_api_token(&ivan, "ci", None).await.unwrap();
        let session = store.create_session(&ivan, 600).await.unwrap();
        let wrong = "Wrong-Guess-Password-4417";
        let mut errors = Vec::new();
        for _ in 0..3 {
            errors.push(store.login("ivan", wrong).await.unwrap_err().to_string());
        }
        errors.push(
            store
                .login("nobody", password)
                .await
                .unwrap_err()
                .to_string(),
        );
        errors.push(
            store
                .token_principal(&format!("{token}x"))
                .await
                .unwrap_err()
                .to_string(),
        );
        store.login("ivan", password).await.ok();
        let secrets = [password, wrong, token.as_str(), session.token.as_str(), PW];
        for (table, column, value) in all_text(&store).await {
            for s in secrets {
                assert!(
                    !value.contains(s),
                    "{name}: a secret is stored in {table}.{column}"
                );
            }
        }
        for e in &errors {
            for s in secrets {
                assert!(
                    !e.contains(s),
                    "{name}: an error message echoes a secret: {e}"
                );
            }
        }
        // The failures were audited (without the guesses).
        let log = store
            .audit_log(&admin, &vigil_store::AuditFilter::default())
            .await
            .unwrap();
        assert!(
            log.iter()
                .filter(|e| e.outcome.starts_with("denied"))
                .count()
                >= 3,
            "{name}"
        );
    }
}
