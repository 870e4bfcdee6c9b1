//! De-confliction alerts: another case or agency holds (or looked up) a
//! value one of our records holds. Where the other record is not visible to
//! the caller the alert is a blind hit: the other agency and whom to call.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::links::HolderOut;
use super::{ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

/// A de-confliction alert as its recipient sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertOut {
    pub id: i64,
    pub created_at: String,
    pub read: bool,
    /// Identifier kind of the shared value.
    pub kind: String,
    /// The shared value (normalised), which the recipient holds too.
    pub value: String,
    /// The recipient's case the alert is about (none for a lookup).
    pub case_id: Option<i64>,
    /// The recipient's own record: `identifier:ID`, `person:ID` or `lookup`.
    pub own: String,
    /// `holds` (the other side holds a matching record) or `looked-up`.
    pub other_action: String,
    pub other: HolderOut,
}

impl From<vigil_store::Alert> for AlertOut {
    fn from(a: vigil_store::Alert) -> Self {
        let vigil_store::Alert {
            id,
            created_at,
            read,
            kind,
            value,
            case_id,
            own,
            other_action,
            other,
        } = a;
        AlertOut {
            id,
            created_at,
            read,
            kind,
            value,
            case_id,
            own,
            other_action,
            other: other.into(),
        }
    }
}

page_of!(AlertPage, AlertOut);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// Only alerts not yet marked read.
    pub unread: Option<bool>,
}

#[derive(OpenApi)]
#[openapi(
    paths(list_alerts, read_alert),
    components(schemas(AlertPage, AlertOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/alerts", list_alerts)
        .post("/api/alerts/{id}/read", read_alert)
}

/// The alerts addressed to the caller's agency (case-bound ones only for
/// cases the caller may read), oldest first.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(AlertFilter, PageParams),
    responses((status = 200, body = AlertPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_alerts(
    c: ApiCaller,
    ApiQuery(f): ApiQuery<AlertFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<AlertPage> {
    let all = c
        .store
        .alerts(&c.principal, f.unread.unwrap_or(false))
        .await?;
    Ok(axum::Json(AlertPage::of(all, &pp)?))
}

/// Marks one of the agency's alerts read.
#[utoipa::path(post, path = "/api/alerts/{id}/read", tag = "alerts",
    params(("id" = i64, Path, description = "alert id")),
    responses((status = 204, description = "marked read"),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn read_alert(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> Result<StatusCode, Problem> {
    c.store.read_alert(&c.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
