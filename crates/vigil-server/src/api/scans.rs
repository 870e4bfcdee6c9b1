//! Scans of seized devices: the list, the triage summary (counts by
//! category, exact matches, near-duplicates with distances, series) and the
//! evidence items. Hashes and metadata only: no endpoint returns, links to
//! or thumbnails media content.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::{Principal, Store};

use super::{ApiPath, ApiQuery, ApiResult, ApiRouter, MAX_LIMIT, PageInfo, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanOut {
    pub id: i64,
    pub uid: String,
    pub case_id: i64,
    pub device_id: i64,
    pub device: String,
    pub root: String,
    pub status: String,
    pub files: i64,
    pub bytes: i64,
    pub images: i64,
    pub errors: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub created_by: String,
}

impl From<vigil_store::Scan> for ScanOut {
    fn from(s: vigil_store::Scan) -> Self {
        let vigil_store::Scan {
            id,
            uid,
            case_id,
            device_id,
            device,
            root,
            status,
            files,
            bytes,
            images,
            errors,
            started_at,
            finished_at,
            created_by,
        } = s;
        ScanOut {
            id,
            uid,
            case_id,
            device_id,
            device,
            root,
            status,
            files,
            bytes,
            images,
            errors,
            started_at,
            finished_at,
            created_by,
        }
    }
}

page_of!(ScanPage, ScanOut);

/// A group of similar unknown images (paths as examples, never content).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UnknownSeriesOut {
    pub size: u64,
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SeriesSummaryOut {
    /// Single-link PDQ radius used for grouping.
    pub radius: u32,
    /// Groups of two or more images.
    pub count: u64,
    pub largest: u64,
    /// Unknown images similar to no other.
    pub singletons: u64,
    /// The twenty largest groups.
    pub groups: Vec<UnknownSeriesOut>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KnownSeriesOut {
    pub series: String,
    pub sets: Vec<String>,
    pub images: i64,
    pub victim_identified: Option<bool>,
    /// "victim identified", "unidentified — priority" or "victim status unknown".
    pub status: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DistanceStatsOut {
    pub min: u32,
    pub max: u32,
    /// Distance → items.
    pub histogram: BTreeMap<String, i64>,
}

/// What a scan found: counts, never content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TriageOut {
    pub scan_id: i64,
    pub files: i64,
    pub images: i64,
    pub errors: i64,
    /// Category → items matched exactly (MD5/SHA-1/SHA-256).
    pub known: BTreeMap<String, i64>,
    /// Category → items matched only by PDQ.
    pub near_duplicates: BTreeMap<String, i64>,
    /// Category → distances of those matches (best per item).
    pub near_duplicate_distances: BTreeMap<String, DistanceStatsOut>,
    /// Near-duplicates whose PDQ quality is below 50.
    pub unreliable_near_duplicates: i64,
    /// Transform (`flipy`, `rot90`, …) → near-duplicates found only through
    /// that rotated or mirrored variant of their hash.
    pub near_duplicate_transforms: BTreeMap<String, i64>,
    pub unknown_images: i64,
    pub series: SeriesSummaryOut,
    pub known_series: Vec<KnownSeriesOut>,
    pub generation: String,
}

impl From<vigil_store::TriageSummary> for TriageOut {
    fn from(t: vigil_store::TriageSummary) -> Self {
        let vigil_store::TriageSummary {
            scan_id,
            files,
            images,
            errors,
            known,
            near_duplicates,
            near_duplicate_distances,
            unreliable_near_duplicates,
            near_duplicate_transforms,
            unknown_images,
            series,
            known_series,
            generation,
        } = t;
        let vigil_store::SeriesSummary {
            radius,
            count,
            largest,
            singletons,
            groups,
        } = series;
        TriageOut {
            scan_id,
            files,
            images,
            errors,
            known,
            near_duplicates,
            near_duplicate_distances: near_duplicate_distances
                .into_iter()
                .map(|(k, d)| {
                    (
                        k,
                        DistanceStatsOut {
                            min: d.min,
                            max: d.max,
                            histogram: d
                                .histogram
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        },
                    )
                })
                .collect(),
            unreliable_near_duplicates,
            near_duplicate_transforms,
            unknown_images,
            series: SeriesSummaryOut {
                radius,
                count: count as u64,
                largest: largest as u64,
                singletons: singletons as u64,
                groups: groups
                    .into_iter()
                    .map(|g| UnknownSeriesOut {
                        size: g.size as u64,
                        examples: g.examples,
                    })
                    .collect(),
            },
            known_series: known_series
                .into_iter()
                .map(|k| {
                    let vigil_store::KnownSeries {
                        series,
                        sets,
                        images,
                        victim_identified,
                        status,
                    } = k;
                    KnownSeriesOut {
                        series,
                        sets,
                        images,
                        victim_identified,
                        status,
                    }
                })
                .collect(),
            generation,
        }
    }
}

/// A scan with its triage summary.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScanDetailOut {
    pub scan: ScanOut,
    pub triage: TriageOut,
}

/// One file's record: hashes and metadata, never content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceItemOut {
    pub path: String,
    /// file, symlink, directory, special…
    pub entry_type: String,
    pub link_target: Option<String>,
    pub size: Option<i64>,
    pub modified_at: Option<String>,
    pub created_at_fs: Option<String>,
    pub mime: Option<String>,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub pdq: Option<String>,
    pub pdq_quality: Option<i64>,
    /// The 8 dihedral PDQ hashes, comma-separated, reference order.
    pub pdq_dihedral: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub exif_orientation: Option<i64>,
    pub error: Option<String>,
}

