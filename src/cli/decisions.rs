//! `redflag decisions list|export|import`: decisions out of and into the store as CSV.
//! Import is all or nothing: the first bad row (unknown entity, disposition...) is an error
//! naming the file and line, and nothing of the file is stored.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use redflag::error::Error;
use redflag::store::decisions;
use redflag::store::Added;

use super::{ListArgs, StoreArgs};

#[derive(Args, Debug)]
pub struct DecisionsArgs {
    #[command(subcommand)]
    pub command: DecisionsCommand,
}

#[derive(Subcommand, Debug)]
pub enum DecisionsCommand {
    /// One line per decision, oldest first.
    List(StoreArgs),
    /// Every decision as CSV (to stdout, or -o FILE).
    Export {
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Import decisions from a CSV: an export, or the CSV `redflag screen` wrote with a
    /// `disposition` column (and `reason`) filled in.
    Import {
        file: PathBuf,
        /// Who decided, for rows without a decided_by column.
        #[arg(long, value_name = "WHO")]
        by: Option<String>,
        #[command(flatten)]
        lists: ListArgs,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub fn run(args: DecisionsArgs) -> Result<i32> {
    match args.command {
        DecisionsCommand::List(store) => {
            let all = store.require()?.decisions(None)?;
            let mut out = std::io::stdout().lock();
            for d in &all {
                let expires = d
                    .expires_at
                    .as_deref()
                    .map(|e| format!(" until {e}"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}:{} ({})\t`{}`{}{}\tby {} at {}{expires}: {}",
                    d.id,
                    d.disposition,
                    d.list,
                    d.entity_id,
                    d.entity_name,
                    d.name,
                    d.country
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default(),
                    d.address
                        .as_deref()
                        .map(|a| format!(", {a}"))
                        .unwrap_or_default(),
                    d.decided_by,
                    d.decided_at,
                    d.reason
                )?;
            }
            Ok(0)
        }
        DecisionsCommand::Export { output, store } => {
            let all = store.require()?.decisions(None)?;
            match output {
                Some(p) => {
                    let f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
                    decisions::export(&all, std::io::BufWriter::new(f))?;
                }
                None => decisions::export(&all, std::io::stdout().lock())?,
            }
            Ok(0)
        }
        DecisionsCommand::Import {
            file,
            by,
            lists,
            store,
        } => {
            let mut store = store.require()?;
            let wl = lists.entities()?;
            let now = redflag::freshness::rfc3339(std::time::SystemTime::now());
            let records = decisions::read_import(&file, &wl, by.as_deref(), &now)?;
            let added = store.add_decisions(&records)?;
            let new = added.iter().filter(|a| matches!(a, Added::New(_))).count();
            eprintln!(
                "redflag: imported {new} decisions from {} ({} already in force)",
                file.display(),
                added.len() - new
            );
            Ok(0)
        }
    }
}
