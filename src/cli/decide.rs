//! `redflag decide`: records one analyst decision (a screened party against one listed entity).
//! The entity is checked against the watchlists, and its fingerprint recorded with the decision.

use anyhow::Result;
use clap::Args;

use redflag::model::Address;
use redflag::store::decisions::DecisionInput;
use redflag::store::Added;

use super::{ListArgs, StoreArgs};

#[derive(Args, Debug)]
pub struct DecideArgs {
    /// The screened party's name, as screened.
    #[arg(long)]
    pub name: String,
    /// The party's country (ISO code or name), when it was screened with one.
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// The party's address as one line (street, postal code, city; order and punctuation do not matter).
    #[arg(long, value_name = "TEXT")]
    pub address: Option<String>,
    /// The listed entity: its id as `entity_id` shows it in `screen` output, or LIST:ID.
    #[arg(long, value_name = "ID")]
    pub entity: String,
    /// The list of the entity, when its id is in several lists.
    #[arg(long, value_name = "NAME")]
    pub list: Option<String>,
    /// false-positive, true-match or escalated.
    #[arg(long, value_name = "D")]
    pub disposition: String,
    /// Why: kept with the decision and in exports.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Who decided.
    #[arg(long, value_name = "WHO")]
    pub by: String,
    /// The decision stops applying at this date (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: DecideArgs) -> Result<i32> {
    let mut store = args.store.require()?;
    let wl = args.lists.entities()?;
    let now = redflag::freshness::rfc3339(std::time::SystemTime::now());
    let input = DecisionInput {
        name: args.name,
        country: args.country,
        address: args.address.map(|text| Address {
            text,
            ..Default::default()
        }),
        list: args.list,
        entity: args.entity,
        disposition: args.disposition,
        reason: args.reason,
        by: args.by,
        expires: args.expires,
    };
    let record = input
        .into_record(&wl, &now)
        .map_err(redflag::Error::Usage)?;
    let added = store.add_decisions(std::slice::from_ref(&record))?;
    let what = format!(
        "{} on {}:{} ({}) for `{}`",
        record.disposition, record.list, record.entity_id, record.entity_name, record.name
    );
    match added.first() {
        Some(Added::New(id)) => println!("decision {id}: {what}"),
        Some(Added::Unchanged(id)) => println!("decision {id} already says so: {what}"),
        None => {}
    }
    Ok(0)
}
