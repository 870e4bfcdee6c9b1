//! `vigil hashset` and `vigil match`: known-image hash sets and matching
//! (being built: see issue "Hash sets and matching").

use anyhow::Result;
use clap::{Args, Subcommand};
use vigil_store::Store;

use crate::UsageError;
use crate::cli::Global;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum HashsetCmd {
    /// List hash sets with their provenance.
    List,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Match a scan's files against every hash set.
    #[arg(long)]
    pub scan: Option<i64>,
}

pub async fn hashset(_store: &Store, _g: &Global, _out: &Output, _cmd: HashsetCmd) -> Result<()> {
    Err(UsageError("vigil hashset is not available yet".into()).into())
}

pub async fn matching(_store: &Store, _g: &Global, _out: &Output, _args: MatchArgs) -> Result<()> {
    Err(UsageError("vigil match is not available yet".into()).into())
}
