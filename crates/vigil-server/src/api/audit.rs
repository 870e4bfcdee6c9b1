//! The audit log (supervisors), its verification, and signed checkpoints.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::AuditFilter;

use super::{ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntryOut {
    pub seq: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub user_name: String,
    pub agency_id: Option<i64>,
    pub action: String,
    pub target: String,
    pub case_id: Option<i64>,
    /// Interface and peer address (`web:192.0.2.7`, `api:…`, `cli`).
    pub origin: String,
    pub outcome: String,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<vigil_store::AuditEntry> for AuditEntryOut {
    fn from(e: vigil_store::AuditEntry) -> Self {
        let vigil_store::AuditEntry {
            seq,
            at,
            user_id,
            user_name,
            agency_id,
            action,
            target,
            case_id,
            origin,
            outcome,
            detail,
            prev_hash,
            hash,
        } = e;
        AuditEntryOut {
            seq,
            at,
            user_id,
            user_name,
            agency_id,
            action,
            target,
            case_id,
            origin,
            outcome,
            detail,
            prev_hash,
            hash,
        }
    }
}

page_of!(AuditPage, AuditEntryOut);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerificationOut {
    pub entries: i64,
    pub ok: bool,
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
    pub head_hash: Option<String>,
    /// Signed checkpoints verified (signature and chain passage).
    pub checkpoints: i64,
    /// The first checkpoint that failed, if one did.
    pub bad_checkpoint: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub case_id: Option<i64>,
    pub user: Option<String>,
    /// RFC 3339 or YYYY-MM-DD lower bound.
    pub since: Option<String>,
}

/// A signed checkpoint of the audit chain's head.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CheckpointOut {
    pub id: i64,
    /// The audit entry covered (the head when it was taken).
    pub seq: i64,
    /// That entry's chain hash.
    pub hash: String,
    pub at: String,
    pub agency_id: i64,
    pub key_fingerprint: String,
    /// The signed text; check it with `minisign -V -P <public_key> -m FILE`
    /// after saving it as FILE and `signature` as FILE.minisig.
    pub message: String,
    /// The detached minisign signature of `message`.
    pub signature: String,
    pub created_by: Option<i64>,
    /// The minisign public key (base64) of the signing key.
    pub public_key: Option<String>,
}

impl From<vigil_store::AuditCheckpoint> for CheckpointOut {
    fn from(c: vigil_store::AuditCheckpoint) -> Self {
        let vigil_store::AuditCheckpoint {
            id,
            seq,
            hash,
            at,
            agency_id,
            key_fingerprint,
            message,
            signature,
            created_by,
            public_key,
        } = c;
        CheckpointOut {
            id,
            seq,
            hash,
            at,
            agency_id,
            key_fingerprint,
            message,
            signature,
            created_by,
            public_key,
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(list, verify, checkpoint),
    components(schemas(AuditPage, AuditEntryOut, VerificationOut, CheckpointOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/audit", list)
        .get("/api/audit/verify", verify)
        .post("/api/audit/checkpoint", checkpoint)
}

/// Audit entries of the caller's agency, oldest first (read-audit
/// capability; the read is itself audited).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams, PageParams),
    responses((status = 200, body = AuditPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<AuditParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<AuditPage> {
    let filter = AuditFilter {
        case_id: q.case_id,
        user_name: q.user,
        since: q.since,
        limit: None,
    };
    let all = c.store.audit_log(&c.principal, &filter).await?;
    Ok(axum::Json(AuditPage::of(all, &pp)?))
}

/// Walks the hash chain and reports the first broken entry (read-audit
/// capability).
#[utoipa::path(get, path = "/api/audit/verify", tag = "audit",
    responses((status = 200, body = VerificationOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn verify(c: ApiCaller) -> ApiResult<VerificationOut> {
    // The authorised (and audited) read decides whether the caller may see
    // the log at all; verification reads the whole chain.
    c.store
        .audit_log(
            &c.principal,
            &AuditFilter {
                limit: Some(1),
                ..Default::default()
            },
        )
        .await?;
    let v = c.store.verify_audit().await?;
    Ok(axum::Json(VerificationOut {
        entries: v.entries,
        ok: v.ok,
        first_bad_seq: v.first_bad_seq,
        problem: v.problem,
        head_hash: v.head_hash,
        checkpoints: v.checkpoints,
        bad_checkpoint: v.bad_checkpoint,
    }))
}

/// Signs the audit chain's head now with the agency's key (read-audit
/// capability, the agency hosting this instance; `vigil audit checkpoint`).
/// The request is itself an audit entry, and the checkpoint covers it.
#[utoipa::path(post, path = "/api/audit/checkpoint", tag = "audit",
    responses((status = 201, body = CheckpointOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn checkpoint(
    c: ApiCaller,
) -> Result<(axum::http::StatusCode, axum::Json<CheckpointOut>), Problem> {
    let cp = c.store.audit_checkpoint(&c.principal).await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(cp.into())))
}
