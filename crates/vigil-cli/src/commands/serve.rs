//! `vigil serve` (the web application and REST API) and `vigil token`
//! (API tokens for it).

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use vigil_store::Store;

use crate::UsageError;
use crate::cli::Global;
use crate::output::{Output, table};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Send cookies without the Secure flag, for plain HTTP on localhost
    /// (development, or behind a TLS proxy on the same host). Refused for
    /// non-loopback addresses.
    #[arg(long)]
    pub insecure_cookies: bool,
    /// Session lifetime in minutes.
    #[arg(long, default_value_t = 480)]
    pub session_minutes: i64,
}

pub async fn serve(store: &Store, g: &Global, out: &Output, args: ServeArgs) -> Result<()> {
    let addr: std::net::SocketAddr = args
        .addr
        .parse()
        .map_err(|_| UsageError(format!("--addr {:?} is not HOST:PORT", args.addr)))?;
    if args.insecure_cookies && !addr.ip().is_loopback() {
        return Err(
            UsageError("--insecure-cookies is only allowed on a loopback address".into()).into(),
        );
    }
    if !(1..=7 * 24 * 60).contains(&args.session_minutes) {
        return Err(UsageError("--session-minutes must be between 1 and 10080".into()).into());
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let config = vigil_server::Config {
        secure_cookies: !args.insecure_cookies,
        session_ttl_seconds: args.session_minutes * 60,
        search_dir: Some(super::chat::index_dir(g)),
    };
    out.emit(&serde_json::json!({"listening": local.to_string()}), |_| {
        eprintln!("vigil: serving on http://{local}/ (API: /api/, OpenAPI: /api/openapi.json)")
    })?;
    vigil_server::serve(store.clone(), config, listener)
        .await
        .context("server failed")
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for the acting user; it is printed once.
    Create {
        /// A name to recognise the token by.
        #[arg(long)]
        name: String,
        /// Expire after this many days (default: never).
        #[arg(long)]
        expires_days: Option<i64>,
    },
    /// List your tokens (administrators: the agency's).
    List,
    /// Revoke a token by id.
    Revoke { id: i64 },
}

pub async fn token(store: &Store, g: &Global, out: &Output, args: TokenArgs) -> Result<()> {
    let p = super::acting(store, g).await?;
    match args.command {
        TokenCommand::Create { name, expires_days } => {
            let (t, secret) = store.create_api_token(&p, &name, expires_days).await?;
            out.emit(&serde_json::json!({"token": t, "secret": secret}), |_| {
                println!("{secret}");
                eprintln!(
                    "token {} ({}) created{}; it is shown only once — store it now",
                    t.id,
                    t.name,
                    t.expires_at
                        .as_deref()
                        .map(|e| format!(", expires {e}"))
                        .unwrap_or_default()
                );
            })
        }
        TokenCommand::List => {
            let ts = store.list_api_tokens(&p).await?;
            out.emit(&ts, |ts| {
                table(
                    &[
                        "id",
                        "user",
                        "name",
                        "created",
                        "expires",
                        "revoked",
                        "last used",
                    ],
                    ts.iter()
                        .map(|t| {
                            vec![
                                t.id.to_string(),
                                t.user.clone(),
                                t.name.clone(),
                                t.created_at.clone(),
                                t.expires_at.clone().unwrap_or_default(),
                                t.revoked_at.clone().unwrap_or_default(),
                                t.last_used_at.clone().unwrap_or_default(),
                            ]
                        })
                        .collect(),
                )
            })
        }
        TokenCommand::Revoke { id } => {
            let t = store.revoke_api_token(&p, id).await?;
            out.emit(&t, |t| println!("token {} ({}) revoked", t.id, t.name))
        }
    }
}
