//! `redflag screen`: batch screening of a shipment CSV or JSON-lines export (or stdin) into CSV or
//! JSON lines.

use std::fs::File;
use std::io::{BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, ValueEnum};

use redflag::batch;
use redflag::encoding::InputEncoding;
use redflag::error::Error;
use redflag::input::{self, InputFormat, InputOptions};
use redflag::output::{OutputFormat, ResultWriter};
use redflag::report;
use redflag::store::audit::{HashingReader, InputHash, RunRecorder};
use redflag::store::DecisionBook;

use super::{ListArgs, StoreArgs};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ScreenArgs {
    /// The shipment export to screen; `-` reads stdin.
    pub input: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Input format: CSV, or JSON lines (one object per line, keys are column names).
    #[arg(long, value_enum, default_value = "csv")]
    pub input_format: Format,
    /// Input encoding: utf-8, utf-16le, utf-16be, windows-1251, windows-1252 (detected when not given).
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// Write results here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Party columns: ROLE=COLUMN[,ADDRESS_COLUMNS...] (repeatable); replaces header detection.
    #[arg(long, value_name = "ROLE=COLUMN")]
    pub party: Vec<String>,
    /// Field delimiter (detected from the header when not given).
    #[arg(long)]
    pub delimiter: Option<char>,
    /// Also write an HTML report of the run (self-contained, readable offline) to FILE: the
    /// lists, counts per decision and every flagged party with its evidence.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// No summary or progress on stderr.
    #[arg(short, long)]
    pub quiet: bool,
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: ScreenArgs) -> Result<i32> {
    let started = Instant::now();
    // The store first: a bad store fails the run before any work is done.
    let mut store = args.store.open()?;
    let started_at = redflag::freshness::rfc3339(std::time::SystemTime::now());
    // Created first, so that a report that cannot be written fails the run before any output.
    let report_file = match &args.report {
        Some(p) => Some((p, File::create(p).map_err(|e| Error::io(p, e))?)),
        None => None,
    };
    let screener = args.lists.screener()?;
    let (name, mut input): (String, Box<dyn Read + Send>) = if args.input == "-" {
        ("<stdin>".into(), Box::new(std::io::stdin()))
    } else {
        let f = File::open(&args.input).map_err(|e| Error::io(&args.input, e))?;
        (args.input.clone(), Box::new(BufReader::new(f)))
    };
    let mut input_hash: Option<InputHash> = None;
    let mut recording = None;
    if let Some(store) = store.as_mut() {
        let (hashing, hash) = HashingReader::new(input);
        input = Box::new(hashing);
        input_hash = Some(hash);
        let book = DecisionBook::new(store.decisions(None)?, std::time::SystemTime::now());
        let recorder = RunRecorder::start(store.as_mut(), "screen", &name, &screener)?;
        recording = Some((book, recorder));
    }
    let options = InputOptions {
        format: match args.input_format {
            Format::Csv => InputFormat::Csv,
            Format::Jsonl => InputFormat::Jsonl,
        },
        encoding: args
            .encoding
            .as_deref()
            .map(InputEncoding::parse)
            .transpose()?,
        delimiter: match args.delimiter {
            Some(c) if c.is_ascii() => Some(c as u8),
            Some(c) => return Err(Error::Usage(format!("--delimiter `{c}` is not ASCII")).into()),
            None => None,
        },
        party_overrides: args.party.clone(),
    };
    let reader = input::open(input, &options, &name);
    let reader = match (reader, store.as_mut(), recording.take()) {
        (Err(e), Some(store), Some((_, recorder))) => {
            recorder.finish(store.as_mut(), Err(e.to_string()), None)?;
            return Err(e.into());
        }
        (reader, _, rec) => {
            recording = rec;
            reader?
        }
    };

    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let format = match args.format {
        Format::Csv => OutputFormat::Csv,
        Format::Jsonl => OutputFormat::Jsonl,
    };
    let mut writer =
        ResultWriter::with_decisions(out, format, &reader.layout.headers, store.is_some())?;

    let progress = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} rows screened ({per_sec}) {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb
    });
    let mut report = report_file
        .as_ref()
        .map(|_| report::ReportCollector::new(report::PARTIES_SHOWN));
    let entities = &screener.watchlist.entities;
    let kind_of = |h: &redflag::screen::Hit| {
        entities
            .get(h.entity_index)
            .map(|e| e.kind)
            .unwrap_or_default()
    };
    let hooks = match (store.as_mut(), recording.as_mut()) {
        (Some(store), Some((book, recorder))) => Some(batch::Recording {
            book,
            store: store.as_mut(),
            recorder,
        }),
        _ => None,
    };
    let outcome = batch::run_observed(
        reader,
        &screener,
        &mut writer,
        hooks,
        |rows| {
            if let Some(pb) = &progress {
                pb.set_position(rows);
            }
        },
        |row| {
            if let Some(r) = report.as_mut() {
                r.add_row(row, kind_of);
            }
        },
    );
    // A run that fails midway is recorded as incomplete (with what it had answered), never clear.
    let mut run_id = None;
    if let (Some(store), Some((_, recorder))) = (store.as_mut(), recording) {
        let status = outcome.as_ref().map(|_| ()).map_err(|e| e.to_string());
        let hash = input_hash.map(|h| h.hex());
        run_id = Some(recorder.finish(store.as_mut(), status, hash)?);
    }
    let summary = outcome?;
    if let (Some(collector), Some((path, file))) = (report, report_file) {
        let counts = |m: &std::collections::BTreeMap<&str, u64>| {
            m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let mut run = report::ReportRun {
            run_id: run_id.clone(),
            started_at,
            redflag_version: env!("CARGO_PKG_VERSION").to_string(),
            input: name.clone(),
            lists: screener.watchlist.lists.clone(),
            rows: summary.rows,
            parties: summary.parties,
            rows_by_decision: counts(&summary.rows_by_decision),
            parties_by_decision: counts(&summary.parties_by_decision),
            ..Default::default()
        };
        collector.finish_into(&mut run);
        let mut w = BufWriter::new(file);
        w.write_all(report::render(&run).as_bytes())
            .and_then(|()| w.flush())
            .map_err(|e| Error::io(path, e))?;
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    if !args.quiet {
        let mut e = std::io::stderr().lock();
        let by = |m: &std::collections::BTreeMap<&str, u64>| {
            ["block", "review", "clear", "error"]
                .iter()
                .map(|d| format!("{} {d}", m.get(d).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            e,
            "redflag: screened {} rows, {} parties in {:.2?} against {}",
            summary.rows,
            summary.parties,
            started.elapsed(),
            screener.watchlist.summary()
        )?;
        if let (Some(run), Some(spec)) = (&run_id, args.store.spec()) {
            writeln!(
                e,
                "  recorded as run {run} in {}",
                redflag::store::display_name(&spec)
            )?;
        }
        writeln!(e, "  rows:    {}", by(&summary.rows_by_decision))?;
        writeln!(e, "  parties: {}", by(&summary.parties_by_decision))?;
        for (entity, n) in &summary.entities_hit {
            writeln!(e, "  hit {n}x {entity}")?;
        }
        for c in &summary.clusters {
            let rows: Vec<String> = c
                .members
                .iter()
                .map(|m| format!("{} ({} {})", m.name, m.party, m.row))
                .collect();
            writeln!(
                e,
                "  cluster: {} different parties at `{}`: {}",
                c.distinct_names,
                c.address,
                rows.join("; ")
            )?;
        }
    }
    Ok(super::decision_exit(summary.worst()))
}
