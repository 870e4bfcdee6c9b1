//! `GET /api/me`: who the caller is.

use utoipa::OpenApi;

use super::types::PrincipalOut;
use super::{ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

#[derive(OpenApi)]
#[openapi(paths(me), components(schemas(PrincipalOut)))]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/me", me)
}

/// The authenticated caller: user, agency and roles.
#[utoipa::path(get, path = "/api/me", tag = "auth",
    responses((status = 200, body = PrincipalOut),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(c: ApiCaller) -> ApiResult<PrincipalOut> {
    Ok(axum::Json(c.principal.into()))
}
