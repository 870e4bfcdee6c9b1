//! `vigil serve`: the web application and REST API (being built: see issue
//! "The web application").

use anyhow::Result;
use clap::Args;
use vigil_store::Store;

use crate::UsageError;
use crate::cli::Global;
use crate::output::Output;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

pub async fn serve(_store: &Store, _g: &Global, _out: &Output, _args: ServeArgs) -> Result<()> {
    Err(UsageError("vigil serve is not available yet".into()).into())
}
