//! Identity resolution: scored candidate links with their evidence, the
//! officer's accept/reject decisions, exact links of a person's
//! identifiers, and un-merging.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

/// One side of a candidate link.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidatePersonOut {
    pub id: i64,
    pub label: String,
    pub case_id: i64,
    pub agency: String,
}

impl From<vigil_store::CandidatePerson> for CandidatePersonOut {
    fn from(p: vigil_store::CandidatePerson) -> Self {
        let vigil_store::CandidatePerson {
            id,
            label,
            case_id,
            agency,
        } = p;
        CandidatePersonOut {
            id,
            label,
            case_id,
            agency,
        }
    }
}

/// One reason two persons may be one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceOut {
    /// `nick-change`, `handle-similar`, `ip-overlap`, `email-local-handle`,
    /// `room-co-presence`, `media-shared`, `ip-not-evidence`…
    pub kind: String,
    /// Weight in bits (log-likelihood); negative weighs against.
    pub weight: f64,
    /// The values compared and the measure (e.g. the similarity).
    pub detail: String,
    /// The records the evidence rests on.
    pub sources: Vec<String>,
}

/// A candidate link between two persons, never applied without a decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CandidateOut {
    pub id: i64,
    pub person_a: CandidatePersonOut,
    pub person_b: CandidatePersonOut,
    /// Sum of the evidence weights (bits).
    pub score: f64,
    /// Certain evidence (a nick change) is among the evidence.
    pub certain: bool,
    /// The persons belong to two agencies: de-confliction, never a merge.
    pub cross_agency: bool,
    /// `open`, `accepted` or `rejected`.
    pub status: String,
    pub note: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub evidence: Vec<EvidenceOut>,
}

impl From<vigil_store::StoredCandidate> for CandidateOut {
    fn from(c: vigil_store::StoredCandidate) -> Self {
        let vigil_store::StoredCandidate {
            id,
            person_a,
            person_b,
            score,
            certain,
            cross_agency,
            status,
            note,
            decided_by,
            decided_at,
            evidence,
        } = c;
        CandidateOut {
            id,
            person_a: person_a.into(),
            person_b: person_b.into(),
            score,
            certain,
            cross_agency,
            status,
            note,
            decided_by,
            decided_at,
            evidence: evidence
                .into_iter()
                .map(|e| EvidenceOut {
                    kind: e.kind.as_str().to_string(),
                    weight: e.weight,
                    detail: e.detail,
                    sources: e.sources,
                })
                .collect(),
        }
    }
}

page_of!(CandidatePage, CandidateOut);

/// Another record holding the same identifier: in full when the caller may
/// read it, else a blind hit (agency, country, contact only).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HolderOut {
    /// `visible` or `blind`.
    pub visibility: String,
    pub agency: String,
    /// Blind hits: the agency's country.
    pub country: Option<String>,
    /// Blind hits: whom to call.
    pub contact: Option<String>,
    /// Visible holders: `identifier:ID`, `person:ID`.
    pub record: Option<String>,
    pub raw: Option<String>,
    pub person_id: Option<i64>,
    pub person_label: Option<String>,
    pub case_id: Option<i64>,
    pub case_title: Option<String>,
}

impl From<vigil_store::Holder> for HolderOut {
    fn from(h: vigil_store::Holder) -> Self {
        match h {
            vigil_store::Holder::Visible {
                record,
                raw,
                person_id,
                person_label,
                case_id,
                case_title,
                agency,
            } => HolderOut {
                visibility: "visible".into(),
                agency,
                country: None,
                contact: None,
                record: Some(record),
                raw,
                person_id,
                person_label,
                case_id: Some(case_id),
                case_title: Some(case_title),
            },
            vigil_store::Holder::Blind {
                agency,
                country,
                contact,
            } => HolderOut {
                visibility: "blind".into(),
                agency,
                country: Some(country),
                contact,
                record: None,
                raw: None,
                person_id: None,
                person_label: None,
                case_id: None,
                case_title: None,
            },
        }
    }
}

/// An exact link of one of the person's identifiers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExactLinkOut {
    pub identifier_id: i64,
    pub kind: String,
    pub normalized: String,
    pub other: HolderOut,
}

impl From<vigil_store::ExactLink> for ExactLinkOut {
    fn from(l: vigil_store::ExactLink) -> Self {
        let vigil_store::ExactLink {
            identifier_id,
            kind,
            normalized,
            other,
        } = l;
        ExactLinkOut {
            identifier_id,
            kind,
            normalized,
            other: other.into(),
        }
    }
}

page_of!(ExactLinkPage, ExactLinkOut);

/// Who was merged into whom, and which rows moved.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MergeOut {
    pub candidate: Option<i64>,
    pub kept: i64,
    pub merged: i64,
    pub merge_id: i64,
    /// Table name → ids of the rows re-pointed.
    pub moved: BTreeMap<String, Vec<i64>>,
}

