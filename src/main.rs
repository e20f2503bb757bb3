//! The `redflag` binary: parses arguments, runs one subcommand, maps errors to exit codes.
//! All the work is in the library; each subcommand is a file under `src/cli/`.

mod cli;

use clap::Parser;

/// mimalloc: loading an index file makes a few hundred thousand small allocations, and the
/// system allocator spends a fifth of a `check` on them. Built without transparent huge pages
/// (`no_thp`): each first touch of a huge page zeroes 2 MB, which was 8% of a batch run and a
/// third of its memory; queries on a 1,000,000-name list are as fast without them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = match cli::Cli::try_parse() {
        Ok(args) => match cli::run(args) {
            Ok(code) => code,
            Err(e) => cli::report_error(&e),
        },
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => redflag::error::exit::USAGE,
            };
            let _ = e.print();
            code
        }
    };
    std::process::exit(code);
}
