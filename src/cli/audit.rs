//! `redflag audit verify|show|report`: checks the hash chain of the audit trail, or prints one
//! run as JSON or as the HTML report.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};

use redflag::store::audit;

use super::StoreArgs;

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every record; exit 65 naming the first one edited, deleted or out of the chain.
    Verify(StoreArgs),
    /// What a run saw and answered (JSON): lists, policy, status, counts, every party's result.
    Show {
        /// The run id (`R1`, ... as `screen` and `audit verify` print them).
        run: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The HTML report of a stored run (as `screen --report` writes it), from the audit trail.
    Report {
        /// The run id.
        run: String,
        /// Write the report here (default: stdout).
        #[arg(short, long, value_name = "FILE.html")]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: AuditArgs) -> Result<i32> {
    match args.command {
        AuditCommand::Verify(store) => {
            let v = audit::verify(store.require()?.as_mut())?;
            println!(
                "audit trail intact: {} records, {} runs; head {}",
                v.records, v.runs, v.head
            );
            Ok(0)
        }
        AuditCommand::Show { run, store } => {
            let shown = audit::show(store.require()?.as_mut(), &run)?;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &shown)?;
            writeln!(out)?;
            Ok(0)
        }
        AuditCommand::Report { run, output, store } => {
            let report = audit::report_run(store.require()?.as_mut(), &run)?;
            let html = redflag::report::render(&report);
            match output {
                Some(path) => {
                    std::fs::write(&path, html).map_err(|e| redflag::Error::io(&path, e))?
                }
                None => std::io::stdout().lock().write_all(html.as_bytes())?,
            }
            Ok(0)
        }
    }
}
