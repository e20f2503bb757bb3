//! The prebuilt index file: `watchlist build -o FILE` then `--index FILE` answers exactly as
//! `--watchlist` does, and a damaged, foreign, missing or stale index fails closed.

use std::process::Output;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::util::{repo, shared_file, stderr, stdout, WorkDir};

fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// Builds an index of `lists` in `wd` and returns its path.
fn build(wd: &WorkDir, lists: &[&str], name: &str) -> String {
    let out = wd.join(name).display().to_string();
    let mut args = vec!["watchlist", "build"];
    args.extend_from_slice(lists);
    args.extend_from_slice(&["-o", &out]);
    let o = wd.run(&args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("entities"), "{}", stderr(&o));
    out
}

fn check(wd: &WorkDir, lists: &[&str]) -> (i32, Value) {
    let shipment = fixture("shipment.json");
    let mut args = vec![
        "check",
        &shipment,
        "--format",
        "json",
        "--max-age",
        "36500d",
    ];
    args.extend_from_slice(lists);
    let o = wd.run(&args);
    let v = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stderr(&o)));
    (code(&o), v)
}

#[test]
fn check_with_an_index_answers_as_with_the_lists() {
    let wd = WorkDir::new();
    let seed = build(&wd, &["seed"], "seed.idx");
    let direct = check(&wd, &["--watchlist", "seed"]);
    assert_eq!(check(&wd, &["--index", &seed]), direct);
    assert_eq!(direct.0, 2, "{:#}", direct.1);

    let ofac = fixture("lists/ofac");
    let both = build(&wd, &["seed", &ofac], "both.idx");
    let direct = check(&wd, &["--watchlist", "seed", "--watchlist", &ofac]);
    let indexed = check(&wd, &["--index", &both]);
    assert_eq!(indexed, direct);
}

#[test]
fn screen_with_an_index_is_byte_identical() {
    let wd = WorkDir::new();
    let seed = build(&wd, &["seed"], "seed.idx");
    let csv = fixture("shipments.csv");
    let run = |lists: &[&str]| {
        let mut args = vec!["screen", &csv, "--format", "jsonl", "--quiet"];
        args.extend_from_slice(lists);
        wd.run(&args)
    };
    let direct = run(&["--watchlist", "seed"]);
    let indexed = run(&["--index", &seed]);
    assert_eq!(code(&indexed), code(&direct), "{}", stderr(&indexed));
    assert!(!direct.stdout.is_empty());
    assert_eq!(stdout(&indexed), stdout(&direct));
}

#[test]
fn a_damaged_foreign_or_missing_index_fails_closed() {
    let wd = WorkDir::new();
    let seed = build(&wd, &["seed"], "seed.idx");
    let bytes = std::fs::read(&seed).unwrap();
    let shipment = fixture("shipment.json");
    let run = |index: &str| wd.run(&["check", &shipment, "--index", index]);

    let truncated = wd.write("truncated.idx", &bytes[..bytes.len() / 2]);
    let o = run(truncated.to_str().unwrap());
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    assert!(stderr(&o).contains("truncated.idx"), "{}", stderr(&o));

    let mut other = bytes.clone();
    other[8] ^= 0x7f; // the format version
    let o = run(wd.write("version.idx", &other).to_str().unwrap());
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    assert!(stderr(&o).contains("version.idx"), "{}", stderr(&o));

    let o = run(wd
        .write("magic.idx", b"not an index at all")
        .to_str()
        .unwrap());
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    assert!(stderr(&o).contains("magic.idx"), "{}", stderr(&o));

    let o = run(wd.join("missing.idx").to_str().unwrap());
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    assert!(stderr(&o).contains("missing.idx"), "{}", stderr(&o));

    let o = wd.run(&["check", &shipment, "--index", &seed, "--watchlist", "seed"]);
    assert_eq!(code(&o), 64, "{}", stderr(&o));
}

/// A native list of one listed entity; `extra` goes into its `[list]` table.
fn one_entity_list(name: &str, extra: &str) -> String {
    format!(
        "[list]\nname = \"{name}\"\n{extra}\n[[entity]]\nid = \"zz\"\nkind = \"organization\"\n\
         names = [{{ text = \"Zzyzx Holdings\", type = \"primary\" }}]\nstatus = {{ listed = true }}\n"
    )
}

#[test]
fn a_stale_list_inside_an_index_exits_69() {
    let wd = WorkDir::new();
    let shipment = fixture("clean-shipment.json");
    let dated = wd.write(
        "old.toml",
        one_entity_list("old", "published = \"2001-01-01\"\n"),
    );
    let index = build(&wd, &["seed", dated.to_str().unwrap()], "old.idx");
    let o = wd.run(&["check", &shipment, "--index", &index]);
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("published 2001-01-01"),
        "{}",
        stderr(&o)
    );

    // Undated: the source file's modification time as recorded at build, not the index's.
    let undated = wd.write("undated.toml", one_entity_list("undated", ""));
    let month_ago = SystemTime::now() - Duration::from_secs(30 * 86_400);
    let file = std::fs::File::options().write(true).open(&undated).unwrap();
    file.set_modified(month_ago).unwrap();
    let index = build(&wd, &[undated.to_str().unwrap()], "undated.idx");
    std::fs::remove_file(&undated).unwrap();
    let o = wd.run(&["check", &shipment, "--index", &index]);
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    assert!(stderr(&o).contains("list `undated`"), "{}", stderr(&o));
    let o = wd.run(&["check", &shipment, "--index", &index, "--max-age", "31d"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn an_index_of_the_real_ofac_list_blocks_the_national_bank_of_cuba() {
    let Some(ofac) = shared_file("data/ofac-sdn-2019") else {
        return;
    };
    let wd = WorkDir::new();
    let index = build(&wd, &["seed", ofac.to_str().unwrap()], "ofac.idx");
    wd.write("s.csv", "Consignee\nNational Bank of Cuba\n");
    let o = wd.run(&[
        "screen", "s.csv", "--index", &index, "--format", "jsonl", "-q",
    ]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let line: Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(line["decision"], "block");
    assert_eq!(line["hits"][0]["entity_id"], "306");
    assert_eq!(line["hits"][0]["list"], "ofac-sdn");
}
