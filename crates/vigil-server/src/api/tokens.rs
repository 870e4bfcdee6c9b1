//! API tokens: create (the secret is in that one answer only), list (never
//! the secret — the store keeps only its hash), revoke.
//!
//! Every user manages their own tokens; agency administrators also see and
//! revoke their agency's (the store decides, as for `vigil token`).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, ApiRouter, PageParams};
use crate::auth::ApiCaller;
use crate::page_of;
use crate::problem::Problem;

/// An API token as listed: who holds it and its state, never the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenOut {
    pub id: i64,
    /// The user the token acts as.
    pub user: String,
    pub name: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

impl From<vigil_store::ApiToken> for TokenOut {
    fn from(t: vigil_store::ApiToken) -> Self {
        let vigil_store::ApiToken {
            id,
            user,
            name,
            created_at,
            expires_at,
            revoked_at,
            last_used_at,
        } = t;
        TokenOut {
            id,
            user,
            name,
            created_at,
            expires_at,
            revoked_at,
            last_used_at,
        }
    }
}

page_of!(TokenPage, TokenOut);

/// A token to create for the caller.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenIn {
    /// A name to recognise the token by.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Expire after this many days (1–3650; default never).
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_days: Option<i64>,
}

/// A new token and its secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedTokenOut {
    pub token: TokenOut,
    /// Send as `Authorization: Bearer …`. Not retrievable later: the server
    /// keeps only its hash.
    pub secret: String,
}

#[derive(OpenApi)]
#[openapi(
    paths(create_token, list_tokens, revoke_token),
    components(schemas(TokenOut, TokenPage, NewTokenIn, CreatedTokenOut))
)]
pub struct Doc;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post("/api/tokens", create_token)
        .get("/api/tokens", list_tokens)
        .delete("/api/tokens/{id}", revoke_token)
}

/// Creates an API token for the caller; the secret is in this answer only.
#[utoipa::path(post, path = "/api/tokens", tag = "auth", request_body = NewTokenIn,
    responses((status = 201, body = CreatedTokenOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_token(
    c: ApiCaller,
    ApiJson(body): ApiJson<NewTokenIn>,
) -> Result<(StatusCode, axum::Json<CreatedTokenOut>), Problem> {
    let (token, secret) = c
        .store
        .create_api_token(&c.principal, &body.name, body.expires_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedTokenOut {
            token: token.into(),
            secret,
        }),
    ))
}

/// The caller's tokens (administrators: their agency's), without secrets.
#[utoipa::path(get, path = "/api/tokens", tag = "auth", params(PageParams),
    responses((status = 200, body = TokenPage),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_tokens(c: ApiCaller, ApiQuery(pp): ApiQuery<PageParams>) -> ApiResult<TokenPage> {
    let all = c.store.list_api_tokens(&c.principal).await?;
    Ok(axum::Json(TokenPage::of(all, &pp)?))
}

/// Revokes a token (the caller's own; administrators: their agency's). The
/// record stays, with its revocation time, for the audit trail.
#[utoipa::path(delete, path = "/api/tokens/{id}", tag = "auth",
    params(("id" = i64, Path, description = "token id")),
    responses((status = 200, body = TokenOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn revoke_token(c: ApiCaller, ApiPath(id): ApiPath<i64>) -> ApiResult<TokenOut> {
    let t = c.store.revoke_api_token(&c.principal, id).await?;
    Ok(axum::Json(t.into()))
}
