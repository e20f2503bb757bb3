//! `redflag check`: the pre-shipment check. One shipment in, one answer out; the exit code is the
//! answer (0 clear, 1 review, 2 block; 64 and up: the check could not be made), the output the
//! evidence. This file only reads arguments and prints; the check is `redflag::shipment::check`.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use clap::{Args, ValueEnum};

use redflag::error::{exit, Error};
use redflag::freshness;
use redflag::policy::Decision;
use redflag::rules::RULES;
use redflag::screen::{Party, PartyResult};
use redflag::shipment::{self, AddressInput, CheckResult, PartyInput, Shipment, ShipmentInput};

use super::{ListArgs, StoreArgs};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// A shipment JSON document (schemas/shipment.schema.json); `-` reads stdin.
    #[arg(value_name = "SHIPMENT.json")]
    pub document: Option<String>,
    /// Shipment id (with party flags).
    #[arg(long)]
    pub id: Option<String>,
    /// Shipper name.
    #[arg(long, value_name = "NAME")]
    pub shipper: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub shipper_address: Option<String>,
    #[arg(long, value_name = "COUNTRY")]
    pub shipper_country: Option<String>,
    /// Consignee name.
    #[arg(long, value_name = "NAME")]
    pub consignee: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub consignee_address: Option<String>,
    #[arg(long, value_name = "COUNTRY")]
    pub consignee_country: Option<String>,
    /// End user name.
    #[arg(long, value_name = "NAME")]
    pub end_user: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub end_user_address: Option<String>,
    #[arg(long, value_name = "COUNTRY")]
    pub end_user_country: Option<String>,
    /// Notify party name.
    #[arg(long, value_name = "NAME")]
    pub notify: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub notify_address: Option<String>,
    #[arg(long, value_name = "COUNTRY")]
    pub notify_country: Option<String>,
    /// Forwarder name.
    #[arg(long, value_name = "NAME")]
    pub forwarder: Option<String>,
    #[arg(long, value_name = "ADDRESS")]
    pub forwarder_address: Option<String>,
    #[arg(long, value_name = "COUNTRY")]
    pub forwarder_country: Option<String>,
    /// HS code of the goods, with or without dots (repeatable).
    #[arg(long = "hs-code", value_name = "CODE")]
    pub hs_codes: Vec<String>,
    /// Route as comma-separated ISO country codes, in order (`DE,KZ,RU`).
    #[arg(long, value_name = "CC,CC,...")]
    pub route: Option<String>,
    /// Destination country.
    #[arg(long, value_name = "COUNTRY")]
    pub destination: Option<String>,
    /// A shipment CSV export (with --shipment): the rows with that shipment id are the shipment.
    #[arg(long, value_name = "FILE", requires = "shipment")]
    pub input: Option<String>,
    /// The shipment id to check in --input.
    #[arg(long, value_name = "ID", requires = "input")]
    pub shipment: Option<String>,
    /// Output: `text` (the default on a terminal) or `json` (the default otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Refuse (exit 69) a watchlist file older than this, by its publication date, else its
    /// modification time: `7d`, `12h`, or seconds. The built-in seed list is exempt.
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = parse_age)]
    pub max_age: Duration,
    /// Print the policy in force (defaults or --policy) as TOML and exit.
    #[arg(long)]
    pub explain_policy: bool,
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_age(s: &str) -> Result<Duration, String> {
    freshness::parse_duration(s).map_err(|e| e.to_string())
}

pub fn run(args: CheckArgs) -> Result<i32> {
    if args.explain_policy {
        let policy = args.lists.load_policy()?;
        let mut out = std::io::stdout().lock();
        match &args.lists.policy {
            Some(p) => writeln!(out, "# redflag policy in force: {}", p.display())?,
            None => writeln!(out, "# redflag policy in force: built-in defaults")?,
        }
        writeln!(
            out,
            "# [rules.<name>] enabled = true|false, severity = \"review\"|\"block\""
        )?;
        for r in &RULES {
            writeln!(out, "#   {}: {}", r.name, r.description)?;
        }
        writeln!(out)?;
        write!(out, "{}", policy.to_toml())?;
        return Ok(exit::CLEAR);
    }
    let shipment = read_shipment(&args)?;
    let mut store = args.store.open()?;
    let screener = args.lists.screener()?;
    // Measured against each source list's date (recorded in an index file), never the index's.
    freshness::ensure_fresh(&screener.watchlist, args.max_age, SystemTime::now())?;
    let mut result = shipment::check(&screener, &shipment);
    if let Some(store) = store.as_mut() {
        let parties: Vec<&Party> = shipment.parties.iter().collect();
        let book = redflag::store::decisions::book_for(store.as_mut(), &parties)?;
        result.apply_decisions(&screener, &book);
        let answered: Vec<(u64, &Party, &PartyResult)> = result
            .parties
            .iter()
            .enumerate()
            .map(|(i, p)| (i as u64 + 1, &p.party, &p.result))
            .collect();
        let input = args
            .document
            .clone()
            .or(args.input.clone())
            .unwrap_or_else(|| "command line".into());
        redflag::store::audit::record_run(
            store.as_mut(),
            &screener,
            "check",
            &input,
            redflag::store::audit::value_hash(&shipment),
            1,
            &answered,
        )?;
    }
    // The process ends after printing: freeing the indexes one allocation at a time would cost
    // a fifth of a short check's time, and the OS takes the memory back anyway.
    std::mem::forget(screener);

    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Text
    } else {
        Format::Json
    });
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &result)?;
            writeln!(out)?;
        }
        Format::Text => write_text(&mut out, &result)?,
    }
    out.flush()?;
    if result.decision == Decision::Error {
        eprintln!(
            "redflag: the check could not be made: {}",
            result.errors.join("; ")
        );
    }
    Ok(super::decision_exit(result.decision))
}