impl From<vigil_store::EvidenceItem> for EvidenceItemOut {
    fn from(e: vigil_store::EvidenceItem) -> Self {
        let vigil_store::EvidenceItem {
            path,
            entry_type,
            link_target,
            size,
            modified_at,
            created_at_fs,
            mime,
            md5,
            sha1,
            sha256,
            pdq,
            pdq_quality,
            pdq_dihedral,
            width,
            height,
            exif_orientation,
            error,
        } = e;
        EvidenceItemOut {
            path,
            entry_type,
            link_target,
            size,
            modified_at,
            created_at_fs,
            mime,
            md5,
            sha1,
            sha256,
            pdq,
            pdq_quality,
            pdq_dihedral,
            width,
            height,
            exif_orientation,
            error,
        }
    }
}

/// One page of a scan's evidence items, by path.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EvidenceItemPage {
    pub items: Vec<EvidenceItemOut>,
    pub page: PageInfo,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanFilter {
    /// Only scans of this case.
    pub case_id: Option<i64>,
}

#[derive(OpenApi)]
#[openapi(
    paths(list_scans, show_scan, scan_items),
    components(schemas(
        ScanOut,
        ScanPage,
        UnknownSeriesOut,
        SeriesSummaryOut,
        KnownSeriesOut,
        DistanceStatsOut,
        TriageOut,
        ScanDetailOut,
        EvidenceItemOut,
        EvidenceItemPage
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/scans", list_scans)
        .get("/api/scans/{id}", show_scan)
        .get("/api/scans/{id}/items", scan_items)
}

/// A scan and its triage summary (matching first if the stored matches are
/// missing or older than the hash sets).
pub async fn detail(store: &Store, p: &Principal, id: i64) -> Result<ScanDetailOut, Problem> {
    let (scan, _) = store.show_scan(p, id, false).await?;
    let triage = store.triage_summary(p, id).await?;
    Ok(ScanDetailOut {
        scan: scan.into(),
        triage: triage.into(),
    })
}

/// One page of a scan's items.
pub async fn items(
    store: &Store,
    p: &Principal,
    id: i64,
    pp: &PageParams,
) -> Result<EvidenceItemPage, Problem> {
    let limit = pp.limit.unwrap_or(super::DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = pp.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Problem::bad_request("offset must not be negative"));
    }
    let (total, items) = store.scan_items(p, id, i64::from(limit), offset).await?;
    let total = u64::try_from(total).unwrap_or(0);
    let offset = offset as u64;
    let end = offset.saturating_add(items.len() as u64);
    Ok(EvidenceItemPage {
        items: items.into_iter().map(Into::into).collect(),
        page: PageInfo {
            total,
            limit,
            offset,
            next: (end < total).then(|| format!("?limit={limit}&offset={end}")),
        },
    })
}

/// Scans of the cases the caller may read, optionally of one case.
#[utoipa::path(get, path = "/api/scans", tag = "scans", params(ScanFilter, PageParams),
    responses((status = 200, body = ScanPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_scans(
    c: ApiCaller,
    ApiQuery(f): ApiQuery<ScanFilter>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<ScanPage> {
    let all = c.store.list_scans(&c.principal, f.case_id).await?;
    Ok(axum::Json(ScanPage::of(all, &pp)?))
}

/// A scan with its triage summary: counts by category, exact matches,
/// near-duplicates with distances, unknown series, known series.
#[utoipa::path(get, path = "/api/scans/{id}", tag = "scans",
    params(("id" = i64, Path, description = "scan id")),
    responses((status = 200, body = ScanDetailOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_scan(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<ScanDetailOut> {
    Ok(axum::Json(detail(&c.store, &c.principal, id).await?))
}

/// A scan's evidence items (hashes and metadata), by path, paginated.
#[utoipa::path(get, path = "/api/scans/{id}/items", tag = "scans",
    params(("id" = i64, Path, description = "scan id"), PageParams),
    responses((status = 200, body = EvidenceItemPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn scan_items(
    c: ApiCaller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<EvidenceItemPage> {
    Ok(axum::Json(items(&c.store, &c.principal, id, &pp).await?))
}
