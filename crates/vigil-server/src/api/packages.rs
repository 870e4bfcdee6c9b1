//! Lead, outcome and acknowledgement packages over HTTP, as `vigil package
//! build|import|ack|outcomes|counts` do, through the same store methods
//! (`seal_leads`, `open_package`, …): the recipient, the keys, sealing and
//! opening exist once.
//!
//! A build answers with the package's record (state `built`); its sealed
//! bytes are fetched with `GET /api/packages/{id}/file`, which is what sends
//! it (state `sent`). Imports take the package file as the raw request body.
//! The agency's secret keys are unlocked with `VIGIL_KEY_PASSPHRASE` of the
//! server's environment, as the CLI's.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use vigil_store::{KeyUnlock, OpenedPackage, Principal, Recipient, Store};

use super::dissemination::PackageOut;
use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

/// Packages larger than this are refused (leads packages of a whole
/// operation are a few MB).
pub const MAX_PACKAGE_BYTES: usize = 256 * 1024 * 1024;

/// `POST /api/packages`: a leads package of an operation for one partner.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildIn {
    /// Operation name or id.
    pub operation: String,
    /// Recipient agency name or id …
    pub to: Option<String>,
    /// … or the country whose one registered partner agency receives it.
    pub country: Option<String>,
}

/// `POST /api/packages/outcomes`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomesIn {
    /// Agency name or id: the outcomes recorded on the persons it sent us.
    pub to: String,
}

/// `POST /api/packages/import` query.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Also build a signed, encrypted acknowledgement for the sender (leads
    /// and outcomes packages); fetch it with `/api/packages/{id}/file`.
    pub ack: Option<bool>,
    /// The file's name, used in error messages.
    pub file_name: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PackageImportOut {
    /// `leads`, `outcomes` or `ack`.
    pub kind: String,
    /// The package as recorded here (for an `ack`: our package it acknowledged).
    pub package: PackageOut,
    /// Leads/outcomes: records added, already held, and identifiers already
    /// known in other cases (de-confliction). Absent for an `ack`.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// The acknowledgement built, when `ack=true`.
    pub ack: Option<PackageOut>,
}

/// `GET /api/packages/counts` query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsParams {
    /// Operation name or id.
    pub operation: String,
}

/// Outcome counts of one country or the total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct OutcomeCountsOut {
    pub suspects_identified: u64,
    pub arrested: u64,
    pub charged: u64,
    pub convicted: u64,
    /// Charged, with no conviction or acquittal recorded yet.
    pub pending: u64,
    pub deceased: u64,
    pub children_safeguarded: u64,
}

impl From<vigil_store::OutcomeCounts> for OutcomeCountsOut {
    fn from(c: vigil_store::OutcomeCounts) -> Self {
        let vigil_store::OutcomeCounts {
            suspects_identified,
            arrested,
            charged,
            convicted,
            pending,
            deceased,
            children_safeguarded,
        } = c;
        OutcomeCountsOut {
            suspects_identified,
            arrested,
            charged,
            convicted,
            pending,
            deceased,
            children_safeguarded,
        }
    }
}

/// An operation's outcomes per country and in total.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OperationOutcomesOut {
    pub operation: String,
    pub by_country: std::collections::BTreeMap<String, OutcomeCountsOut>,
    pub total: OutcomeCountsOut,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        build_package,
        package_file,
        import_package,
        ack_package,
        build_outcomes,
        outcome_counts
    ),
    components(schemas(
        BuildIn,
        OutcomesIn,
        PackageImportOut,
        OutcomeCountsOut,
        OperationOutcomesOut
    ))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post("/api/packages", build_package)
        .get("/api/packages/counts", outcome_counts)
        .post("/api/packages/import", import_package)
        .post("/api/packages/outcomes", build_outcomes)
        .get("/api/packages/{id}/file", package_file)
        .post("/api/packages/{id}/ack", ack_package)
}