/// The shipment from exactly one of: a JSON document, `--input/--shipment`, or party flags.
fn read_shipment(a: &CheckArgs) -> Result<Shipment> {
    let flag_parties = [
        (
            "shipper",
            &a.shipper,
            &a.shipper_address,
            &a.shipper_country,
        ),
        (
            "consignee",
            &a.consignee,
            &a.consignee_address,
            &a.consignee_country,
        ),
        (
            "end_user",
            &a.end_user,
            &a.end_user_address,
            &a.end_user_country,
        ),
        ("notify", &a.notify, &a.notify_address, &a.notify_country),
        (
            "forwarder",
            &a.forwarder,
            &a.forwarder_address,
            &a.forwarder_country,
        ),
    ];
    let any_flag = flag_parties
        .iter()
        .any(|(_, n, ad, c)| n.is_some() || ad.is_some() || c.is_some())
        || a.id.is_some()
        || !a.hs_codes.is_empty()
        || a.route.is_some()
        || a.destination.is_some();
    let sources =
        usize::from(a.document.is_some()) + usize::from(a.input.is_some()) + usize::from(any_flag);
    if sources != 1 {
        return Err(Error::Usage(
            "give the shipment one way: a JSON document (or `-`), --input FILE --shipment ID, \
             or party flags (--shipper, --consignee, ... --hs-code, --route, --destination)"
                .into(),
        )
        .into());
    }
    if let Some(doc) = &a.document {
        let (origin, text) = if doc == "-" {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("<stdin>", e))?;
            ("<stdin>".to_string(), s)
        } else {
            let text = std::fs::read_to_string(doc).map_err(|e| Error::io(doc, e))?;
            (doc.clone(), text)
        };
        return Ok(Shipment::from_json(&text, &origin)?);
    }
    if let (Some(file), Some(id)) = (&a.input, &a.shipment) {
        let input: Box<dyn Read> = if file == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(file).map_err(|e| Error::io(file, e))?,
            ))
        };
        let name = if file == "-" {
            "<stdin>"
        } else {
            file.as_str()
        };
        return Ok(Shipment::from_csv(input, name, id)?);
    }
    let mut parties = Vec::new();
    for (role, name, address, country) in flag_parties {
        match name {
            Some(name) => parties.push(PartyInput {
                role: role.to_string(),
                name: name.clone(),
                address: address.clone().map(AddressInput::Line),
                country: country.clone(),
            }),
            None if address.is_some() || country.is_some() => {
                return Err(Error::Usage(format!(
                    "--{0}-address and --{0}-country need --{0} NAME",
                    role.replace('_', "-")
                ))
                .into())
            }
            None => {}
        }
    }
    let input = ShipmentInput {
        id: a.id.clone(),
        parties,
        hs_codes: a
            .hs_codes
            .iter()
            .flat_map(|c| shipment::split_hs_codes(c))
            .map(str::to_string)
            .collect(),
        route: shipment::RouteInput::Text(a.route.clone().unwrap_or_default()),
        destination: a.destination.clone(),
    };
    Ok(input.validate("command line")?)
}

/// The human summary: the decision first, then each party with its best hit, then each flag.
fn write_text(out: &mut impl Write, r: &CheckResult) -> std::io::Result<()> {
    let id =
        r.id.as_deref()
            .map(|i| format!(" shipment {i}"))
            .unwrap_or_default();
    writeln!(out, "{}{id}", r.decision.as_str().to_uppercase())?;
    for e in &r.errors {
        writeln!(out, "  could not check: {e}")?;
    }
    writeln!(out, "parties:")?;
    for p in &r.parties {
        let country = p
            .party
            .country
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<7} {:<10} {}{country}",
            p.result.decision.as_str(),
            p.party.role,
            p.party.name
        )?;
        if let Some(h) = p.result.hits.first() {
            writeln!(
                out,
                "          {} hit {:.2} on `{}` [{}:{}]: {}",
                format!("{:?}", h.kind).to_lowercase(),
                h.score,
                h.entity_name,
                h.list,
                h.entity_id,
                h.explanation
            )?;
        }
        if p.result.hits.len() > 1 {
            writeln!(out, "          (+{} more hits)", p.result.hits.len() - 1)?;
        }
    }
    if !r.flags.is_empty() {
        writeln!(out, "rules:")?;
        for f in &r.flags {
            writeln!(out, "  {:<7} {}", f.severity.as_str(), f.rule)?;
            for e in &f.evidence {
                writeln!(out, "          {e}")?;
            }
        }
    }
    let lists: Vec<String> = r
        .lists
        .iter()
        .map(|l| format!("{} {} ({} entities)", l.name, l.version, l.entities))
        .collect();
    writeln!(out, "lists: {}", lists.join("; "))
}
