//! `redflag watchlist`: inspect, check, convert, compare and prebuild watchlists (stats, validate,
//! convert, diff, build).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};

use redflag::error::{exit, Error};
use redflag::output::neutralize;
use redflag::prebuilt::Prebuilt;
use redflag::watchlist::diff::{self, WatchlistDiff};
use redflag::watchlist::{self, native, stats, Format};

use super::{forced_format, ListArgs};

#[derive(Args, Debug)]
pub struct WatchlistArgs {
    #[command(subcommand)]
    pub command: WatchlistCommand,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutFormat {
    Text,
    Json,
}

/// Output of `watchlist diff`: text for people, JSON or CSV for machines.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Csv,
}

/// The lists a `watchlist` subcommand reads.
#[derive(Args, Debug)]
pub struct ListPaths {
    /// Watchlist files or OFAC directories (`seed` names the built-in list where lists are merged).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Force the format instead of detecting it.
    #[arg(long, value_name = "FORMAT")]
    watchlist_format: Option<String>,
}

impl ListPaths {
    fn forced(&self) -> Result<Option<Format>> {
        forced_format(&self.watchlist_format)
    }
}

#[derive(Subcommand, Debug)]
pub enum WatchlistCommand {
    /// Entities by list and kind, names, aliases, addresses, identifiers, relations.
    Stats {
        #[command(flatten)]
        lists: ListPaths,
        #[arg(long, value_enum, default_value = "text")]
        format: OutFormat,
    },
    /// Problems of each list with file and line; exits 65 when a list cannot be loaded.
    Validate {
        #[command(flatten)]
        lists: ListPaths,
    },
    /// Convert lists (merged) to the native TOML format.
    Convert {
        #[command(flatten)]
        lists: ListPaths,
        /// Output file.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        /// The `[list] name` of the converted list.
        #[arg(long, default_value = "converted")]
        name: String,
    },
    /// Entities added, removed and changed from OLD to NEW (what changed in each). Exits 0 when
    /// nothing changed, 1 when something did, like `diff`.
    Diff {
        /// OLD and NEW: two list files or OFAC directories.
        #[command(flatten)]
        lists: ListPaths,
        #[arg(long, value_enum, default_value = "text")]
        format: DiffFormat,
    },
    /// Build a prebuilt index file of lists (merged) for `--index FILE`. `seed` names the
    /// built-in list. Rebuild after upgrading redflag or when a list changes.
    Build {
        #[command(flatten)]
        lists: ListPaths,
        /// Output file.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
}

pub fn run(args: WatchlistArgs) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match args.command {
        WatchlistCommand::Stats { lists, format } => {
            let wl = watchlist::load_all(&lists.paths, lists.forced()?)?;
            let s = stats::stats(&wl);
            match format {
                OutFormat::Json => {
                    let v = serde_json::json!({ "lists": wl.lists, "stats": s });
                    writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                }
                OutFormat::Text => {
                    for l in &wl.lists {
                        writeln!(
                            out,
                            "{} ({}) {}: version {}, {} entities, sha256 {}",
                            l.name, l.format, l.path, l.version, l.entity_count, l.content_hash
                        )?;
                    }
                    writeln!(out, "entities     {}", s.entities)?;
                    for (list, kinds) in &s.by_list {
                        for (kind, n) in kinds {
                            writeln!(out, "  {list:<14} {kind:<13} {n}")?;
                        }
                    }
                    writeln!(out, "listed       {}", s.listed)?;
                    writeln!(out, "names        {}", s.names)?;
                    writeln!(out, "aliases      {}", s.aliases)?;
                    writeln!(out, "addresses    {}", s.addresses)?;
                    writeln!(out, "identifiers  {}", s.identifiers)?;
                    writeln!(out, "relations    {}", s.relations)?;
                }
            }
            Ok(exit::CLEAR)
        }
        WatchlistCommand::Validate { lists } => {
            let forced = lists.forced()?;
            let mut fatal = false;
            for p in &lists.paths {
                let problems = stats::validate(p, forced)?;
                if problems.is_empty() {
                    writeln!(out, "{}: ok", p.display())?;
                }
                for problem in problems {
                    fatal |= problem.fatal;
                    let tag = if problem.fatal { "error" } else { "warning" };
                    writeln!(out, "{tag}: {problem}")?;
                }
            }
            Ok(if fatal { exit::DATAERR } else { exit::CLEAR })
        }
        WatchlistCommand::Convert {
            lists,
            output,
            name,
        } => {
            let wl = watchlist::load_all(&lists.paths, lists.forced()?)?;
            let text = native::to_toml(&wl, &name)?;
            std::fs::write(&output, text).map_err(|e| Error::io(&output, e))?;
            eprintln!(
                "redflag: wrote {} entities to {}",
                wl.entities.len(),
                output.display()
            );
            Ok(exit::CLEAR)
        }
        WatchlistCommand::Diff { lists, format } => {
            let [old, new] = lists.paths.as_slice() else {
                return Err(Error::Usage(format!(
                    "watchlist diff takes two lists, OLD and NEW, not {}",
                    lists.paths.len()
                ))
                .into());
            };
            let forced = lists.forced()?;
            let d = diff::diff(
                &watchlist::load(old, forced)?,
                &watchlist::load(new, forced)?,
            );
            match format {
                DiffFormat::Text => write_diff_text(&mut out, &d)?,
                DiffFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&d)?)?,
                DiffFormat::Csv => write_diff_csv(&mut out, &d)?,
            }
            out.flush()?;
            Ok(if d.is_empty() {
                exit::CLEAR
            } else {
                exit::REVIEW
            })
        }
        WatchlistCommand::Build { lists, output } => {
            let started = Instant::now();
            let lists = ListArgs {
                watchlists: lists.paths,
                watchlist_format: lists.watchlist_format,
                ..ListArgs::default()
            };
            let built = Prebuilt::build(lists.load_watchlist()?)?;
            let bytes = built.write(&output)?;
            eprintln!(
                "redflag: wrote {} ({} bytes) in {:.0?}: {} entities, {} names, vocabulary {}, {} addresses; {}",
                output.display(),
                bytes,
                started.elapsed(),
                built.watchlist.entities.len(),
                built.index.records.len(),
                built.index.vocabulary_len(),
                built.addresses.len(),
                built.watchlist.summary()
            );
            Ok(exit::CLEAR)
        }
    }
}

