//! `vigil keys`, `vigil attribute`, `vigil package`: dissemination to other
//! agencies (being built: see issue "Dissemination").

use anyhow::Result;
use clap::{Args, Subcommand};
use vigil_store::Store;

use crate::UsageError;
use crate::cli::Global;
use crate::output::Output;

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// List this agency's keys and the registered partner keys.
    List,
}

#[derive(Debug, Subcommand)]
pub enum PackageCmd {
    /// List packages built and received, with their states.
    List,
}

#[derive(Debug, Args)]
pub struct AttributeArgs {
    #[arg(long)]
    pub operation: String,
}

pub async fn keys(_store: &Store, _g: &Global, _out: &Output, _cmd: KeysCmd) -> Result<()> {
    Err(UsageError("vigil keys is not available yet".into()).into())
}

pub async fn package(_store: &Store, _g: &Global, _out: &Output, _cmd: PackageCmd) -> Result<()> {
    Err(UsageError("vigil package is not available yet".into()).into())
}

pub async fn attribute(
    _store: &Store,
    _g: &Global,
    _out: &Output,
    _args: AttributeArgs,
) -> Result<()> {
    Err(UsageError("vigil attribute is not available yet".into()).into())
}
