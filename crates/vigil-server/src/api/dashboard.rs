//! The outcomes dashboard: what happened to the persons of an operation,
//! per operation, country, agency and month — including outcomes partner
//! agencies reported back through outcome packages.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::{OutcomeCounts, OutcomeFilter, Principal, Store};

use super::{ApiQuery, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// Operation name (`(no operation)` for cases outside any); all
    /// readable cases when absent.
    pub operation: Option<String>,
    /// Only outcomes in this country (ISO 3166-1 alpha-2, or `unknown`).
    pub country: Option<String>,
    /// Only outcomes recorded by this agency (suspects: the agency owning
    /// the case).
    pub agency: Option<String>,
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

impl From<&OutcomeCounts> for Outcomes {
    fn from(c: &OutcomeCounts) -> Self {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Outcomes {
            suspects_identified: n(c.suspects_identified),
            arrested: n(c.arrested),
            charged: n(c.charged),
            convicted: n(c.convicted),
            pending: n(c.pending),
            deceased: n(c.deceased),
            children_safeguarded: n(c.children_safeguarded),
        }
    }
}

/// The outcomes of one operation, country, agency or month.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct OutcomeRow {
    pub key: String,
    pub outcomes: Outcomes,
}

/// One count.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Count {
    pub key: String,
    pub count: i64,
}

/// A case in scope.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct CaseRef {
    pub id: i64,
    pub title: String,
    pub agency: String,
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DashboardOut {
    pub operation: Option<String>,
    pub country: Option<String>,
    pub agency: Option<String>,
    /// Totals (each person once per category).
    pub outcomes: Outcomes,
    pub by_operation: Vec<OutcomeRow>,
    pub by_country: Vec<OutcomeRow>,
    pub by_agency: Vec<OutcomeRow>,
    /// `YYYY-MM`, ascending.
    pub by_month: Vec<OutcomeRow>,
    /// Filter choices: every operation, country and agency in scope.
    pub operations: Vec<String>,
    pub countries: Vec<String>,
    pub agencies: Vec<String>,
    /// Cases the caller can read in the operation.
    pub cases: Vec<CaseRef>,
    pub persons_by_role: Vec<Count>,
}

fn clean(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn rows(m: &std::collections::BTreeMap<String, OutcomeCounts>) -> Vec<OutcomeRow> {
    m.iter()
        .map(|(k, v)| OutcomeRow {
            key: k.clone(),
            outcomes: v.into(),
        })
        .collect()
}

/// Builds the dashboard through the store's authorised reads.
pub async fn build(
    store: &Store,
    p: &Principal,
    q: &DashboardParams,
) -> Result<DashboardOut, Problem> {
    let filter = OutcomeFilter {
        operation: clean(q.operation.as_deref()),
        country: clean(q.country.as_deref()).map(|c| c.to_ascii_uppercase()),
        agency: clean(q.agency.as_deref()),
    };
    if let Some(c) = &filter.country
        && c != "UNKNOWN"
        && !(c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
    {
        return Err(Problem::bad_request(
            "country must be a two-letter code (ISO 3166-1 alpha-2) or unknown",
        ));
    }
    let filter = OutcomeFilter {
        country: filter
            .country
            .map(|c| if c == "UNKNOWN" { "unknown".into() } else { c }),
        ..filter
    };
    let d = store.outcome_dashboard(p, &filter).await?;
    let no_op = vigil_store::NO_OPERATION;
    let cases: Vec<_> = store
        .list_cases(p)
        .await?
        .into_iter()
        .filter(|c| {
            filter
                .operation
                .as_deref()
                .is_none_or(|o| c.operation.as_deref().unwrap_or(no_op) == o)
        })
        .collect();
    let case_ids: std::collections::HashSet<i64> = cases.iter().map(|c| c.id).collect();
    let mut by_role: std::collections::BTreeMap<String, i64> = Default::default();
    for x in store.list_persons(p, None).await? {
        if case_ids.contains(&x.case_id) && x.merged_into.is_none() {
            *by_role.entry(x.role.to_string()).or_default() += 1;
        }
    }
    Ok(DashboardOut {
        outcomes: (&d.total).into(),
        by_operation: rows(&d.by_operation),
        by_country: rows(&d.by_country),
        by_agency: rows(&d.by_agency),
        by_month: rows(&d.by_month),
        operations: d.operations,
        countries: d.countries,
        agencies: d.agencies,
        cases: cases
            .into_iter()
            .map(|c| CaseRef {
                id: c.id,
                title: c.title,
                agency: c.agency,
            })
            .collect(),
        persons_by_role: by_role
            .into_iter()
            .map(|(key, count)| Count { key, count })
            .collect(),
        operation: filter.operation,
        country: filter.country,
        agency: filter.agency,
    })
}

#[derive(OpenApi)]
#[openapi(
    paths(dashboard),
    components(schemas(DashboardOut, Outcomes, OutcomeRow, Count, CaseRef))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/dashboard", dashboard)
}

/// Outcome counts (suspects identified, arrested, charged, convicted,
/// pending, deceased, children safeguarded), per operation, country, agency
/// and month, including outcomes received back from partner agencies.
#[utoipa::path(get, path = "/api/dashboard", tag = "dashboard", params(DashboardParams),
    responses((status = 200, body = DashboardOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn dashboard(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<DashboardParams>,
) -> ApiResult<DashboardOut> {
    Ok(axum::Json(build(&c.store, &c.principal, &q).await?))
}
