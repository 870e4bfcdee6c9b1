//! Hash sets (provenance, scheme, counts by category) and matching hashes
//! against them, as `vigil hashset list|show` and `vigil match` do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
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

/// What `POST /api/hashsets` did: the store's import outcome, and every
/// entry that was skipped as `FILE:LINE: message` (the first
/// [`MAX_ERROR_LINES`]; `errors` counts them all).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashSetImportResultOut {
    /// created, merged, replaced or already-imported (same file SHA-256).
    pub status: String,
    pub set: HashSetOut,
    /// The format read (detected unless given).
    pub format: String,
    pub file_name: String,
    pub file_sha256: String,
    pub file_size: u64,
    /// Valid entries read.
    pub read: u64,
    pub added: u64,
    pub already_present: u64,
    /// Entries removed by `replace`.
    pub removed: u64,
    /// Entries skipped for errors.
    pub errors: u64,
    pub error_lines: Vec<String>,
    /// More errors than `error_lines` holds.
    pub error_lines_truncated: bool,
}

/// `POST /api/hashsets` query: what `vigil hashset import` takes as flags.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The set's name (an existing set receives the new entries).
    pub name: String,
    /// vics, icse-csv, csv, tsv or pdq; detected from the content when omitted.
    pub format: Option<String>,
    /// Where the set came from (e.g. "Project VIC 2026-11 release").
    pub source: Option<String>,
    /// project-vic-us, dhs, uk or custom; implied by the file when omitted.
    pub scheme: Option<String>,
    /// Replace the set's entries (one transaction).
    pub replace: Option<bool>,
    /// The set's PDQ near-duplicate radius (default 31).
    pub max_distance: Option<u32>,
    /// The uploaded file's name, kept as provenance (default `upload`).
    pub file_name: Option<String>,
}

/// `GET /api/hashsets/{name}/export` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// vics (default), csv, tsv, pdq or icse-csv.
    pub format: Option<String>,
}

/// `DELETE /api/hashsets/{name}` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HashSetDeletedOut {
    pub deleted: String,
    /// Entries removed with it.
    pub entries: i64,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_hash_sets,
        show_hash_set,
        match_hashes,
        import_hash_set,
        export_hash_set,
        delete_hash_set
    ),
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
        MatchOut,
        HashSetImportResultOut,
        HashSetDeletedOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get("/api/hashsets", list_hash_sets)
        .post("/api/hashsets", import_hash_set)
        .get("/api/hashsets/{name}", show_hash_set)
        .delete("/api/hashsets/{name}", delete_hash_set)
        .get("/api/hashsets/{name}/export", export_hash_set)
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

/// Entry errors listed in an import's answer (all are counted).
pub const MAX_ERROR_LINES: usize = 1000;

fn internal(what: &str, e: impl std::fmt::Display) -> Problem {
    eprintln!("vigil serve: {what}: {e}");
    Problem::new(
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the details are in the server log",
    )
}

/// Spools the request body to a temporary file while hashing it: the
/// importer needs the file's SHA-256 (provenance, idempotence) before it
/// starts, and a set of hundreds of MB must not sit in memory. The spool is
/// a hash list, not media, and is deleted when the import ends.
async fn spool(body: axum::body::Body) -> Result<(tempfile::NamedTempFile, String, u64), Problem> {
    use futures_util::StreamExt;
    use sha2::Digest;
    use tokio::io::AsyncWriteExt;
    let tmp = tempfile::NamedTempFile::new().map_err(|e| internal("spool file", e))?;
    let file = tmp.reopen().map_err(|e| internal("spool file", e))?;
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::from_std(file));
    let mut hasher = sha2::Sha256::new();
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Problem::bad_request(format!("request body: {e}")))?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk)
            .await
            .map_err(|e| internal("spool write", e))?;
    }
    out.flush().await.map_err(|e| internal("spool write", e))?;
    out.into_inner()
        .sync_all()
        .await
        .map_err(|e| internal("spool write", e))?;
    Ok((tmp, hex::encode(hasher.finalize()), size))
}

