//! Dissemination: suspects attributed to countries (with the signals, the
//! confidence, the conflicts and the geolocation databases used), the lead
//! and outcome packages and their states, and the keys registered.
//!
//! Attribution is computed by `vigil-share` exactly as `vigil attribute`
//! computes it (same inputs, same databases), so the web and the CLI agree.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::{PersonFacts, Principal, Store};

use super::{ApiQuery, ApiResult, ApiRouter, PageInfo, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

/// A geolocation database, shown with every attribution.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GeoDatabaseOut {
    pub name: String,
    /// `YYYY-MM-DD`.
    pub built: String,
    pub attribution: String,
}

/// One piece of country evidence.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignalOut {
    /// `agency_input`, `declared_location`, `ip_geolocation`,
    /// `phone_number`, `email_domain`, `url_host`.
    pub kind: String,
    pub countries: Vec<String>,
    /// `strong`, `medium` or `weak`.
    pub strength: String,
    pub evidence: String,
    pub reason: String,
}

/// One suspect's attribution.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttributedPersonOut {
    pub person_id: i64,
    pub label: String,
    pub case: String,
    /// The country to send the lead to; none when undecided.
    pub country: Option<String>,
    /// The strongest unambiguous evidence for `country`: `strong`,
    /// `medium` or `weak`.
    pub confidence: Option<String>,
    /// Other countries with evidence of their own: shown, not hidden.
    pub conflicts: Vec<String>,
    pub why: String,
    pub signals: Vec<SignalOut>,
}

/// Suspects per attributed country (`unattributed` when undecided).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct CountryCountOut {
    pub country: String,
    pub suspects: i64,
    /// Of them, with conflicting evidence.
    pub conflicts: i64,
}

/// The attribution of an operation's suspects.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AttributionOut {
    pub operation: String,
    pub databases: Vec<GeoDatabaseOut>,
    pub by_country: Vec<CountryCountOut>,
    /// One page of the suspects, by country then id.
    pub persons: Vec<AttributedPersonOut>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttributionParams {
    /// Operation name or id.
    #[param(min_length = 1)]
    pub operation: String,
}

fn label<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn attributed(geo: &vigil_share::GeoSet, f: &PersonFacts) -> AttributedPersonOut {
    let input = vigil_share::PersonInput {
        person_id: f.person.id,
        country: f.person.country.as_deref(),
        identifiers: f
            .identifiers
            .iter()
            .map(|i| vigil_share::IdentifierInput {
                kind: i.kind.as_str(),
                raw: &i.raw,
                normalized: &i.normalized,
                first_seen: i.first_seen.as_deref(),
            })
            .collect(),
    };
    let a = vigil_share::attribute_person(geo, &input);
    let confidence = a.top.and_then(|t| {
        a.ranking
            .iter()
            .find(|e| e.country == t)
            .and_then(|e| e.best())
            .map(|s| label(&s))
    });
    AttributedPersonOut {
        person_id: f.person.id,
        label: f.person.label.clone(),
        case: f.case_title.clone(),
        country: a.top.map(|c| c.as_str().to_string()),
        confidence,
        conflicts: a.conflicts.iter().map(|c| c.as_str().to_string()).collect(),
        why: a.why,
        signals: a
            .signals
            .iter()
            .map(|s| SignalOut {
                kind: label(&s.kind),
                countries: s.countries.iter().map(|c| c.as_str().to_string()).collect(),
                strength: label(&s.strength),
                evidence: s.evidence.clone(),
                reason: s.reason.clone(),
            })
            .collect(),
    }
}

/// The whole attribution of an operation (every readable suspect).
pub async fn attribution(
    store: &Store,
    p: &Principal,
    operation: &str,
) -> Result<
    (
        Vec<GeoDatabaseOut>,
        Vec<CountryCountOut>,
        Vec<AttributedPersonOut>,
    ),
    Problem,
> {
    let geo = vigil_share::GeoSet::embedded().map_err(|e| {
        eprintln!("vigil serve: {e}");
        Problem::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the geolocation table is unreadable; the details are in the server log",
        )
    })?;
    let facts = store.attribution_facts(p, operation).await?;
    let mut persons: Vec<AttributedPersonOut> = facts.iter().map(|f| attributed(&geo, f)).collect();
    persons.sort_by(|a, b| (&a.country, a.person_id).cmp(&(&b.country, b.person_id)));
    let mut by_country: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for x in &persons {
        let e = by_country
            .entry(
                x.country
                    .clone()
                    .unwrap_or_else(|| "unattributed".to_string()),
            )
            .or_default();
        e.0 += 1;
        e.1 += i64::from(!x.conflicts.is_empty());
    }
    let databases = geo
        .described()
        .into_iter()
        .map(|d| GeoDatabaseOut {
            name: d.name,
            built: d.built,
            attribution: d.attribution,
        })
        .collect();
    Ok((
        databases,
        by_country
            .into_iter()
            .map(|(country, (suspects, conflicts))| CountryCountOut {
                country,
                suspects,
                conflicts,
            })
            .collect(),
        persons,
    ))
}

