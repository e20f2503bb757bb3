//! `redflag watchlist stats|validate|convert` on the format fixtures, and screening against
//! official-format lists.

use crate::util::{repo, shared_file, stderr, stdout, WorkDir};

fn fixture(rel: &str) -> String {
    repo()
        .join("fixtures/lists")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn stats_counts_entities_by_list_and_kind() {
    let wd = WorkDir::new();
    let o = wd.run(&[
        "watchlist",
        "stats",
        &fixture("ofac"),
        &fixture("un.xml"),
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["lists"].as_array().unwrap().len(), 2);
    assert_eq!(v["lists"][0]["name"], "ofac-sdn");
    let total: u64 = v["stats"]["by_list"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|kinds| kinds.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, v["stats"]["entities"].as_u64().unwrap());
}

#[test]
fn validate_reports_a_cut_file_with_its_line_and_exits_65() {
    let wd = WorkDir::new();
    let text = std::fs::read_to_string(fixture("un.xml")).unwrap();
    wd.write("cut.xml", &text[..text.len() / 2]);
    let o = wd.run(&["watchlist", "validate", "cut.xml"]);
    assert_eq!(o.status.code(), Some(65), "{}", stdout(&o));
    assert!(stdout(&o).starts_with("error: cut.xml:"), "{}", stdout(&o));
    let o = wd.run(&["watchlist", "validate", &fixture("csl.csv")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn converted_list_screens_like_the_original() {
    let wd = WorkDir::new();
    let o = wd.run(&[
        "watchlist",
        "convert",
        &fixture("ofac"),
        "-o",
        "ofac.toml",
        "--name",
        "gray",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    wd.write("s.csv", "Consignee\nBanco Nacional de Cuba\n");
    let a = wd.run(&[
        "screen",
        "s.csv",
        "--watchlist",
        &fixture("ofac"),
        "--format",
        "jsonl",
        "-q",
    ]);
    let b = wd.run(&[
        "screen",
        "s.csv",
        "--watchlist",
        "ofac.toml",
        "--format",
        "jsonl",
        "-q",
    ]);
    let hit = |o: &std::process::Output| {
        let v: serde_json::Value = serde_json::from_str(stdout(o).lines().next().unwrap()).unwrap();
        (v["decision"].clone(), v["hits"][0]["entity_id"].clone())
    };
    assert_eq!(hit(&a), hit(&b));
}

#[test]
fn screening_against_the_real_ofac_list_cites_entry_and_version() {
    let Some(ofac) = shared_file("data/ofac-sdn-2019") else {
        return;
    };
    let wd = WorkDir::new();
    wd.write(
        "s.csv",
        "Consignee\nNational Bank of Cuba\nNordic Components AB\n",
    );
    let o = wd.run(&[
        "screen",
        "s.csv",
        "--watchlist",
        ofac.to_str().unwrap(),
        "--format",
        "jsonl",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "block");
    assert_eq!(lines[0]["hits"][0]["entity_id"], "306");
    assert_eq!(lines[0]["hits"][0]["list"], "ofac-sdn");
    assert!(lines[0]["hits"][0]["list_version"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(lines[1]["decision"], "clear");
}