fn write_diff_text(out: &mut impl Write, d: &WatchlistDiff) -> Result<()> {
    let lists = |l: &[redflag::model::ListInfo]| {
        l.iter()
            .map(|l| format!("{} {} ({} entities)", l.name, l.version, l.entity_count))
            .collect::<Vec<_>>()
            .join("; ")
    };
    writeln!(out, "old: {}", lists(&d.old_lists))?;
    writeln!(out, "new: {}", lists(&d.new_lists))?;
    for e in &d.added {
        writeln!(out, "added    {}:{}  {}", e.list, e.id, e.name)?;
    }
    for e in &d.removed {
        writeln!(out, "removed  {}:{}  {}", e.list, e.id, e.name)?;
    }
    for c in &d.changed {
        let e = &c.entity;
        writeln!(out, "changed  {}:{}  {}", e.list, e.id, e.name)?;
        for f in &c.changes {
            if f.added.is_empty() && f.removed.is_empty() {
                writeln!(out, "    {}: order or sources changed", f.field)?;
            }
            for v in &f.added {
                writeln!(out, "    {} + {v}", f.field)?;
            }
            for v in &f.removed {
                writeln!(out, "    {} - {v}", f.field)?;
            }
        }
    }
    writeln!(
        out,
        "{} added, {} removed, {} changed, {} unchanged",
        d.added.len(),
        d.removed.len(),
        d.changed.len(),
        d.unchanged
    )?;
    Ok(())
}

/// One row per added or removed entity and per changed field: `change,list,id,name,field,added,removed`
/// (several values of one field joined with ` | `).
fn write_diff_csv(out: &mut impl Write, d: &WatchlistDiff) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["change", "list", "id", "name", "field", "added", "removed"])?;
    let mut row =
        |change: &str, e: &diff::EntityRef, field: &str, added: &[String], removed: &[String]| {
            w.write_record([
                change.to_string(),
                neutralize(&e.list),
                neutralize(&e.id),
                neutralize(&e.name),
                field.to_string(),
                neutralize(&added.join(" | ")),
                neutralize(&removed.join(" | ")),
            ])
        };
    for e in &d.added {
        row("added", e, "", &[], &[])?;
    }
    for e in &d.removed {
        row("removed", e, "", &[], &[])?;
    }
    for c in &d.changed {
        for f in &c.changes {
            row("changed", &c.entity, f.field, &f.added, &f.removed)?;
        }
    }
    w.flush()?;
    Ok(())
}