impl From<vigil_store::MergeOutcome> for MergeOut {
    fn from(m: vigil_store::MergeOutcome) -> Self {
        let vigil_store::MergeOutcome {
            candidate,
            kept,
            merged,
            merge_id,
            moved,
        } = m;
        MergeOut {
            candidate,
            kept,
            merged,
            merge_id,
            moved,
        }
    }
}

/// The decision recorded on a rejected candidate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RejectedOut {
    pub candidate: i64,
    pub status: String,
}

/// An officer's decision on a candidate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// Why (kept with the decision and in the audit log).
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateFilter {
    /// Only candidates with a person of this case.
    pub case_id: Option<i64>,
    /// Only candidates involving this person.
    pub person_id: Option<i64>,
    /// Only candidates scoring at least this (bits).
    pub min_score: Option<f64>,
}

#[derive(OpenApi)]
#[openapi(
    paths(candidates, accept, reject, exact_links, unmerge),
    components(schemas(
        CandidatePage,
        CandidateOut,
        CandidatePersonOut,
        EvidenceOut,
        HolderOut,
        ExactLinkPage,
        ExactLinkOut,
        MergeOut,
        RejectedOut,
        DecisionIn
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/links/candidates", candidates)
        .post("/api/links/candidates/{id}/accept", accept)
        .post("/api/links/candidates/{id}/reject", reject)
        .get("/api/persons/{id}/links", exact_links)
        .post("/api/persons/{id}/unmerge", unmerge)
}

/// Checks the free-text note of a decision.
fn note(body: &DecisionIn) -> Result<Option<String>, Problem> {
    match body.note.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > NOTE_MAX_CHARS => {
            Err(Problem::from(vigil_domain::ValidationError::new(
                "note",
                &n.chars().take(40).collect::<String>(),
                "longer than 2000 characters",
            )))
        }
        Some(n) => Ok(Some(vigil_domain::records::parse_text("note", n)?)),
    }
}

/// The longest decision note, as the OpenAPI document states it.
const NOTE_MAX_CHARS: usize = 2000;

/// Candidate links among the persons the caller may read (recomputed from
/// the current records), best first, each with its evidence.
#[utoipa::path(get, path = "/api/links/candidates", tag = "links",
    params(CandidateFilter, PageParams),
    responses((status = 200, body = CandidatePage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn candidates(
    c: ApiCaller,
    ApiQuery(f): ApiQuery<CandidateFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<CandidatePage> {
    if f.min_score.is_some_and(|s| !s.is_finite()) {
        return Err(Problem::bad_request("min_score must be a finite number"));
    }
    let all: Vec<_> = c
        .store
        .link_candidates(&c.principal, f.case_id, f.min_score)
        .await?
        .into_iter()
        .filter(|x| {
            f.person_id
                .is_none_or(|p| x.person_a.id == p || x.person_b.id == p)
        })
        .collect();
    Ok(axum::Json(CandidatePage::of(all, &pp)?))
}

/// Accepts a candidate: merges the newer person into the older with full
/// history (refused across agencies: 409).
#[utoipa::path(post, path = "/api/links/candidates/{id}/accept", tag = "links",
    request_body = DecisionIn,
    params(("id" = i64, Path, description = "candidate id")),
    responses((status = 200, body = MergeOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn accept(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> ApiResult<MergeOut> {
    let n = note(&body)?;
    Ok(axum::Json(
        c.store
            .accept_candidate(&c.principal, id, n.as_deref())
            .await?
            .into(),
    ))
}

/// Rejects a candidate; the decision survives later re-computation.
#[utoipa::path(post, path = "/api/links/candidates/{id}/reject", tag = "links",
    request_body = DecisionIn,
    params(("id" = i64, Path, description = "candidate id")),
    responses((status = 200, body = RejectedOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn reject(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> ApiResult<RejectedOut> {
    let n = note(&body)?;
    c.store
        .reject_candidate(&c.principal, id, n.as_deref())
        .await?;
    Ok(axum::Json(RejectedOut {
        candidate: id,
        status: "rejected".into(),
    }))
}

/// Exact links of the person's identifiers: every other record holding the
/// same normalised value, in full or as a blind hit.
#[utoipa::path(get, path = "/api/persons/{id}/links", tag = "links",
    params(("id" = i64, Path, description = "person id"), PageParams),
    responses((status = 200, body = ExactLinkPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn exact_links(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<ExactLinkPage> {
    let all = c.store.exact_links(&c.principal, id).await?;
    Ok(axum::Json(ExactLinkPage::of(all, &pp)?))
}

/// Undoes the latest merge of this person: every moved row goes back and
/// the candidate's prior decision is restored.
#[utoipa::path(post, path = "/api/persons/{id}/unmerge", tag = "links",
    params(("id" = i64, Path, description = "the merged (absorbed) person's id")),
    responses((status = 200, body = MergeOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn unmerge(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<MergeOut> {
    Ok(axum::Json(
        c.store.unmerge_person(&c.principal, id).await?.into(),
    ))
}
