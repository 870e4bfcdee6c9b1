//! Cases: list, create, show, update, members, and notes on a case.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};
use vigil_domain::Release;
use vigil_store::CaseUpdate;

use super::types::{CaseOut, DeviceOut, NoteOut, PersonOut};
use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

page_of!(CasePage, CaseOut);

/// A case with what it holds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct CaseDetailOut {
    pub case: CaseOut,
    pub members: Vec<String>,
    pub persons: Vec<PersonOut>,
    pub devices: Vec<DeviceOut>,
    pub notes: Vec<NoteOut>,
}

impl From<vigil_store::CaseDetail> for CaseDetailOut {
    fn from(d: vigil_store::CaseDetail) -> Self {
        let vigil_store::CaseDetail {
            case,
            members,
            persons,
            devices,
            notes,
        } = d;
        CaseDetailOut {
            case: case.into(),
            members,
            persons: persons.into_iter().map(Into::into).collect(),
            devices: devices.into_iter().map(Into::into).collect(),
            notes: notes.into_iter().map(Into::into).collect(),
        }
    }
}

/// A new case, owned by the caller's agency.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCaseIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// Operation name; created if it does not exist.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub operation: Option<String>,
    /// `agency` (default), `operation`, or `to:agency=1,agency=2,country=GB`.
    #[schema(pattern = r"^(agency|operation|to:.*)$")]
    pub release: Option<String>,
}

/// A note's text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteIn {
    #[schema(min_length = 1, pattern = r"\S")]
    pub body: String,
    /// Attach to this person of the case instead of the case itself.
    pub person_id: Option<i64>,
}

/// Changes to a case; absent fields stay as they are, and at least one must
/// be given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseUpdateIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: Option<String>,
    /// `agency`, `operation`, or `to:agency=1,agency=2,country=GB`.
    #[schema(pattern = r"^(agency|operation|to:.*)$")]
    pub release: Option<String>,
    /// Keep the case's data until this date (YYYY-MM-DD); needs a legal
    /// basis, given now or already recorded.
    #[schema(format = Date)]
    pub retention_until: Option<String>,
    /// The legal basis for keeping the data until `retention_until`.
    pub retention_basis: Option<String>,
}

/// A user of the owning agency to add to the case's members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    #[schema(min_length = 1)]
    pub user: String,
}

/// A case membership.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct MemberOut {
    pub case_id: i64,
    pub user: String,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_cases,
        create_case,
        show_case,
        update_case,
        add_member,
        add_case_note
    ),
    components(schemas(
        CasePage,
        CaseDetailOut,
        NewCaseIn,
        CaseUpdateIn,
        MemberIn,
        MemberOut,
        NoteIn,
        NoteOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/cases", list_cases)
        .post("/api/cases", create_case)
        .get("/api/cases/{id}", show_case)
        .patch("/api/cases/{id}", update_case)
        .post("/api/cases/{id}/members", add_member)
        .post("/api/cases/{id}/notes", add_case_note)
}

/// Cases the caller may read.
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(PageParams),
    responses((status = 200, body = CasePage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_cases(c: ApiCaller, ApiQuery(pp): ApiQuery<PageParams>) -> ApiResult<CasePage> {
    let all = c.store.list_cases(&c.principal).await?;
    Ok(axum::Json(CasePage::of(all, &pp)?))
}

/// Creates a case; the caller becomes a member.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = NewCaseIn,
    responses((status = 201, body = CaseOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_case(
    c: ApiCaller,
    ApiJson(body): ApiJson<NewCaseIn>,
) -> Result<(StatusCode, axum::Json<CaseOut>), Problem> {
    let release = match body.release.as_deref() {
        Some(r) => Release::parse(r)?,
        None => Release::Agency,
    };
    let case = c
        .store
        .create_case(
            &c.principal,
            &body.title,
            body.operation.as_deref(),
            &release,
            "api",
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(case.into())))
}

/// A case with its members, persons, devices and notes.
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases",
    params(("id" = i64, Path, description = "case id")),
    responses((status = 200, body = CaseDetailOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_case(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<CaseDetailOut> {
    let d = c.store.show_case(&c.principal, id).await?;
    Ok(axum::Json(d.into()))
}

/// Adds a note to a case (or to one of its persons).
#[utoipa::path(post, path = "/api/cases/{id}/notes", tag = "cases", request_body = NoteIn,
    params(("id" = i64, Path, description = "case id")),
    responses((status = 201, body = NoteOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_case_note(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NoteIn>,
) -> Result<(StatusCode, axum::Json<NoteOut>), Problem> {
    let note = c
        .store
        .add_note(&c.principal, id, body.person_id, &body.body, "api")
        .await?;
    Ok((StatusCode::CREATED, axum::Json(note.into())))
}

/// Changes a case's title, release marking or retention rule (the owning
/// agency's members with write-case).
#[utoipa::path(patch, path = "/api/cases/{id}", tag = "cases", request_body = CaseUpdateIn,
    params(("id" = i64, Path, description = "case id")),
    responses((status = 200, body = CaseOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_case(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CaseUpdateIn>,
) -> ApiResult<CaseOut> {
    let update = CaseUpdate {
        title: body.title,
        release: body.release.as_deref().map(Release::parse).transpose()?,
        retention_until: body.retention_until,
        retention_basis: body.retention_basis,
    };
    let case = c.store.apply_case_update(&c.principal, id, &update).await?;
    Ok(axum::Json(case.into()))
}

/// Adds a user of the owning agency to the case's members (adding a member
/// again changes nothing).
#[utoipa::path(post, path = "/api/cases/{id}/members", tag = "cases", request_body = MemberIn,
    params(("id" = i64, Path, description = "case id")),
    responses((status = 200, body = MemberOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_member(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MemberIn>,
) -> ApiResult<MemberOut> {
    c.store
        .add_case_member(&c.principal, id, &body.user)
        .await?;
    Ok(axum::Json(MemberOut {
        case_id: id,
        user: body.user.trim().to_string(),
    }))
}