/// Imports a hash-set file sent as the raw request body (VICS JSON, ICSE
/// CSV, CSV/TSV, PDQ list; format detected unless given), through the same
/// streaming importer as `vigil hashset import`. Entry errors skip the entry
/// and are listed as `FILE:LINE: message`; a file-level error (truncated
/// JSON, no hash column) refuses the whole import (422), nothing changed.
/// The same file again (same SHA-256) changes nothing.
#[utoipa::path(post, path = "/api/hashsets", tag = "hashsets", params(ImportParams),
    request_body(content = Vec<u8>, description = "the hash-set file, as is",
        content_type = "application/octet-stream"),
    responses((status = 200, body = HashSetImportResultOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn import_hash_set(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: axum::body::Body,
) -> ApiResult<HashSetImportResultOut> {
    let format = q
        .format
        .as_deref()
        .map(|f| f.trim().parse::<vigil_hashset::Format>())
        .transpose()
        .map_err(|e| Problem::bad_request(format!("format: {e}")))?;
    let scheme = q
        .scheme
        .as_deref()
        .map(|s| s.parse::<vigil_hashset::CategoryScheme>())
        .transpose()
        .map_err(|e| Problem::bad_request(format!("scheme: {e}")))?;
    // Refuse before reading hundreds of MB the caller may not import.
    c.store
        .require_capability(
            &c.principal,
            vigil_domain::Capability::ManageHashSets,
            "hashset.import",
        )
        .await?;
    let file_name = q
        .file_name
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "upload".into());
    let (tmp, sha, size) = spool(body).await?;
    let input = tmp.reopen().map_err(|e| internal("spool file", e))?;
    let opts = vigil_store::HashSetImportOptions {
        name: q.name.clone(),
        format,
        scheme,
        source: q.source.clone(),
        file_name: file_name.clone(),
        file_sha256: sha.clone(),
        file_size: size,
        replace: q.replace.unwrap_or(false),
        max_distance: q.max_distance,
    };
    let mut lines = Vec::new();
    let mut truncated = false;
    let result = c
        .store
        .import_hash_set(
            &c.principal,
            &opts,
            input,
            |e| {
                if lines.len() < MAX_ERROR_LINES {
                    lines.push(e.located(&file_name));
                } else {
                    truncated = true;
                }
            },
            |_| {},
        )
        .await;
    drop(tmp);
    let o = match result {
        Ok(o) => o,
        Err(vigil_store::HashSetImportError::Refused(e)) => {
            return Err(Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "import-refused",
                e.located(&file_name),
            ));
        }
        Err(vigil_store::HashSetImportError::Store(e)) => return Err(e.into()),
    };
    // As the CLI does: keep the persisted PDQ index current (a failure only
    // costs the next match a rebuild).
    if o.added > 0 || o.removed > 0 {
        let _ = c.store.refresh_pdq_index(&c.principal).await;
    }
    let status = serde_json::to_value(o.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Ok(axum::Json(HashSetImportResultOut {
        status,
        set: o.set.into(),
        format: o.format,
        file_name,
        file_sha256: sha,
        file_size: size,
        read: o.read,
        added: o.added,
        already_present: o.already_present,
        removed: o.removed,
        errors: o.errors,
        error_lines: lines,
        error_lines_truncated: truncated,
    }))
}

/// A `Write` that hands 64 KiB chunks to the response body.
struct ChunkWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
}

const CHUNK: usize = 64 * 1024;

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buf);
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

/// Exports a set as a file (VICS 2.0 re-imports to the identical set),
/// streamed as it is read; the same writer as `vigil hashset export`.
/// Formats that cannot hold an entry (a PDQ list, entries without PDQ)
/// skip it. A failure after the first bytes ends the response early.
#[utoipa::path(get, path = "/api/hashsets/{name}/export", tag = "hashsets",
    params(("name" = String, Path, description = "set name"), ExportParams),
    responses((status = 200, description = "the set in the asked format, as an attachment",
                content(("application/json"), ("text/csv"), ("text/tab-separated-values"), ("text/plain"))),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn export_hash_set(
    c: ApiCaller,
    ApiPath(name): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<axum::response::Response, Problem> {
    use axum::http::{HeaderValue, header};
    let format = q
        .format
        .as_deref()
        .unwrap_or("vics")
        .trim()
        .parse::<vigil_hashset::Format>()
        .map_err(|e| Problem::bad_request(format!("format: {e}")))?;
    let detail = c
        .store
        .open_hash_set_export(&c.principal, &name, &format.to_string())
        .await?;
    let (entries_tx, mut entries_rx) = tokio::sync::mpsc::channel::<vigil_hashset::HashEntry>(1024);
    let (body_tx, body_rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    let meta = detail.meta.clone();
    let err_tx = body_tx.clone();
    tokio::task::spawn_blocking(move || {
        let entries = std::iter::from_fn(|| entries_rx.blocking_recv());
        let mut w = ChunkWriter {
            buf: Vec::with_capacity(CHUNK),
            tx: body_tx,
        };
        let done = vigil_hashset::write_format(format, &mut w, &meta, entries)
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|_| std::io::Write::flush(&mut w));
        if let Err(e) = done {
            eprintln!("vigil serve: hash-set export: {e}");
            let _ = w.tx.blocking_send(Err(e));
        }
    });
    let (store, principal, set_id) = (c.store.clone(), c.principal.clone(), detail.set.id);
    tokio::spawn(async move {
        if let Err(e) = store
            .export_hash_set_entries(&principal, set_id, entries_tx)
            .await
        {
            eprintln!("vigil serve: hash-set export: {e}");
            let _ = err_tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    let stream = futures_util::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let safe: String = detail
        .set
        .name
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || "-_.".contains(ch) {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{safe}.{}\"", format.extension());
    let mut res = axum::response::Response::new(axum::body::Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// Deletes a set and its entries (and its matches in scans).
#[utoipa::path(delete, path = "/api/hashsets/{name}", tag = "hashsets",
    params(("name" = String, Path, description = "set name")),
    responses((status = 200, body = HashSetDeletedOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn delete_hash_set(
    c: ApiCaller,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<HashSetDeletedOut> {
    let entries = c.store.delete_hash_set(&c.principal, &name).await?;
    Ok(axum::Json(HashSetDeletedOut {
        deleted: name,
        entries,
    }))
}
