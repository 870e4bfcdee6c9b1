//! Retention review: the caller's agency's cases whose retention date has
//! come (what `vigil retention review` prints), for the supervisors and
//! administrators who must decide to extend or delete.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

/// A case due for retention review.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RetentionDueOut {
    pub case_id: i64,
    pub title: String,
    /// YYYY-MM-DD.
    pub retention_until: String,
    pub retention_basis: Option<String>,
    /// Days between the retention date and the review date (0 = due today).
    pub days_overdue: i64,
}

impl From<vigil_store::RetentionDue> for RetentionDueOut {
    fn from(d: vigil_store::RetentionDue) -> Self {
        let vigil_store::RetentionDue {
            case_id,
            title,
            retention_until,
            retention_basis,
            days_overdue,
        } = d;
        RetentionDueOut {
            case_id,
            title,
            retention_until,
            retention_basis,
            days_overdue,
        }
    }
}

page_of!(RetentionPage, RetentionDueOut);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewParams {
    /// Review as of this date (YYYY-MM-DD; default today).
    #[param(format = Date)]
    pub as_of: Option<String>,
}

#[derive(OpenApi)]
#[openapi(paths(review), components(schemas(RetentionDueOut, RetentionPage)))]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/retention/review", review)
}

/// Cases of the caller's agency whose retention date is on or before
/// `as_of`, oldest first (read-audit capability; the review is audited).
#[utoipa::path(get, path = "/api/retention/review", tag = "audit",
    params(ReviewParams, PageParams),
    responses((status = 200, body = RetentionPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn review(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ReviewParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<RetentionPage> {
    let due = c
        .store
        .retention_review(&c.principal, q.as_of.as_deref())
        .await?;
    Ok(axum::Json(RetentionPage::of(due, &pp)?))
}
