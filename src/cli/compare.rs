//! `redflag compare`: the score of two names, or of every pair in a CSV (`--pairs`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use redflag::error::{Error, Location};
use redflag::model::EntityKind;
use redflag::score::compare_names;

use super::ListArgs;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Compare as person, org, vessel, or any.
    #[arg(long, default_value = "any")]
    pub kind: String,
    /// A CSV with columns name1,name2 (and optional schema); writes them back with score and match.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["name_a", "name_b"])]
    pub pairs: Option<PathBuf>,
    #[arg(required_unless_present = "pairs")]
    pub name_a: Option<String>,
    #[arg(required_unless_present = "pairs")]
    pub name_b: Option<String>,
    #[command(flatten)]
    pub lists: ListArgs,
}

fn parse_kind(s: &str) -> Result<EntityKind> {
    EntityKind::parse(s).ok_or_else(|| {
        Error::Usage(format!("unknown kind `{s}` (person, org, vessel, any)")).into()
    })
}

pub fn run(args: CompareArgs) -> Result<i32> {
    let policy = args.lists.load_policy()?;
    let threshold = policy.thresholds.review;
    let kind = parse_kind(&args.kind)?;
    if let Some(path) = &args.pairs {
        return pairs(path, kind, threshold);
    }
    let (a, b) = (
        args.name_a.unwrap_or_default(),
        args.name_b.unwrap_or_default(),
    );
    let m = compare_names(&a, &b, kind);
    let decision = if m.score >= policy.thresholds.block {
        "match (block band)"
    } else if m.score >= threshold {
        "match (review band)"
    } else {
        "no match"
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "score: {:.3}", m.score)?;
    writeln!(out, "decision: {decision}")?;
    writeln!(out, "explanation: {m}")?;
    Ok(0)
}

fn pairs(path: &PathBuf, default_kind: EntityKind, threshold: f32) -> Result<i32> {
    let file = path.display().to_string();
    let mut rdr = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::data(Location::new(&file), format!("{other:?}")),
    })?;
    let headers = rdr.headers().with_context(|| file.clone())?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(c1), Some(c2)) = (col("name1"), col("name2")) else {
        return Err(Error::data(
            Location::new(&file).line(1),
            "expected columns name1 and name2",
        )
        .into());
    };
    let schema = col("schema");
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    let mut out_headers: Vec<&str> = headers.iter().collect();
    out_headers.extend(["score", "match"]);
    w.write_record(&out_headers)?;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(i as u64 + 2);
            Error::data(Location::new(&file).line(line), e.to_string())
        })?;
        let kind = match schema.and_then(|s| rec.get(s)) {
            Some(s) if !s.trim().is_empty() => EntityKind::parse(s).unwrap_or(default_kind),
            _ => default_kind,
        };
        let m = compare_names(rec.get(c1).unwrap_or(""), rec.get(c2).unwrap_or(""), kind);
        let mut row: Vec<String> = rec.iter().map(str::to_string).collect();
        row.push(format!("{:.4}", m.score));
        row.push((m.score >= threshold).to_string());
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(0)
}