/// Says once per server process that the agency keys are stored in clear.
fn warn_clear_keys() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "vigil serve: warning: the agency's secret keys are stored unencrypted in the \
             database; set {} (and generate the keys again) to encrypt them at rest",
            vigil_store::KEY_PASSPHRASE_ENV
        )
    });
}

fn unlock(pass: Option<&vigil_share::secrecy::SecretString>) -> KeyUnlock<'_> {
    KeyUnlock {
        passphrase: pass,
        on_clear: &warn_clear_keys,
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> Problem {
    eprintln!("vigil serve: {what}: {e}");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; the details are in the server log",
    )
}

/// Builds a signed, encrypted leads package of an operation for a partner
/// agency (named, or the one registered for a country): the suspects
/// attributed to its country or released to it, with their releasable
/// identifiers, events, chat excerpts and hash matches. Answers with the
/// package (state `built`); fetch its bytes from `/api/packages/{id}/file`.
#[utoipa::path(post, path = "/api/packages", tag = "dissemination", request_body = BuildIn,
    responses((status = 201, body = PackageOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn build_package(c: ApiCaller, ApiJson(b): ApiJson<BuildIn>) -> Result<Response, Problem> {
    let to = match (b.to.as_deref(), b.country.as_deref()) {
        (Some(to), None) => Recipient::Agency(to),
        (None, Some(cc)) => Recipient::Country(cc),
        _ => return Err(Problem::bad_request("give exactly one of to and country")),
    };
    let geo = vigil_share::GeoSet::embedded().map_err(|e| internal("geolocation table", e))?;
    let pass = vigil_store::key_passphrase_from_env();
    let built = c
        .store
        .seal_leads(&c.principal, &b.operation, to, &geo, unlock(pass.as_ref()))
        .await?;
    Ok(created(built.record))
}

/// Builds an outcomes package for an agency: the outcomes (arrests,
/// charges, convictions, children safeguarded) recorded on the persons it
/// sent us. Fetch its bytes from `/api/packages/{id}/file`.
#[utoipa::path(post, path = "/api/packages/outcomes", tag = "dissemination",
    request_body = OutcomesIn,
    responses((status = 201, body = PackageOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn build_outcomes(
    c: ApiCaller,
    ApiJson(b): ApiJson<OutcomesIn>,
) -> Result<Response, Problem> {
    let pass = vigil_store::key_passphrase_from_env();
    let built = c
        .store
        .seal_outcomes(&c.principal, &b.to, unlock(pass.as_ref()))
        .await?;
    Ok(created(built.record))
}

/// A package just built here, as the 201 answer of the routes that seal one.
fn created(record: vigil_store::PackageRecord) -> Response {
    (StatusCode::CREATED, axum::Json(PackageOut::from(record))).into_response()
}

/// The UUID of a received package named by id or UUID.
async fn received_uid(store: &Store, p: &Principal, id: &str) -> Result<String, Problem> {
    let want = id.trim();
    let Ok(n) = want.parse::<i64>() else {
        return Ok(want.to_string());
    };
    store
        .list_packages(p)
        .await?
        .into_iter()
        .find(|r| r.id == n && r.direction == "received")
        .map(|r| r.package_uid)
        .ok_or_else(|| Problem::not_found(format!("received package {want} not found")))
}

/// Acknowledges a package imported here (by id or UUID): a signed,
/// encrypted `ack` package for its sender, who imports it to mark theirs
/// acknowledged. Fetch its bytes from `/api/packages/{id}/file`.
#[utoipa::path(post, path = "/api/packages/{id}/ack", tag = "dissemination",
    params(("id" = String, Path, description = "received package id or UUID")),
    responses((status = 201, body = PackageOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn ack_package(c: ApiCaller, ApiPath(id): ApiPath<String>) -> Result<Response, Problem> {
    let uid = received_uid(&c.store, &c.principal, &id).await?;
    let pass = vigil_store::key_passphrase_from_env();
    let built = c
        .store
        .seal_ack(&c.principal, &uid, unlock(pass.as_ref()))
        .await?;
    Ok(created(built.record))
}

/// The sealed bytes of a package built here (by id or UUID), as the file
/// to hand to the recipient (`.vigil`: minisign-signed, age-encrypted; see
/// vigil-share's README to verify and decrypt with standard tools). Handing
/// it out marks the package `sent`.
#[utoipa::path(get, path = "/api/packages/{id}/file", tag = "dissemination",
    params(("id" = String, Path, description = "package id or UUID")),
    responses((status = 200, description = "the package file", content_type = "application/octet-stream"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn package_file(c: ApiCaller, ApiPath(id): ApiPath<String>) -> Result<Response, Problem> {
    let f = c.store.package_file(&c.principal, &id).await?;
    let name = format!("{}-{}.vigil", f.record.kind, f.record.package_uid);
    let mut res = f.bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&f.sha256) {
        h.insert("x-vigil-sha256", v);
    }
    Ok(res)
}

/// Verifies, decrypts and imports a package sent as the raw request body:
/// leads (stored in a new case, de-confliction hits reported), outcomes (on
/// the persons we sent), or an acknowledgement of one of ours. A package
/// that fails verification, is not addressed to us, comes from an unknown
/// sender or was already imported is refused (422/409) and changes nothing.
#[utoipa::path(post, path = "/api/packages/import", tag = "dissemination", params(ImportParams),
    request_body(content = Vec<u8>, description = "the package file, as is",
        content_type = "application/octet-stream"),
    responses((status = 200, body = PackageImportOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn import_package(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<ImportParams>,
    body: axum::body::Body,
) -> ApiResult<PackageImportOut> {
    c.store
        .require_capability(
            &c.principal,
            vigil_domain::Capability::Packages,
            "package.import",
        )
        .await?;
    let bytes = axum::body::to_bytes(body, MAX_PACKAGE_BYTES)
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too-large",
                format!("package body: {e} (at most {MAX_PACKAGE_BYTES} bytes)"),
            )
        })?;
    let label = q
        .file_name
        .clone()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| "upload".into());
    let will_ack = q.ack.unwrap_or(false);
    let pass = vigil_store::key_passphrase_from_env();
    let opened = c
        .store
        .open_package(
            &c.principal,
            &label,
            &bytes,
            will_ack,
            unlock(pass.as_ref()),
        )
        .await?;
    Ok(axum::Json(match opened {
        OpenedPackage::Acknowledged(r) => PackageImportOut {
            kind: "ack".into(),
            package: r.into(),
            summary: None,
            ack: None,
        },
        OpenedPackage::Imported(s) => {
            let ack = if will_ack {
                let built = c
                    .store
                    .seal_ack(&c.principal, &s.package.package_uid, unlock(pass.as_ref()))
                    .await?;
                Some(PackageOut::from(built.record))
            } else {
                None
            };
            let mut summary =
                serde_json::to_value(&s).map_err(|e| internal("import summary", e))?;
            if let Some(o) = summary.as_object_mut() {
                o.remove("package");
            }
            PackageImportOut {
                kind: s.package.kind.clone(),
                package: s.package.into(),
                summary: Some(summary),
                ack,
            }
        }
    }))
}

/// Outcome counts of an operation per country and in total: suspects
/// identified, arrested, charged, convicted, pending, deceased, children
/// safeguarded (as `vigil package counts`).
#[utoipa::path(get, path = "/api/packages/counts", tag = "dissemination", params(CountsParams),
    responses((status = 200, body = OperationOutcomesOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn outcome_counts(
    c: ApiCaller,
    ApiQuery(q): ApiQuery<CountsParams>,
) -> ApiResult<OperationOutcomesOut> {
    let o = c.store.outcome_counts(&c.principal, &q.operation).await?;
    Ok(axum::Json(OperationOutcomesOut {
        operation: o.operation,
        by_country: o
            .by_country
            .into_iter()
            .map(|(k, v)| (k, v.into()))
            .collect(),
        total: o.total.into(),
    }))
}
