//! `redflag rescreen`: screens the parties the store has seen against the current lists and
//! prints only new or changed alerts (JSON lines), with the exit code of the worst of them.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use redflag::store::{rescreen, DecisionBook};

use super::{ListArgs, StoreArgs};

#[derive(Args, Debug)]
pub struct RescreenArgs {
    /// No summary on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: RescreenArgs) -> Result<i32> {
    let mut store = args.store.require()?;
    let screener = args.lists.screener()?;
    let book = DecisionBook::new(store.decisions(None)?, std::time::SystemTime::now());
    let outcome = rescreen::rescreen(store.as_mut(), &screener, &book)?;
    let mut out = std::io::stdout().lock();
    for a in &outcome.alerts {
        serde_json::to_writer(&mut out, a)?;
        writeln!(out)?;
    }
    out.flush()?;
    if !args.quiet {
        eprintln!(
            "redflag: rescreened {} parties against {}: {} with new or changed alerts (run {})",
            outcome.parties,
            screener.watchlist.summary(),
            outcome.alerts.len(),
            outcome.run
        );
    }
    Ok(super::decision_exit(outcome.worst()))
}