/// A package built or received, and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageOut {
    pub id: i64,
    pub package_uid: String,
    /// `leads` or `outcomes`.
    pub kind: String,
    /// `sent` or `received`.
    pub direction: String,
    pub peer_agency_id: i64,
    pub peer_agency: String,
    pub peer_country: String,
    pub operation: Option<String>,
    pub in_reply_to: Option<String>,
    pub case_id: Option<i64>,
    /// `built`, `sent`, `acknowledged`, `outcomes-received` (sent
    /// packages) or `imported` (received ones).
    pub state: String,
    /// What went in (counts, never content).
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
    /// When the package was written out for the recipient.
    pub sent_at: Option<String>,
    /// When the recipient's signed acknowledgement was imported.
    pub acknowledged_at: Option<String>,
    /// When the recipient's outcomes were imported.
    pub outcomes_received_at: Option<String>,
}

impl From<vigil_store::PackageRecord> for PackageOut {
    fn from(k: vigil_store::PackageRecord) -> Self {
        let vigil_store::PackageRecord {
            id,
            package_uid,
            kind,
            direction,
            peer_agency_id,
            peer_agency,
            peer_country,
            operation,
            in_reply_to,
            case_id,
            state,
            summary,
            created_at,
            updated_at,
            sent_at,
            acknowledged_at,
            outcomes_received_at,
        } = k;
        PackageOut {
            id,
            package_uid,
            kind,
            direction,
            peer_agency_id,
            peer_agency,
            peer_country,
            operation,
            in_reply_to,
            case_id,
            state,
            summary,
            created_at,
            updated_at,
            sent_at,
            acknowledged_at,
            outcomes_received_at,
        }
    }
}

page_of!(PackagePage, PackageOut);

/// One of this agency's key pairs (public parts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LocalKeyOut {
    pub fingerprint: String,
    pub active: bool,
    pub created_at: String,
}

/// A partner agency's registered public keys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartnerKeyOut {
    pub agency_id: i64,
    pub agency: String,
    pub country: String,
    /// Compare it with the partner by phone.
    pub fingerprint: String,
    pub imported_at: String,
}

/// Own and partner keys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KeysOut {
    pub local: Vec<LocalKeyOut>,
    pub partners: Vec<PartnerKeyOut>,
}

impl From<vigil_store::KeyList> for KeysOut {
    fn from(k: vigil_store::KeyList) -> Self {
        KeysOut {
            local: k
                .local
                .into_iter()
                .map(|l| LocalKeyOut {
                    fingerprint: l.fingerprint,
                    active: l.active,
                    created_at: l.created_at,
                })
                .collect(),
            partners: k
                .partners
                .into_iter()
                .map(|x| PartnerKeyOut {
                    agency_id: x.agency_id,
                    agency: x.agency,
                    country: x.country,
                    fingerprint: x.fingerprint,
                    imported_at: x.imported_at,
                })
                .collect(),
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(get_attribution, list_packages, list_keys),
    components(schemas(
        AttributionOut,
        AttributedPersonOut,
        SignalOut,
        GeoDatabaseOut,
        CountryCountOut,
        PackagePage,
        PackageOut,
        KeysOut,
        LocalKeyOut,
        PartnerKeyOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/attribution", get_attribution)
        .get("/api/packages", list_packages)
        .get("/api/keys", list_keys)
}

/// Suspects of an operation attributed to countries, with reasons,
/// confidence and conflicts, and the geolocation databases used.
#[utoipa::path(get, path = "/api/attribution", tag = "dissemination",
    params(AttributionParams, PageParams),
    responses((status = 200, body = AttributionOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_attribution(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<AttributionParams>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<AttributionOut> {
    if q.operation.trim().is_empty() {
        return Err(Problem::bad_request("operation must not be empty"));
    }
    let (databases, by_country, persons) =
        attribution(&c.store, &c.principal, &q.operation).await?;
    let (persons, page) = pp.apply(persons)?;
    Ok(axum::Json(AttributionOut {
        operation: q.operation.trim().to_string(),
        databases,
        by_country,
        persons,
        page,
    }))
}

/// Lead and outcome packages built and received, newest first (liaison).
#[utoipa::path(get, path = "/api/packages", tag = "dissemination", params(PageParams),
    responses((status = 200, body = PackagePage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_packages(c: ApiCaller, ApiQuery(pp): ApiQuery<PageParams>) -> ApiResult<PackagePage> {
    let all = c.store.list_packages(&c.principal).await?;
    Ok(axum::Json(PackagePage::of(all, &pp)?))
}

/// This agency's keys and the registered partner keys, with fingerprints
/// (liaison officers and administrators).
#[utoipa::path(get, path = "/api/keys", tag = "dissemination",
    responses((status = 200, body = KeysOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_keys(c: ApiCaller) -> ApiResult<KeysOut> {
    Ok(axum::Json(c.store.list_keys(&c.principal).await?.into()))
}
