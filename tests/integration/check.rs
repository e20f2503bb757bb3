//! `redflag check` end to end: the exit code is the answer, the JSON the evidence, and every way the
//! check can fail to be made is a non-zero exit with the reason.

use std::process::{Output, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::util::{repo, stderr, stdout, WorkDir};

fn fixture(name: &str) -> String {
    repo().join("fixtures").join(name).display().to_string()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

/// Runs `check` with `--format json` and returns the exit code and the parsed output.
fn check_json(wd: &WorkDir, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let o = wd.run(&all);
    let v = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: stdout {} stderr {}", stdout(&o), stderr(&o)));
    (code(&o), v)
}

fn rules(v: &Value) -> Vec<&str> {
    v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect()
}

fn party<'a>(v: &'a Value, role: &str) -> &'a Value {
    v["parties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == role)
        .unwrap_or_else(|| panic!("no {role} in {v}"))
}

/// A small native list; `published` may be left out.
fn native_list(name: &str, published: Option<&str>) -> String {
    let published = published
        .map(|p| format!("published = \"{p}\"\n"))
        .unwrap_or_default();
    format!(
        "[list]\nname = \"{name}\"\n{published}\n[[entity]]\nid = \"zz\"\nkind = \"organization\"\n\
         names = [{{ text = \"Zzyzx Holdings\", type = \"primary\" }}]\nstatus = {{ listed = true }}\n"
    )
}

#[test]
fn a_clean_shipment_exits_0() {
    let wd = WorkDir::new();
    let (c, v) = check_json(&wd, &[&fixture("clean-shipment.json")]);
    assert_eq!(c, 0, "{v:#}");
    assert_eq!(v["decision"], "clear");
    assert_eq!(v["id"], "SHP-2023-01100");
    assert!(rules(&v).is_empty());
    assert_eq!(v["parties"].as_array().unwrap().len(), 4);
    assert!(v["parties"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["decision"] == "clear" && p["hits"].as_array().unwrap().is_empty()));
    assert_eq!(v["lists"][0]["name"], "seed");
}

#[test]
fn the_fixture_shipment_blocks_with_its_evidence() {
    let wd = WorkDir::new();
    let (c, v) = check_json(&wd, &[&fixture("shipment.json")]);
    assert_eq!(c, 2);
    assert_eq!(v["decision"], "block");
    assert_eq!(
        rules(&v),
        [
            "sanctioned-destination",
            "chpl-goods",
            "transshipment-route",
            "consignee-country-mismatch"
        ]
    );
    assert_eq!(v["flags"][0]["severity"], "block");
    assert_eq!(
        v["flags"][1]["evidence"][0],
        "8542.31 is CHPL tier 1 (integrated circuits)"
    );
    for (role, decision, entity) in [
        ("shipper", "clear", None),
        ("consignee", "clear", None),
        ("notify", "review", Some("tradetools")),
        ("end_user", "block", Some("robin-trade")),
    ] {
        let p = party(&v, role);
        assert_eq!(p["decision"], decision, "{role}: {p:#}");
        match entity {
            Some(e) => {
                assert_eq!(p["hits"][0]["entity_id"], e, "{role}");
                assert_eq!(p["hits"][0]["kind"], "name", "{role}");
            }
            None => assert!(p["hits"].as_array().unwrap().is_empty(), "{role}"),
        }
    }
}

#[test]
fn a_cyrillic_robin_trade_consignee_exits_2() {
    let wd = WorkDir::new();
    let (c, v) = check_json(
        &wd,
        &[
            "--shipper",
            "Hagedorn Bauteile GmbH",
            "--shipper-country",
            "DE",
            "--consignee",
            "ООО «Робин Трейд»",
            "--consignee-address",
            "ул. Яблочкова, д. 21, корп. 3, Москва",
        ],
    );
    assert_eq!(c, 2, "{v:#}");
    // Blocked by the name alone: no country, route or goods were given, so no rule fired.
    assert!(rules(&v).is_empty(), "{v:#}");
    let p = party(&v, "consignee");
    assert_eq!(p["decision"], "block");
    assert_eq!(p["hits"][0]["entity_id"], "robin-trade");
    assert_eq!(p["hits"][0]["listed"], true);
}

#[test]
fn chips_via_kazakhstan_to_russia_name_both_rules() {
    let wd = WorkDir::new();
    let args = [
        "--shipper",
        "Hagedorn Bauteile GmbH",
        "--shipper-country",
        "DE",
        "--consignee",
        "Almaty Instrument Supply LLP",
        "--consignee-country",
        "KZ",
        "--hs-code",
        "8542.31",
        "--route",
        "DE,KZ,RU",
        "--destination",
        "RU",
    ];
    let (c, v) = check_json(&wd, &args);
    assert_ne!(c, 0);
    assert_eq!(c, 2);
    let fired = rules(&v);
    assert!(fired.contains(&"sanctioned-destination"), "{fired:?}");
    assert!(fired.contains(&"transshipment-route"), "{fired:?}");
    assert!(fired.contains(&"chpl-goods"), "{fired:?}");
    // The parties themselves are clean: the answer comes from goods and route.
    assert!(v["parties"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["decision"] == "clear"));
    let t = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "transshipment-route")
        .unwrap();
    assert!(t["evidence"][0]
        .as_str()
        .unwrap()
        .contains("KZ (Kazakhstan)"));

    // A policy that turns the destination rule off changes the answer to review.
    let policy = wd.write(
        "no-destination.toml",
        "[rules.sanctioned-destination]\nenabled = false\n",
    );
    let mut with_policy = args.to_vec();
    with_policy.extend(["--policy", policy.to_str().unwrap()]);
    let (c, v) = check_json(&wd, &with_policy);
    assert_eq!(c, 1, "{v:#}");
    assert!(!rules(&v).contains(&"sanctioned-destination"));
    assert!(rules(&v).contains(&"transshipment-route"));
}

