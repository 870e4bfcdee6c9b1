//! The outcomes dashboard: what happened to the persons of an operation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_domain::{EventKind, PersonRole};
use vigil_store::{Principal, Store};

use super::{ApiQuery, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// Operation name; all readable cases when absent.
    pub operation: Option<String>,
}

/// The headline outcome counts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Outcomes {
    /// Persons recorded as suspects.
    pub suspects_identified: i64,
    pub arrested: i64,
    pub charged: i64,
    pub convicted: i64,
    /// Charged and neither convicted nor acquitted yet.
    pub pending: i64,
    pub deceased: i64,
    pub children_safeguarded: i64,
}

/// One count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// Events of one kind in one country.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct CountryKindCount {
    pub country: String,
    pub kind: String,
    pub count: i64,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DashboardOut {
    pub operation: Option<String>,
    pub outcomes: Outcomes,
    /// Cases (id, title) the caller can read in scope.
    pub cases: Vec<Count>,
    pub persons_by_role: Vec<Count>,
    pub events_by_kind: Vec<Count>,
    pub events_by_country: Vec<CountryKindCount>,
    /// Events per month (`YYYY-MM`).
    pub events_by_month: Vec<Count>,
}

/// Builds the dashboard through the store's authorised reads.
pub async fn build(
    store: &Store,
    p: &Principal,
    operation: Option<&str>,
) -> Result<DashboardOut, Problem> {
    let operation = operation.map(str::trim).filter(|o| !o.is_empty());
    let cases: Vec<_> = store
        .list_cases(p)
        .await?
        .into_iter()
        .filter(|c| operation.is_none() || c.operation.as_deref() == operation)
        .collect();
    let case_ids: std::collections::HashSet<i64> = cases.iter().map(|c| c.id).collect();
    let persons: Vec<_> = store
        .list_persons(p, None)
        .await?
        .into_iter()
        .filter(|x| case_ids.contains(&x.case_id))
        .collect();
    let mut by_role: BTreeMap<String, i64> = BTreeMap::new();
    for x in &persons {
        *by_role.entry(x.role.to_string()).or_default() += 1;
    }
    let counts = store.event_counts(p, operation).await?;
    let mut by_kind: BTreeMap<EventKind, i64> = BTreeMap::new();
    let mut by_country: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut by_month: BTreeMap<String, i64> = BTreeMap::new();
    for c in &counts {
        *by_kind.entry(c.kind).or_default() += c.count;
        *by_country
            .entry((c.country.clone(), c.kind.to_string()))
            .or_default() += c.count;
        *by_month
            .entry(c.date.chars().take(7).collect())
            .or_default() += c.count;
    }
    let k = |kind: EventKind| by_kind.get(&kind).copied().unwrap_or(0);
    let outcomes = Outcomes {
        suspects_identified: persons
            .iter()
            .filter(|x| x.role == PersonRole::Suspect)
            .count() as i64,
        arrested: k(EventKind::Arrest),
        charged: k(EventKind::Charge),
        convicted: k(EventKind::Conviction),
        pending: (k(EventKind::Charge) - k(EventKind::Conviction) - k(EventKind::Acquittal)).max(0),
        deceased: k(EventKind::Death),
        children_safeguarded: k(EventKind::ChildSafeguarded),
    };
    Ok(DashboardOut {
        operation: operation.map(str::to_string),
        outcomes,
        cases: cases
            .iter()
            .map(|c| Count {
                key: c.title.clone(),
                count: c.id,
            })
            .collect(),
        persons_by_role: by_role
            .into_iter()
            .map(|(key, count)| Count { key, count })
            .collect(),
        events_by_kind: by_kind
            .into_iter()
            .map(|(key, count)| Count {
                key: key.to_string(),
                count,
            })
            .collect(),
        events_by_country: by_country
            .into_iter()
            .map(|((country, kind), count)| CountryKindCount {
                country,
                kind,
                count,
            })
            .collect(),
        events_by_month: by_month
            .into_iter()
            .map(|(key, count)| Count { key, count })
            .collect(),
    })
}

#[derive(OpenApi)]
#[openapi(
    paths(dashboard),
    components(schemas(DashboardOut, Outcomes, Count, CountryKindCount))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/dashboard", dashboard)
}

/// Outcome counts of an operation (suspects identified, arrested, charged,
/// convicted, pending, deceased, children safeguarded) and breakdowns.
#[utoipa::path(get, path = "/api/dashboard", tag = "dashboard", params(DashboardParams),
    responses((status = 200, body = DashboardOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn dashboard(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<DashboardParams>,
) -> ApiResult<DashboardOut> {
    Ok(axum::Json(
        build(&c.store, &c.principal, q.operation.as_deref()).await?,
    ))
}
