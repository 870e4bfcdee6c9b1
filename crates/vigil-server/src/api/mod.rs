//! The REST API under `/api/`: JSON in and out, errors as problem+json,
//! lists paginated, described by the OpenAPI document at `/api/openapi.json`.
//!
//! Each capability is one module with `routes(ApiRouter) -> ApiRouter` and a
//! `Doc` (`#[derive(OpenApi)]` listing its handlers); register both in
//! [`MODULES`]. Routes go through [`ApiRouter`], which remembers them, so the
//! test `openapi_lists_every_route` fails when a route is not documented.

pub mod agencies;
pub mod alerts;
pub mod audit;
pub mod cases;
pub mod chat;
pub mod dashboard;
pub mod dissemination;
pub mod graph;
pub mod hashsets;
pub mod identifiers;
pub mod keys;
pub mod links;
pub mod me;
pub mod packages;
pub mod persons;
pub mod retention;
pub mod scans;
pub mod tokens;
pub mod types;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, on};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::AppState;
use crate::problem::Problem;

/// One API capability: how it adds its routes and its part of the document.
pub struct Module {
    pub routes: fn(ApiRouter) -> ApiRouter,
    pub doc: fn() -> utoipa::openapi::OpenApi,
}

/// Every API module. Add yours here (one line).
pub const MODULES: &[Module] = &[
    Module {
        routes: me::routes,
        doc: me::Doc::openapi,
    },
    Module {
        routes: agencies::routes,
        doc: agencies::Doc::openapi,
    },
    Module {
        routes: cases::routes,
        doc: cases::Doc::openapi,
    },
    Module {
        routes: persons::routes,
        doc: persons::Doc::openapi,
    },
    Module {
        routes: identifiers::routes,
        doc: identifiers::Doc::openapi,
    },
    Module {
        routes: dashboard::routes,
        doc: dashboard::Doc::openapi,
    },
    Module {
        routes: links::routes,
        doc: links::Doc::openapi,
    },
    Module {
        routes: alerts::routes,
        doc: alerts::Doc::openapi,
    },
    Module {
        routes: dissemination::routes,
        doc: dissemination::Doc::openapi,
    },
    Module {
        routes: audit::routes,
        doc: audit::Doc::openapi,
    },
    Module {
        routes: graph::routes,
        doc: graph::Doc::openapi,
    },
    Module {
        routes: chat::routes,
        doc: chat::Doc::openapi,
    },
    Module {
        routes: scans::routes,
        doc: scans::Doc::openapi,
    },
    Module {
        routes: hashsets::routes,
        doc: hashsets::Doc::openapi,
    },
    Module {
        routes: tokens::routes,
        doc: tokens::Doc::openapi,
    },
    Module {
        routes: retention::routes,
        doc: retention::Doc::openapi,
    },
    Module {
        routes: keys::routes,
        doc: keys::Doc::openapi,
    },
    Module {
        routes: packages::routes,
        doc: packages::Doc::openapi,
    },
];

/// A router that records `(method, path)` of every route it is given.
pub struct ApiRouter {
    router: Router<AppState>,
    routes: Vec<(Method, String)>,
}

impl Default for ApiRouter {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiRouter {
    pub fn new() -> Self {
        ApiRouter {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    /// Adds a route; `path` is the full path (`/api/...`, axum `{param}`
    /// syntax, the same as OpenAPI's).
    pub fn route<H, T>(mut self, method: Method, path: &str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .unwrap_or(axum::routing::MethodFilter::GET);
        let mr: MethodRouter<AppState> = on(filter, handler);
        self.router = self.router.route(path, mr);
        self.routes.push((method, path.to_string()));
        self
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H) -> Self {
        self.route(Method::GET, path, h)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H) -> Self {
        self.route(Method::POST, path, h)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H) -> Self {
        self.route(Method::DELETE, path, h)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &str, h: H) -> Self {
        self.route(Method::PATCH, path, h)
    }

    /// The recorded routes, for the documentation and authorisation tests.
    pub fn routes(&self) -> &[(Method, String)] {
        &self.routes
    }

    /// The axum router with every recorded route.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// All API routes, recorded.
pub fn api_router() -> ApiRouter {
    let mut r = ApiRouter::new().get("/api/openapi.json", openapi_json);
    for m in MODULES {
        r = (m.routes)(r);
    }
    r
}

/// The API as an axum router; unknown `/api/` paths answer problem+json.
pub fn router() -> Router<AppState> {
    api_router()
        .router
        .route("/api", axum::routing::any(api_not_found))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
}

async fn api_not_found() -> Problem {
    Problem::not_found("no such API endpoint")
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vigil API",
        description = "Records, identifiers, events and audit of the Vigil investigation system. \
            Every call is authorised for the caller (API token as `Authorization: Bearer …`, \
            or the web session cookie) and audited. Records of other agencies that are not \
            released to the caller are reported as not found.",
        license(name = "Apache-2.0")
    ),
    paths(openapi_json),
    components(schemas(Problem)),
    modifiers(&Security),
    security(("bearer" = []), ("session" = []))
)]
struct RootDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("API token from `vigil token create`"))
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

/// The whole OpenAPI 3 document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = RootDoc::openapi();
    for m in MODULES {
        doc.merge((m.doc)());
    }
    doc
}

/// The OpenAPI document of this API.
#[utoipa::path(get, path = "/api/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3 document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi())
}

// ----- extractors whose rejections are problem+json ----------------------

/// `Json<T>` whose rejection is a problem document.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Problem> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

/// `Query<T>` whose rejection is a problem document.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

/// `Path<T>` whose rejection is a problem document.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(Problem::bad_request(e.body_text())),
        }
    }
}

// ----- pagination ----------------------------------------------------------

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// `?limit=&offset=` on every list.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Which slice of a list a page is.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct PageInfo {
    /// All items the caller may see.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
    /// The next page's query string (`?limit=…&offset=…`), if there is one.
    pub next: Option<String>,
}

impl PageParams {
    /// Cuts one page out of a full list.
    pub fn apply<T>(&self, items: Vec<T>) -> Result<(Vec<T>, PageInfo), Problem> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(Problem::bad_request(format!(
                "limit must be between 1 and {MAX_LIMIT}"
            )));
        }
        let offset = self.offset.unwrap_or(0);
        let offset = u64::try_from(offset)
            .map_err(|_| Problem::bad_request("offset must not be negative"))?;
        let total = items.len() as u64;
        let page: Vec<T> = items
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .collect();
        let end = offset.saturating_add(page.len() as u64);
        let next = (end < total).then(|| format!("?limit={limit}&offset={end}"));
        Ok((
            page,
            PageInfo {
                total,
                limit,
                offset,
                next,
            },
        ))
    }
}

/// Declares a page type `Name { items: Vec<Item>, page: PageInfo }`.
#[macro_export]
macro_rules! page_of {
    ($name:ident, $item:ty) => {
        /// One page of a list.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            pub page: $crate::api::PageInfo,
        }

        impl $name {
            pub fn of<S: Into<$item>>(
                all: Vec<S>,
                params: &$crate::api::PageParams,
            ) -> Result<Self, $crate::problem::Problem> {
                let (items, page) = params.apply(all)?;
                Ok($name {
                    items: items.into_iter().map(Into::into).collect(),
                    page,
                })
            }
        }
    };
}

/// What handlers return.
pub type ApiResult<T> = Result<axum::Json<T>, Problem>;
