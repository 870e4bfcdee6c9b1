//! The audit log (supervisors) and its verification.

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

#[derive(OpenApi)]
#[openapi(
    paths(list, verify),
    components(schemas(AuditPage, AuditEntryOut, VerificationOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/audit", list).get("/api/audit/verify", verify)
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
