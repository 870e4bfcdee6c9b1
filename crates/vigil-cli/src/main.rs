//! `vigil`: the command line. It parses arguments, opens the store, resolves
//! the acting user and hands over to one `commands` function per
//! subcommand; everything it knows about records comes from `vigil-store`.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

/// Input the caller got wrong (exit code 2), as opposed to a failure of the
/// system (exit code 1).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<UsageError>().is_some()
            || cause
                .downcast_ref::<vigil_domain::ValidationError>()
                .is_some()
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<vigil_store::StoreError>() {
            return if e.is_user_error() { 2 } else { 1 };
        }
    }
    1
}

fn main() -> ExitCode {
    // Hidden: the authorisation matrix test enumerates the grammar this way.
    if std::env::args().nth(1).as_deref() == Some("__list-commands") {
        for c in cli::leaf_commands() {
            println!("{c}");
        }
        return ExitCode::SUCCESS;
    }
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut msg = format!("error: {err}");
            for cause in err.chain().skip(1) {
                let text = cause.to_string();
                if !msg.contains(&text) {
                    msg.push_str(&format!(": {text}"));
                }
            }
            eprintln!("{msg}");
            ExitCode::from(exit_code(&err))
        }
    }
}
