//! Hash sets (provenance, scheme, counts by category) and matching hashes
//! against them, as `vigil hashset list|show` and `vigil match` do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use vigil_domain::{Md5, PdqHash, Sha1, Sha256};
use vigil_store::{MatchOptions, MatchQuery, Principal, Store};

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashSetOut {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub agency: String,
    /// Category scheme (Project VIC US, DHS, UK, custom).
    pub scheme: String,
    pub format: String,
    pub source: Option<String>,
    /// PDQ near-duplicate radius of this set.
    pub max_distance: u32,
    pub entries: i64,
    pub pdq_entries: i64,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
}

impl From<vigil_store::HashSetInfo> for HashSetOut {
    fn from(s: vigil_store::HashSetInfo) -> Self {
        let vigil_store::HashSetInfo {
            id,
            uid,
            name,
            agency,
            scheme,
            format,
            source,
            max_distance,
            entries,
            pdq_entries,
            created_at,
            created_by,
            updated_at,
        } = s;
        HashSetOut {
            id,
            uid,
            name,
            agency,
            scheme,
            format,
            source,
            max_distance,
            entries,
            pdq_entries,
            created_at,
            created_by,
            updated_at,
        }
    }
}

page_of!(HashSetPage, HashSetOut);

/// One import of a file into a set (provenance).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashSetImportOut {
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: i64,
    pub format: String,
    pub source: Option<String>,
    pub replaced: bool,
    pub added: i64,
    pub already_present: i64,
    pub errors: i64,
    pub imported_at: String,
    pub imported_by: String,
}

/// A set with its provenance and counts by category.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashSetDetailOut {
    pub set: HashSetOut,
    pub imports: Vec<HashSetImportOut>,
    /// Category (as the set labels it) → entries.
    pub categories: BTreeMap<String, i64>,
}

impl From<vigil_store::HashSetDetail> for HashSetDetailOut {
    fn from(d: vigil_store::HashSetDetail) -> Self {
        let vigil_store::HashSetDetail {
            set,
            imports,
            categories,
            meta: _,
        } = d;
        HashSetDetailOut {
            set: set.into(),
            imports: imports
                .into_iter()
                .map(|i| {
                    let vigil_store::HashSetImportRecord {
                        file_name,
                        file_sha256,
                        file_size,
                        format,
                        source,
                        replaced,
                        added,
                        already_present,
                        errors,
                        imported_at,
                        imported_by,
                    } = i;
                    HashSetImportOut {
                        file_name,
                        file_sha256,
                        file_size,
                        format,
                        source,
                        replaced,
                        added,
                        already_present,
                        errors,
                        imported_at,
                        imported_by,
                    }
                })
                .collect(),
            categories,
        }
    }
}

/// A PDQ hash to look up.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PdqQueryIn {
    /// 64 hex digits.
    #[schema(pattern = "^[0-9a-fA-F]{64}$")]
    pub hash: String,
    /// PDQ quality (0–100); below 50 the answer is flagged unreliable.
    #[schema(value_type = Option<u8>, minimum = 0, maximum = 100)]
    pub quality: Option<f64>,
}

/// An MD5 as 32 hex digits (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-fA-F]{32}$")]
#[allow(dead_code)]
pub struct Md5Hex(String);

/// A SHA-1 as 40 hex digits (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-fA-F]{40}$")]
#[allow(dead_code)]
pub struct Sha1Hex(String);

/// A SHA-256 as 64 hex digits (documentation of the accepted values).
#[derive(ToSchema)]
#[schema(value_type = String, pattern = "^[0-9a-fA-F]{64}$")]
#[allow(dead_code)]
pub struct Sha256Hex(String);

/// Hashes to match against the agency's sets (none: no answers).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchIn {
    #[serde(default)]
    #[schema(value_type = Vec<Md5Hex>, max_items = 1000)]
    pub md5: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Sha1Hex>, max_items = 1000)]
    pub sha1: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Sha256Hex>, max_items = 1000)]
    pub sha256: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub pdq: Vec<PdqQueryIn>,
    /// Overrides every set's PDQ radius (0–256).
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 256)]
    pub max_distance: Option<f64>,
    /// Also match rotations and mirror images of the PDQ queries.
    #[serde(default)]
    pub dihedral: bool,
}

/// One match: which set, which entry, which hash, what distance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashMatchOut {
    pub set: String,
    pub set_id: i64,
    pub entry_id: i64,
    pub media_id: Option<String>,
    /// md5, sha1, sha256 (exact) or pdq (near-duplicate).
    pub kind: String,
    /// The entry's hash that matched.
    pub hash: String,
    pub category: String,
    pub category_raw: Option<String>,
    pub series: Option<String>,
    pub victim_identified: Option<bool>,
    pub distance: u32,
    /// Matched through a rotated or mirrored variant of the query.
    pub dihedral: bool,
    /// Which variant matched (`rot90`, `flipy`, …) when `dihedral`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform: Option<String>,
}

/// The answer to one query hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchAnswerOut {
    pub kind: String,
    pub query: String,
    pub quality: Option<u8>,
    /// PDQ quality below 50: near-duplicate matches are unreliable.
    pub unreliable: bool,
    pub matches: Vec<HashMatchOut>,
}

