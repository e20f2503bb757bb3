//! `redflag watchlist diff`: the native fixtures (every kind of change, every output format, exit
//! codes) and the real OFAC list against an edited copy.

use crate::util::{shared_file, stderr, stdout, WorkDir};

fn fixture(rel: &str) -> String {
    crate::util::fixture(&format!("lists/diff/{rel}"))
}

#[test]
fn native_lists_diff_as_text_with_each_change_named() {
    let wd = WorkDir::new();
    let o = wd.run(&[
        "watchlist",
        "diff",
        &fixture("old.toml"),
        &fixture("new.toml"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let text = stdout(&o);
    let expected = "\
old: internal 2026-01-05 (4 entities)
new: internal 2026-02-02 (4 entities)
added    internal:delta-micro  Delta Micro Systems
removed  internal:echo-radio  Echo Radio Components
changed  internal:acme-trading  Acme Trading LLC
    names + OOO Akme Treyding (alias)
    addresses + ul. Lenina 7, Moscow, RU
    addresses - ul. Lenina 1, Moscow, RU
    programs + UKRAINE-EO13662
changed  internal:borealis-parts  Borealis Parts LLP
    relations + owned_by acme-trading 60%
    listed + true
    listed - false
1 added, 1 removed, 2 changed, 1 unchanged
";
    assert_eq!(text, expected);
}

#[test]
fn native_lists_diff_as_json_and_csv() {
    let wd = WorkDir::new();
    let (old, new) = (fixture("old.toml"), fixture("new.toml"));
    let o = wd.run(&["watchlist", "diff", &old, &new, "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["added"][0]["id"], "delta-micro");
    assert_eq!(v["removed"][0]["id"], "echo-radio");
    assert_eq!(v["unchanged"], 1);
    let changed = v["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 2);
    assert_eq!(changed[0]["id"], "acme-trading");
    assert_ne!(changed[0]["old_fingerprint"], changed[0]["new_fingerprint"]);
    assert_eq!(changed[0]["changes"][0]["field"], "names");
    assert_eq!(
        changed[0]["changes"][0]["added"][0],
        "OOO Akme Treyding (alias)"
    );
    assert_eq!(v["old_lists"][0]["version"], "2026-01-05");

    let o = wd.run(&["watchlist", "diff", &old, &new, "--format", "csv"]);
    assert_eq!(o.status.code(), Some(1));
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 1 + 1 + 3 + 2, "{rows:?}");
    assert_eq!(rows[0][..3], ["added", "internal", "delta-micro"]);
    assert_eq!(rows[1][..3], ["removed", "internal", "echo-radio"]);
    assert_eq!(
        rows[3],
        [
            "changed",
            "internal",
            "acme-trading",
            "Acme Trading LLC",
            "addresses",
            "ul. Lenina 7, Moscow, RU",
            "ul. Lenina 1, Moscow, RU"
        ]
    );
}

#[test]
fn identical_lists_exit_0_and_wrong_arguments_are_usage_errors() {
    let wd = WorkDir::new();
    let old = fixture("old.toml");
    let o = wd.run(&["watchlist", "diff", &old, &old]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).ends_with("0 added, 0 removed, 0 changed, 4 unchanged\n"));
    let o = wd.run(&["watchlist", "diff", &old]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    let o = wd.run(&["watchlist", "diff", &old, "missing.toml"]);
    assert_eq!(o.status.code(), Some(66), "{}", stderr(&o));
}

#[test]
fn ofac_against_an_edited_copy() {
    let Some(ofac) = shared_file("data/ofac-sdn-2019") else {
        return;
    };
    let wd = WorkDir::new();
    // The copy: 306 (Banco Nacional de Cuba) gets an alias, 173 is removed (with its aliases and
    // addresses), and a new entry 99999 appears.
    for file in ["sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"] {
        let text = std::fs::read_to_string(ofac.join(file)).unwrap();
        let mut kept: String = text
            .lines()
            .filter(|l| !l.starts_with("173,"))
            .map(|l| format!("{l}\n"))
            .collect();
        match file {
            "alt.csv" => kept.push_str("306,999001,\"aka\",\"BNC TEST ALIAS\",-0- \n"),
            "sdn.csv" => kept.push_str(
                "99999,\"NEW TEST TRADING LLC\",-0- ,\"RUSSIA-EO14024\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \n",
            ),
            _ => {}
        }
        wd.write(&format!("new/{file}"), kept);
    }
    let o = wd.run(&[
        "watchlist",
        "diff",
        ofac.to_str().unwrap(),
        "new",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids("added"), ["99999"]);
    assert_eq!(ids("removed"), ["173"]);
    assert_eq!(ids("changed"), ["306"]);
    assert_eq!(v["changed"][0]["name"], "BANCO NACIONAL DE CUBA");
    assert_eq!(
        v["changed"][0]["changes"],
        serde_json::json!([{ "field": "names", "added": ["BNC TEST ALIAS (alias)"], "removed": [] }])
    );
    let total = v["old_lists"][0]["entity_count"].as_u64().unwrap();
    assert_eq!(v["unchanged"].as_u64().unwrap(), total - 2);
}
