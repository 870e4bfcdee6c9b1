//! Identifier lookup, with blind hits for holders the caller may not see.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_domain::IdentifierKind;

use super::types::IdentifierOut;
use super::{ApiQuery, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// The value to look up (handle, e-mail, IP, …).
    #[param(min_length = 1, pattern = r"\S")]
    pub value: String,
    /// Restrict to one identifier kind; otherwise every plausible kind.
    #[param(value_type = Option<super::persons::IdentifierKindDoc>)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefOut {
    pub id: i64,
    pub label: String,
}

/// A visible holder of the identifier.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LookupHitOut {
    pub identifier: IdentifierOut,
    pub person_id: Option<i64>,
    pub person_label: Option<String>,
    pub person_role: Option<String>,
    pub case_id: i64,
    pub case_title: String,
    pub agency: String,
    pub agency_country: String,
}

/// A holder the caller may not see: only who holds it and whom to call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BlindHitOut {
    pub agency: String,
    pub country: String,
    pub contact: Option<String>,
}

/// A lookup's result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LookupOut {
    pub query: String,
    /// `kind:normalised` forms searched.
    pub forms: Vec<String>,
    pub hits: Vec<LookupHitOut>,
    pub blind_hits: Vec<BlindHitOut>,
}

impl From<vigil_store::LookupResult> for LookupOut {
    fn from(r: vigil_store::LookupResult) -> Self {
        let vigil_store::LookupResult {
            query,
            forms,
            hits,
            blind_hits,
        } = r;
        LookupOut {
            query,
            forms: forms
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", k.as_str()))
                .collect(),
            hits: hits
                .into_iter()
                .map(|h| LookupHitOut {
                    person_id: h.person.as_ref().map(|p| p.id),
                    person_label: h.person.as_ref().map(|p| p.label.clone()),
                    person_role: h.person.as_ref().map(|p| p.role.to_string()),
                    case_id: h.case.id,
                    case_title: h.case.title,
                    agency: h.agency.name,
                    agency_country: h.agency.country,
                    identifier: h.identifier.into(),
                })
                .collect(),
            blind_hits: blind_hits
                .into_iter()
                .map(|b| BlindHitOut {
                    agency: b.agency,
                    country: b.country,
                    contact: b.contact,
                })
                .collect(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(lookup),
    components(schemas(LookupOut, LookupHitOut, BlindHitOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/identifiers/lookup", lookup)
}

/// Is this identifier known anywhere? Visible holders in full; others as
/// blind hits (agency and contact only).
#[utoipa::path(get, path = "/api/identifiers/lookup", tag = "identifiers", params(LookupParams),
    responses((status = 200, body = LookupOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn lookup(c: ApiCaller, ApiQuery(q): ApiQuery<LookupParams>) -> ApiResult<LookupOut> {
    let kind = match q.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        Some(k) => Some(IdentifierKind::parse(k.trim()).ok_or_else(|| {
            vigil_domain::ValidationError::new("kind", k, "unknown identifier kind")
        })?),
        None => None,
    };
    let r = c
        .store
        .lookup_identifier(&c.principal, &q.value, kind)
        .await?;
    Ok(axum::Json(r.into()))
}
