//! Persons, their identifiers and their events: list, show, add, update.

use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_domain::{NewEvent, NewIdentifier, NewPerson, Release};
use vigil_store::PersonUpdate;

use super::types::{EventOut, IdentifierOut, NoteOut, PersonOut};
use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

page_of!(PersonPage, PersonOut);

/// A person with everything recorded about them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct PersonDetailOut {
    pub person: PersonOut,
    pub case_title: String,
    pub agency: String,
    pub identifiers: Vec<IdentifierOut>,
    pub events: Vec<EventOut>,
    pub notes: Vec<NoteOut>,
}

impl From<vigil_store::PersonDetail> for PersonDetailOut {
    fn from(d: vigil_store::PersonDetail) -> Self {
        let vigil_store::PersonDetail {
            person,
            case_title,
            agency,
            identifiers,
            events,
            notes,
        } = d;
        PersonDetailOut {
            person: person.into(),
            case_title,
            agency,
            identifiers: identifiers.into_iter().map(Into::into).collect(),
            events: events.into_iter().map(Into::into).collect(),
            notes: notes.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonFilter {
    /// Only persons of this case.
    pub case_id: Option<i64>,
}

/// A new person in a case.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPersonIn {
    #[schema(value_type = RoleDoc)]
    pub role: String,
    /// A handle-like label or pseudonym (victims: pseudonyms only).
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub label: String,
}

/// A new identifier of a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdentifierIn {
    #[schema(value_type = IdentifierKindDoc)]
    pub kind: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub value: String,
    /// Network or platform (handles, messenger ids).
    pub network: Option<String>,
}

/// A new event in a person's history.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEventIn {
    #[schema(value_type = EventKindDoc)]
    pub kind: String,
    /// YYYY-MM-DD.
    #[schema(format = Date)]
    pub date: String,
    /// ISO 3166-1 alpha-2 jurisdiction.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: String,
    pub details: Option<String>,
}

/// Changes to a person; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonUpdateIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub label: Option<String>,
    #[schema(value_type = Option<RoleDoc>)]
    pub role: Option<String>,
    /// Declared country, ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    /// The person's own release marking: `agency`, `operation`, or
    /// `to:agency=1,agency=2,country=GB`.
    #[schema(pattern = r"^(agency|operation|to:.*)$")]
    pub release: Option<String>,
}

/// New details of an event (what was charged, the sentence…).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventUpdateIn {
    #[schema(min_length = 1, pattern = r"\S")]
    pub details: String,
}

/// A person's role (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum RoleDoc {
    Suspect,
    Victim,
    Other,
}

/// An event kind (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum EventKindDoc {
    TipReceived,
    Arrest,
    Charge,
    Plea,
    Conviction,
    Acquittal,
    Sentence,
    Death,
    ChildSafeguarded,
}

