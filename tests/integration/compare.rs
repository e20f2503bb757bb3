//! `redflag compare`: the single-pair output (a contract) and `--pairs`.

use crate::util::{stdout, WorkDir};

#[test]
fn single_pair_golden_output() {
    let wd = WorkDir::new();
    let o = wd.run(&[
        "compare",
        "--kind",
        "org",
        "OOO Robin Treid",
        "ООО «Робин Трейд»",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "score: 1.000\ndecision: match (block band)\nexplanation: aligned [robin, trade]; legal form llc ~ llc\n"
    );
}

#[test]
fn unrelated_names_do_not_match() {
    let wd = WorkDir::new();
    let o = wd.run(&["compare", "Nordic Components AB", "Robin Trade"]);
    assert!(stdout(&o).contains("decision: no match"), "{}", stdout(&o));
}

#[test]
fn pairs_file_gets_score_and_match_columns() {
    let wd = WorkDir::new();
    wd.write(
        "p.csv",
        "name1,name2,schema\nTradetools,Trade Tools,Company\nPol Pot,Paul Murphy,Person\n",
    );
    let o = wd.run(&["compare", "--pairs", "p.csv"]);
    assert_eq!(o.status.code(), Some(0));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    assert_eq!(
        rdr.headers().unwrap(),
        vec!["name1", "name2", "schema", "score", "match"]
    );
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][4], "true");
    assert_eq!(&rows[1][4], "false");
}

#[test]
fn usage_errors_exit_64() {
    let wd = WorkDir::new();
    let o = wd.run(&["compare", "--kind", "planet", "a", "b"]);
    assert_eq!(o.status.code(), Some(64));
    let o = wd.run(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(64));
}
