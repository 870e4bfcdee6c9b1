//! Agencies (the directory every user may read) and the agency's users
//! (administrators): list, add, update.
//!
//! Passwords arrive in request bodies only (never in paths or query strings,
//! which end up in logs) and are never echoed: the answers are [`UserOut`],
//! which has no password field, and the store audits only that a password
//! was changed.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use super::types::{AgencyOut, UserOut};
use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

page_of!(AgencyPage, AgencyOut);
page_of!(UserPage, UserOut);

/// A partner agency (or a tenant on a shared deployment) to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgencyIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    /// Whom to call about this agency's records (shown in blind hits).
    pub contact: Option<String>,
}

/// The agency's contact line.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyUpdateIn {
    #[schema(min_length = 1, pattern = r"\S")]
    pub contact: String,
}

/// A new user. Without a password the user can sign in only once an
/// administrator sets one (API tokens are created by the user).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserIn {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Role names: investigator, forensic-examiner, analyst, supervisor,
    /// liaison-officer, agency-admin.
    #[schema(min_items = 1)]
    pub roles: Vec<String>,
    /// Agency name; default the caller's. Only the hosting agency's
    /// administrators create users of other agencies.
    pub agency: Option<String>,
    /// Never echoed or logged.
    #[schema(format = Password, write_only, min_length = 8)]
    pub password: Option<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdateIn {
    /// Replaces the user's roles.
    #[schema(min_items = 1)]
    pub roles: Option<Vec<String>>,
    /// `true` disables the user (sessions and tokens stop working), `false`
    /// enables them again.
    pub disabled: Option<bool>,
    /// A new password (also clears a lock-out). Never echoed or logged.
    #[schema(format = Password, write_only, min_length = 8)]
    pub password: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_agencies,
        add_agency,
        update_agency,
        list_users,
        add_user,
        update_user
    ),
    components(schemas(
        AgencyPage,
        UserPage,
        NewAgencyIn,
        AgencyUpdateIn,
        NewUserIn,
        UserUpdateIn
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/agencies", list_agencies)
        .post("/api/agencies", add_agency)
        .patch("/api/agencies/{id}", update_agency)
        .get("/api/users", list_users)
        .post("/api/users", add_user)
        .patch("/api/users/{name}", update_user)
}

/// `["investigator", "analyst"]` as the store's comma list; the store
/// validates each name.
fn role_list(roles: &[String]) -> String {
    roles.join(",")
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

/// Registers another agency (agency administrators).
#[utoipa::path(post, path = "/api/agencies", tag = "agencies", request_body = NewAgencyIn,
    responses((status = 201, body = AgencyOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_agency(
    c: ApiCaller,
    ApiJson(body): ApiJson<NewAgencyIn>,
) -> Result<(StatusCode, axum::Json<AgencyOut>), Problem> {
    let a = c
        .store
        .add_agency(
            &c.principal,
            &body.name,
            &body.country,
            body.contact.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(a.into())))
}

/// Changes an agency's contact line (administrators of that agency, or of
/// the hosting agency).
#[utoipa::path(patch, path = "/api/agencies/{id}", tag = "agencies", request_body = AgencyUpdateIn,
    params(("id" = i64, Path, description = "agency id")),
    responses((status = 200, body = AgencyOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_agency(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AgencyUpdateIn>,
) -> ApiResult<AgencyOut> {
    let a = c
        .store
        .update_agency_contact(&c.principal, id, &body.contact)
        .await?;
    Ok(axum::Json(a.into()))
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

/// Adds a user (agency administrators). The password is never echoed.
#[utoipa::path(post, path = "/api/users", tag = "agencies", request_body = NewUserIn,
    responses((status = 201, body = UserOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_user(
    c: ApiCaller,
    ApiJson(body): ApiJson<NewUserIn>,
) -> Result<(StatusCode, axum::Json<UserOut>), Problem> {
    let u = c
        .store
        .add_user(
            &c.principal,
            &body.name,
            body.agency.as_deref(),
            &role_list(&body.roles),
            body.password.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(u.into())))
}

/// Changes a user's roles, disables or enables them, or sets a new password
/// (agency administrators; users of other agencies look absent).
#[utoipa::path(patch, path = "/api/users/{name}", tag = "agencies", request_body = UserUpdateIn,
    params(("name" = String, Path, description = "user name (unique on this instance)")),
    responses((status = 200, body = UserOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_user(
    c: ApiCaller,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<UserUpdateIn>,
) -> ApiResult<UserOut> {
    let roles = body.roles.as_deref().map(role_list);
    let u = c
        .store
        .update_user(
            &c.principal,
            &name,
            roles.as_deref(),
            body.disabled,
            body.password.as_deref(),
        )
        .await?;
    Ok(axum::Json(u.into()))
}
