//! The agency's keys beyond listing them (`GET /api/keys`, in
//! `dissemination`): generate a new pair set, export the public bundle for
//! partners, register a partner's bundle.
//!
//! The secret keys never leave the server through the API: generation
//! answers with the public parts only, and the escrow export of the age
//! identity stays a command-line operation (`vigil keys export
//! --encryption-identity`), so no HTTP response ever carries secret key
//! material. Generation protects the stored secret with the passphrase in
//! `VIGIL_KEY_PASSPHRASE` of the server's environment, exactly as `vigil keys
//! generate` does (the same recipe, `vigil_share::generate_stored_keys`).

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use vigil_share::secrecy::ExposeSecret;

use super::dissemination::PartnerKeyOut;
use super::{ApiJson, ApiResult, ApiRouter};
use crate::auth::ApiCaller;
use crate::problem::Problem;

/// A newly generated key pair set (public parts).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GeneratedKeyOut {
    /// Read it to partners by phone before they trust the bundle.
    pub fingerprint: String,
    pub active: bool,
    pub created_at: String,
    /// Whether the stored secret keys are encrypted with the server's
    /// key-encryption passphrase (`VIGIL_KEY_PASSPHRASE`).
    pub protected: bool,
    /// The public bundle partners import.
    #[schema(value_type = Object)]
    pub public_bundle: serde_json::Value,
}

#[derive(OpenApi)]
#[openapi(
    paths(generate, public_bundle, import_partner),
    components(schemas(GeneratedKeyOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post("/api/keys", generate)
        .get("/api/keys/public", public_bundle)
        .post("/api/keys/partners", import_partner)
}

/// Says once per server process, on its standard error, that keys were
/// stored in clear (as `vigil keys generate` does); the answer's `protected`
/// says it to the caller.
fn warn_clear_keys() {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        eprintln!(
            "vigil serve: warning: the agency's secret keys are stored unencrypted in the \
             database; set {} for the server to encrypt them at rest",
            vigil_share::KEY_PASSPHRASE_ENV
        )
    });
}

fn bundle_value(json: &str) -> Result<serde_json::Value, Problem> {
    serde_json::from_str(json).map_err(|e| {
        eprintln!("vigil serve: a stored public bundle is not JSON: {e}");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the details are in the server log",
        )
    })
}

/// Generates this agency's signing and encryption key pairs (liaison
/// officers and administrators of the agency hosting this instance); the
/// earlier pair stays, inactive, to open old packages.
#[utoipa::path(post, path = "/api/keys", tag = "dissemination",
    responses((status = 201, body = GeneratedKeyOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn generate(c: ApiCaller) -> Result<(StatusCode, axum::Json<GeneratedKeyOut>), Problem> {
    let country = vigil_share::CountryCode::parse(&c.principal.agency_country).map_err(|e| {
        Problem::from(vigil_domain::ValidationError::new(
            "agency country",
            &c.principal.agency_country,
            e.to_string(),
        ))
    })?;
    let generated = vigil_share::generate_stored_keys(
        &c.principal.agency_name,
        country,
        vigil_share::key_passphrase_from_env().as_ref(),
    )
    .map_err(|e| {
        Problem::from(vigil_domain::ValidationError::new(
            "agency",
            &c.principal.agency_name,
            format!("cannot generate keys: {e}"),
        ))
    })?;
    let key = c
        .store
        .store_agency_keys(
            &c.principal,
            generated.fingerprint.as_str(),
            &generated.public_bundle,
            generated.stored_secret.expose_secret(),
        )
        .await?;
    if !generated.protected {
        warn_clear_keys();
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(GeneratedKeyOut {
            fingerprint: key.fingerprint,
            active: key.active,
            created_at: key.created_at,
            protected: generated.protected,
            public_bundle: bundle_value(&key.public_bundle)?,
        }),
    ))
}

/// This agency's active public bundle, as `vigil keys export --out` writes
/// it: give it to partners, who import it and compare the fingerprint.
#[utoipa::path(get, path = "/api/keys/public", tag = "dissemination",
    responses((status = 200, description = "the public bundle (vigil-agency-keys/1)",
               body = Object, content_type = "application/json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn public_bundle(c: ApiCaller) -> Result<impl IntoResponse, Problem> {
    let list = c.store.list_keys(&c.principal).await?;
    let key = list
        .local
        .into_iter()
        .find(|k| k.active)
        .ok_or_else(|| Problem::not_found("this agency has no keys yet: POST /api/keys"))?;
    Ok(axum::Json(bundle_value(&key.public_bundle)?))
}

/// Registers a partner agency's public bundle (the JSON it exported),
/// creating the agency if it is unknown; importing it again changes
/// nothing. Compare the answer's fingerprint with the partner by phone.
#[utoipa::path(post, path = "/api/keys/partners", tag = "dissemination",
    request_body(content = Object, description = "the partner's public bundle (vigil-agency-keys/1)",
                 content_type = "application/json"),
    responses((status = 200, body = PartnerKeyOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn import_partner(
    c: ApiCaller,
    ApiJson(bundle): ApiJson<serde_json::Value>,
) -> ApiResult<PartnerKeyOut> {
    let k = c
        .store
        .import_partner_bundle(&c.principal, &bundle.to_string())
        .await?;
    Ok(axum::Json(PartnerKeyOut {
        agency_id: k.agency_id,
        agency: k.agency,
        country: k.country,
        fingerprint: k.fingerprint,
        imported_at: k.imported_at,
    }))
}