#[test]
fn hs_codes_are_matched_however_written() {
    let wd = WorkDir::new();
    for code in ["854231", "8542 31", "8542.31.90", " 8542.31 "] {
        let (c, v) = check_json(
            &wd,
            &["--consignee", "Nordic Components AB", "--hs-code", code],
        );
        assert_eq!(c, 1, "{code}");
        assert_eq!(rules(&v), ["chpl-goods"], "{code}");
        assert!(v["flags"][0]["evidence"][0]
            .as_str()
            .unwrap()
            .contains("CHPL tier 1"));
    }
}

#[test]
fn a_missing_watchlist_exits_69() {
    let wd = WorkDir::new();
    let o = wd.run(&[
        "check",
        &fixture("clean-shipment.json"),
        "--watchlist",
        "nowhere.toml",
    ]);
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    assert!(stderr(&o).contains("nowhere.toml"), "{}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "no answer when the check cannot be made"
    );
}

#[test]
fn a_corrupt_watchlist_exits_65() {
    let wd = WorkDir::new();
    let list = wd.write(
        "broken.toml",
        "[list]\nname = \"broken\"\n[[entity]]\nid = 5\n",
    );
    let o = wd.run(&[
        "check",
        &fixture("clean-shipment.json"),
        "--watchlist",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 65, "{}", stderr(&o));
    assert!(stderr(&o).contains("broken.toml:"), "{}", stderr(&o));
}

#[test]
fn a_stale_watchlist_exits_69() {
    let wd = WorkDir::new();
    let shipment = fixture("clean-shipment.json");
    // Dated by its publication date.
    let old = wd.write("old.toml", native_list("old", Some("2001-01-01")));
    let o = wd.run(&["check", &shipment, "--watchlist", old.to_str().unwrap()]);
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("list `old`") && err.contains("published 2001-01-01"),
        "{err}"
    );
    // The age is named (`9457d 19h old`), and the limit.
    let age = err.split(") is ").nth(1).unwrap_or("");
    assert!(age.starts_with(|c: char| c.is_ascii_digit()), "{err}");
    assert!(err.contains("maximum age of 7d"), "{err}");

    // Without a publication date: by the file's modification time.
    let undated = wd.write("undated.toml", native_list("undated", None));
    let run = |extra: &[&str]| {
        let mut args = vec![
            "check",
            shipment.as_str(),
            "--watchlist",
            undated.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        wd.run(&args)
    };
    assert_eq!(code(&run(&[])), 0, "a file written just now is fresh");
    std::fs::File::options()
        .write(true)
        .open(&undated)
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(30 * 86_400))
        .unwrap();
    let o = run(&[]);
    assert_eq!(code(&o), 69, "{}", stderr(&o));
    assert!(stderr(&o).contains("list `undated`"), "{}", stderr(&o));
    assert!(stderr(&o).contains("file modified"), "{}", stderr(&o));
    // --max-age in days, hours or seconds.
    assert_eq!(code(&run(&["--max-age", "31d"])), 0);
    assert_eq!(code(&run(&["--max-age", "24h"])), 69);
    assert_eq!(code(&run(&["--max-age", "3000000"])), 0);
    assert_eq!(code(&run(&["--max-age", "soon"])), 64);

    // The seed list compiled into the binary is exempt, also next to a file list.
    let o = wd.run(&["check", &shipment, "--max-age", "1", "--watchlist", "seed"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn a_shipment_from_stdin() {
    let wd = WorkDir::new();
    let json = std::fs::read(fixture("shipment.json")).unwrap();
    let mut child = wd
        .cmd()
        .args(["check", "-", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(&json).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["id"], "SHP-2023-01099");
    assert_eq!(party(&v, "end_user")["hits"][0]["entity_id"], "robin-trade");
}

#[test]
fn a_shipment_from_the_rows_of_a_csv() {
    let wd = WorkDir::new();
    let csv = fixture("shipments.csv");
    // ООО «Лирема» at Robin Trade's building, routed DE > KZ > RU with tier-1 chips.
    let (c, v) = check_json(&wd, &["--input", &csv, "--shipment", "SHP-2023-01063"]);
    assert_eq!(c, 2);
    assert_eq!(v["id"], "SHP-2023-01063");
    let consignee = party(&v, "consignee");
    assert_eq!(consignee["decision"], "review");
    assert_eq!(consignee["hits"][0]["kind"], "address");
    assert_eq!(consignee["hits"][0]["entity_id"], "robin-trade");
    assert_eq!(
        rules(&v),
        [
            "sanctioned-destination",
            "chpl-goods",
            "transshipment-route"
        ]
    );
    // A clean row of the same file.
    let (c, v) = check_json(&wd, &["--input", &csv, "--shipment", "SHP-2023-01061"]);
    assert_eq!(c, 0, "{v:#}");
    // The SAP export: `Lieferung` is the shipment id.
    let (c, v) = check_json(
        &wd,
        &[
            "--input",
            &fixture("sap-export.csv"),
            "--shipment",
            "80004473",
        ],
    );
    assert_eq!(c, 2);
    assert_eq!(
        party(&v, "consignee")["hits"][0]["entity_id"],
        "serniya-engineering"
    );
    // An id that is not there is bad data, naming it.
    let o = wd.run(&["check", "--input", &csv, "--shipment", "SHP-0"]);
    assert_eq!(code(&o), 65);
    assert!(stderr(&o).contains("SHP-0"), "{}", stderr(&o));
}

#[test]
fn explain_policy_prints_the_policy_in_force() {
    let wd = WorkDir::new();
    let o = wd.run(&["check", "--explain-policy"]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    let t: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(t["thresholds"]["block"].as_float(), Some(0.9));
    assert_eq!(
        t["rules"]["sanctioned-destination"]["severity"].as_str(),
        Some("block")
    );
    assert_eq!(t["rules"]["chpl-goods"]["enabled"].as_bool(), Some(true));

    let p = wd.write(
        "p.toml",
        "[thresholds]\nblock = 0.95\n[rules.chpl-goods]\nseverity = \"block\"\n",
    );
    let o = wd.run(&["check", "--explain-policy", "--policy", p.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    assert!(text.contains("p.toml"), "{text}");
    let t: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(t["thresholds"]["block"].as_float(), Some(0.95));
    assert_eq!(t["rules"]["chpl-goods"]["severity"].as_str(), Some("block"));
    // What is printed is a policy file: it loads back.
    let again = wd.write("again.toml", &text);
    let o = wd.run(&[
        "check",
        "--explain-policy",
        "--policy",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn a_policy_with_a_bad_key_exits_78_naming_file_and_line() {
    let wd = WorkDir::new();
    let p = wd.write(
        "bad.toml",
        "[thresholds]\nreview = 0.8\n\n[rules.chpl-goods]\nenabeld = false\n",
    );
    let o = wd.run(&[
        "check",
        &fixture("clean-shipment.json"),
        "--policy",
        p.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 78);
    assert!(stderr(&o).contains("bad.toml:5"), "{}", stderr(&o));
    let p = wd.write(
        "unknown-rule.toml",
        "[rules.no-such-rule]\nenabled = true\n",
    );
    let o = wd.run(&["check", "--explain-policy", "--policy", p.to_str().unwrap()]);
    assert_eq!(code(&o), 78);
    assert!(stderr(&o).contains("unknown-rule.toml:1"), "{}", stderr(&o));
}

#[test]
fn a_check_that_cannot_be_made_is_never_0() {
    let wd = WorkDir::new();
    let cases = [
        // No party at all.
        ("{\"id\": \"S\", \"parties\": []}", 65, "no party"),
        // A party whose name cannot be screened.
        (
            "{\"parties\": [{\"role\": \"consignee\", \"name\": \"  \"}]}",
            65,
            "no name",
        ),
        // A misspelt field: the goods would go unchecked.
        (
            "{\"parties\": [{\"role\": \"consignee\", \"name\": \"A AB\"}], \"hs_code\": [\"8542.31\"]}",
            65,
            "hs_code",
        ),
        // A route country redflag cannot read could be anywhere.
        (
            "{\"parties\": [{\"role\": \"consignee\", \"name\": \"A AB\"}], \"route\": [\"DE\", \"Narnia\"]}",
            65,
            "Narnia",
        ),
        ("not json", 65, "s.json:1"),
    ];
    for (json, expected, needle) in cases {
        let f = wd.write("s.json", json);
        let o = wd.run(&["check", f.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code(&o), expected, "{json}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{json}: {}", stderr(&o));
    }
    // Usage: no shipment, or two at once.
    assert_eq!(code(&wd.run(&["check"])), 64);
    let o = wd.run(&["check", &fixture("shipment.json"), "--consignee", "X"]);
    assert_eq!(code(&o), 64);
    assert_eq!(code(&wd.run(&["check", "--consignee-country", "RU"])), 64);
    assert_eq!(code(&wd.run(&["check", "missing.json"])), 66);
}

#[test]
fn the_text_summary_puts_the_decision_first() {
    let wd = WorkDir::new();
    let o = wd.run(&["check", &fixture("shipment.json"), "--format", "text"]);
    assert_eq!(code(&o), 2);
    let text = stdout(&o);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("BLOCK shipment SHP-2023-01099"));
    assert!(
        text.contains("block   end_user   ООО «Робин Трейд» (RU)"),
        "{text}"
    );
    assert!(
        text.contains("on `Robin Trade` [seed:robin-trade]"),
        "{text}"
    );
    assert!(
        text.contains("8542.31 is CHPL tier 1 (integrated circuits)"),
        "{text}"
    );
    // Not a terminal and no --format: JSON for machines.
    let o = wd.run(&["check", &fixture("clean-shipment.json")]);
    assert_eq!(code(&o), 0);
    assert!(serde_json::from_str::<Value>(&stdout(&o)).is_ok());
}

/// The fixtures follow `schemas/shipment.schema.json`: the required properties are present and
/// no property is outside the schema (a hand check of the schema's structural keywords).
#[test]
fn fixture_shipments_follow_the_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/shipment.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let party_schema = &schema["$defs"]["party"];
    let conforms = |v: &Value, s: &Value| {
        let obj = v.as_object().unwrap();
        let required = s["required"].as_array().unwrap();
        let props = s["properties"].as_object().unwrap();
        required
            .iter()
            .all(|r| obj.contains_key(r.as_str().unwrap()))
            && obj.keys().all(|k| props.contains_key(k))
    };
    let mut n = 0;
    for f in std::fs::read_dir(repo().join("fixtures")).unwrap() {
        let path = f.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        n += 1;
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(conforms(&v, &schema), "{}", path.display());
        let parties = v["parties"].as_array().unwrap();
        assert!(!parties.is_empty());
        for p in parties {
            assert!(conforms(p, party_schema), "{}: {p}", path.display());
        }
        for c in v["hs_codes"].as_array().unwrap() {
            assert!(c
                .as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ' '));
        }
        // And redflag reads it.
        let wd = WorkDir::new();
        let o = wd.run(&["check", path.to_str().unwrap(), "--format", "json"]);
        assert!(code(&o) < 64, "{}: {}", path.display(), stderr(&o));
    }
    assert!(n >= 2);
}
