//! Agencies (the directory every user may read) and the agency's users
//! (administrators).

use utoipa::OpenApi;

use super::types::{AgencyOut, UserOut};
use super::{ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

page_of!(AgencyPage, AgencyOut);
page_of!(UserPage, UserOut);

#[derive(OpenApi)]
#[openapi(
    paths(list_agencies, list_users),
    components(schemas(AgencyPage, UserPage))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/agencies", list_agencies)
        .get("/api/users", list_users)
}

/// Agencies known to this instance (names, countries, contacts).
#[utoipa::path(get, path = "/api/agencies", tag = "agencies", params(PageParams),
    responses((status = 200, body = AgencyPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_agencies(c: ApiCaller, ApiQuery(pp): ApiQuery<PageParams>) -> ApiResult<AgencyPage> {
    let all = c.store.list_agencies(&c.principal).await?;
    Ok(axum::Json(AgencyPage::of(all, &pp)?))
}

/// Users of the caller's agency (agency administrators only).
#[utoipa::path(get, path = "/api/users", tag = "agencies", params(PageParams),
    responses((status = 200, body = UserPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_users(c: ApiCaller, ApiQuery(pp): ApiQuery<PageParams>) -> ApiResult<UserPage> {
    let all = c.store.list_users(&c.principal).await?;
    Ok(axum::Json(UserPage::of(all, &pp)?))
}