/// An identifier kind (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
pub enum IdentifierKindDoc {
    Handle,
    Email,
    Ip,
    Phone,
    PaymentAccount,
    DeviceSerial,
    ChatRoom,
    Url,
    MessengerId,
    MediaHash,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_persons,
        show_person,
        add_person,
        update_person,
        add_identifier,
        add_event,
        update_event
    ),
    components(schemas(
        RoleDoc,
        EventKindDoc,
        IdentifierKindDoc,
        PersonPage,
        PersonDetailOut,
        NewPersonIn,
        NewIdentifierIn,
        NewEventIn,
        PersonUpdateIn,
        EventUpdateIn,
        PersonOut,
        IdentifierOut,
        EventOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/persons", list_persons)
        .get("/api/persons/{id}", show_person)
        .post("/api/cases/{id}/persons", add_person)
        .patch("/api/persons/{id}", update_person)
        .post("/api/persons/{id}/identifiers", add_identifier)
        .post("/api/persons/{id}/events", add_event)
        .patch("/api/events/{id}", update_event)
}

/// Persons the caller may read, optionally of one case.
#[utoipa::path(get, path = "/api/persons", tag = "persons", params(PersonFilter, PageParams),
    responses((status = 200, body = PersonPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_persons(
    c: ApiCaller,
    ApiQuery(f): ApiQuery<PersonFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<PersonPage> {
    let all = c.store.list_persons(&c.principal, f.case_id).await?;
    Ok(axum::Json(PersonPage::of(all, &pp)?))
}

/// A person with identifiers, events (timeline) and notes.
#[utoipa::path(get, path = "/api/persons/{id}", tag = "persons",
    params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = PersonDetailOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_person(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<PersonDetailOut> {
    Ok(axum::Json(
        c.store.show_person(&c.principal, id).await?.into(),
    ))
}

/// Adds a person to a case.
#[utoipa::path(post, path = "/api/cases/{id}/persons", tag = "persons", request_body = NewPersonIn,
    params(("id" = i64, Path, description = "case id")),
    responses((status = 201, body = PersonOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_person(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewPersonIn>,
) -> Result<(StatusCode, axum::Json<PersonOut>), Problem> {
    let np = NewPerson::parse(&body.role, &body.label)?;
    let p = c.store.add_person(&c.principal, id, &np, "api").await?;
    Ok((StatusCode::CREATED, axum::Json(p.into())))
}

/// Records an identifier of a person (normalised by kind).
#[utoipa::path(post, path = "/api/persons/{id}/identifiers", tag = "persons",
    request_body = NewIdentifierIn,
    params(("id" = i64, Path, description = "person id")),
    responses((status = 201, body = IdentifierOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_identifier(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewIdentifierIn>,
) -> Result<(StatusCode, axum::Json<IdentifierOut>), Problem> {
    let mut ni = NewIdentifier::parse(&body.kind, &body.value)?;
    if let Some(n) = body.network {
        ni.network = Some(vigil_domain::records::parse_name("network", &n)?);
    }
    let i = c.store.add_identifier(&c.principal, id, &ni, "api").await?;
    Ok((StatusCode::CREATED, axum::Json(i.into())))
}

/// Records an event (arrest, charge, conviction, child safeguarded…).
#[utoipa::path(post, path = "/api/persons/{id}/events", tag = "persons", request_body = NewEventIn,
    params(("id" = i64, Path, description = "person id")),
    responses((status = 201, body = EventOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_event(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewEventIn>,
) -> Result<(StatusCode, axum::Json<EventOut>), Problem> {
    let mut ne = NewEvent::parse(&body.kind, &body.date, &body.country)?;
    if let Some(d) = body.details {
        ne.details = Some(vigil_domain::records::parse_text("details", &d)?);
    }
    let e = c.store.add_event(&c.principal, id, &ne, "api").await?;
    Ok((StatusCode::CREATED, axum::Json(e.into())))
}

/// Changes a person's label, role, declared country or release marking
/// (the owning agency, write-case).
#[utoipa::path(patch, path = "/api/persons/{id}", tag = "persons", request_body = PersonUpdateIn,
    params(("id" = i64, Path, description = "person id")),
    responses((status = 200, body = PersonOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_person(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PersonUpdateIn>,
) -> ApiResult<PersonOut> {
    let update = PersonUpdate {
        label: body.label,
        role: body.role,
        country: body.country,
        release: body.release.as_deref().map(Release::parse).transpose()?,
    };
    let p = c.store.update_person(&c.principal, id, &update).await?;
    Ok(axum::Json(p.into()))
}

/// Replaces an event's details (the owning agency, write-case).
#[utoipa::path(patch, path = "/api/events/{id}", tag = "persons", request_body = EventUpdateIn,
    params(("id" = i64, Path, description = "event id")),
    responses((status = 200, body = EventOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_event(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<EventUpdateIn>,
) -> ApiResult<EventOut> {
    let e = c
        .store
        .update_event_details(&c.principal, id, &body.details)
        .await?;
    Ok(axum::Json(e.into()))
}