impl From<vigil_store::MatchAnswer> for MatchAnswerOut {
    fn from(a: vigil_store::MatchAnswer) -> Self {
        let vigil_store::MatchAnswer {
            kind,
            query,
            quality,
            unreliable,
            matches,
        } = a;
        MatchAnswerOut {
            kind,
            query,
            quality,
            unreliable,
            matches: matches
                .into_iter()
                .map(|m| {
                    let vigil_store::HashMatch {
                        set,
                        set_id,
                        entry_id,
                        media_id,
                        kind,
                        hash,
                        category,
                        category_raw,
                        series,
                        victim_identified,
                        distance,
                        dihedral,
                        transform,
                    } = m;
                    HashMatchOut {
                        set,
                        set_id,
                        entry_id,
                        media_id,
                        kind,
                        hash,
                        category,
                        category_raw,
                        series,
                        victim_identified,
                        distance,
                        dihedral,
                        transform,
                    }
                })
                .collect(),
        }
    }
}

/// The answers, one per query hash, in the order given (md5, sha1, sha256,
/// pdq).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchOut {
    pub answers: Vec<MatchAnswerOut>,
}

#[derive(OpenApi)]
#[openapi(
    paths(list_hash_sets, show_hash_set, match_hashes),
    components(schemas(
        HashSetOut,
        HashSetPage,
        HashSetImportOut,
        HashSetDetailOut,
        Md5Hex,
        Sha1Hex,
        Sha256Hex,
        PdqQueryIn,
        MatchIn,
        HashMatchOut,
        MatchAnswerOut,
        MatchOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/hashsets", list_hash_sets)
        .get("/api/hashsets/{name}", show_hash_set)
        .post("/api/match", match_hashes)
}

/// At most this many hashes per request (a whole scan is matched with
/// `vigil match --scan`, or by opening the scan).
pub const MAX_QUERIES: usize = 1000;

fn hex<T>(
    field: &str,
    i: usize,
    v: &str,
    parse: fn(&str) -> Result<T, vigil_domain::HexError>,
) -> Result<T, Problem> {
    parse(v.trim()).map_err(|e| Problem::bad_request(format!("{field}[{i}]: {e}")))
}

/// Parses the request into the store's queries and runs them.
pub async fn run_match(store: &Store, p: &Principal, m: MatchIn) -> Result<MatchOut, Problem> {
    let n = m.md5.len() + m.sha1.len() + m.sha256.len() + m.pdq.len();
    let longest = [m.md5.len(), m.sha1.len(), m.sha256.len(), m.pdq.len()];
    if longest.iter().any(|l| *l > MAX_QUERIES) {
        return Err(Problem::bad_request(format!(
            "at most {MAX_QUERIES} hashes of each kind per request"
        )));
    }
    // JSON does not tell 31 from 31.0; accept both, nothing fractional.
    let max_distance = match m.max_distance {
        None => None,
        Some(d) if d.fract() == 0.0 && (0.0..=256.0).contains(&d) => Some(d as u32),
        Some(_) => {
            return Err(Problem::bad_request(
                "max_distance: a whole number 0..=256 (PDQ distances)",
            ));
        }
    };
    let mut q = Vec::with_capacity(n);
    for (i, h) in m.md5.iter().enumerate() {
        q.push(MatchQuery::Md5(hex("md5", i, h, Md5::from_hex)?));
    }
    for (i, h) in m.sha1.iter().enumerate() {
        q.push(MatchQuery::Sha1(hex("sha1", i, h, Sha1::from_hex)?));
    }
    for (i, h) in m.sha256.iter().enumerate() {
        q.push(MatchQuery::Sha256(hex("sha256", i, h, Sha256::from_hex)?));
    }
    for (i, h) in m.pdq.iter().enumerate() {
        // JSON does not tell 60 from 60.0; accept both, nothing fractional.
        let quality = match h.quality {
            None => None,
            Some(x) if x.fract() == 0.0 && (0.0..=100.0).contains(&x) => Some(x as u8),
            Some(_) => {
                return Err(Problem::bad_request(format!(
                    "pdq[{i}].quality: a whole number 0..=100"
                )));
            }
        };
        q.push(MatchQuery::Pdq {
            hash: hex("pdq", i, &h.hash, PdqHash::from_hex)?,
            quality,
            dihedral: None,
        });
    }
    let answers = store
        .match_hashes(
            p,
            &q,
            &MatchOptions {
                max_distance,
                dihedral: m.dihedral,
            },
        )
        .await?;
    Ok(MatchOut {
        answers: answers.into_iter().map(Into::into).collect(),
    })
}

/// The hash sets of the caller's agency.
#[utoipa::path(get, path = "/api/hashsets", tag = "hashsets", params(PageParams),
    responses((status = 200, body = HashSetPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_hash_sets(
    c: ApiCaller,
    ApiQuery(pp): ApiQuery<PageParams>,
) -> ApiResult<HashSetPage> {
    let all = c.store.list_hash_sets(&c.principal).await?;
    Ok(axum::Json(HashSetPage::of(all, &pp)?))
}

/// A hash set: provenance (every import, by whom, from which file),
/// category scheme, counts by category.
#[utoipa::path(get, path = "/api/hashsets/{name}", tag = "hashsets",
    params(("name" = String, Path, description = "set name")),
    responses((status = 200, body = HashSetDetailOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn show_hash_set(
    c: ApiCaller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<HashSetDetailOut> {
    Ok(axum::Json(
        c.store.show_hash_set(&c.principal, &name).await?.into(),
    ))
}

/// Looks hashes up in the agency's sets: exact on MD5/SHA-1/SHA-256,
/// near-duplicate on PDQ (each set's radius, or `max_distance`).
#[utoipa::path(post, path = "/api/match", tag = "hashsets", request_body = MatchIn,
    responses((status = 200, body = MatchOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn match_hashes(c: ApiCaller, ApiJson(m): ApiJson<MatchIn>) -> ApiResult<MatchOut> {
    Ok(axum::Json(run_match(&c.store, &c.principal, m).await?))
}
