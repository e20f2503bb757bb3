//! The decision store end to end: decisions applied and expiring with the list, the analyst's
//! CSV loop, bad stores and imports, the audit trail against edits, rescreening, concurrent
//! writers, and the same decision tests on a real PostgreSQL server started on loopback.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{repo, shared_file, stderr, stdout, WorkDir};

/// Screens `csv` (JSON lines out) with `args` added; returns the party lines and the exit code.
fn screen(wd: &WorkDir, csv: &Path, args: &[&str]) -> (Vec<Value>, i32) {
    let mut all = vec!["screen", csv.to_str().unwrap(), "--format", "jsonl", "-q"];
    all.extend(args);
    let o = wd.run(&all);
    let lines = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v.get("cluster").is_none())
        .collect();
    (lines, o.status.code().unwrap())
}

fn hit<'a>(line: &'a Value, entity: &str) -> &'a Value {
    line["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["entity_id"] == entity)
        .unwrap_or_else(|| panic!("no hit on {entity} in {line}"))
}

fn run_ok(wd: &WorkDir, args: &[&str]) -> String {
    let o = wd.run(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Copies the OFAC list directory into `wd` and adds an alias to entity `ent_num`.
fn ofac_with_alias(wd: &WorkDir, ofac: &Path, ent_num: &str, alias: &str) -> PathBuf {
    let dir = wd.join("ofac-new");
    std::fs::create_dir_all(&dir).unwrap();
    for f in std::fs::read_dir(ofac).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
    }
    let alt = dir.join("alt.csv");
    let mut text = std::fs::read_to_string(&alt).unwrap();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{ent_num},999999,\"aka\",\"{alias}\",-0- \n"));
    std::fs::write(&alt, text).unwrap();
    dir
}

/// The decision tests, on any store: a false positive on a real OFAC entry suppresses the hit
/// (shown, with the decision id) for that party only, and stops applying when the entry changes.
fn false_positive_on_ofac(store: &str) {
    let Some(ofac) = shared_file("data/ofac-sdn-2019") else {
        return;
    };
    let ofac = ofac.to_str().unwrap();
    let wd = WorkDir::new();
    let csv = wd.write(
        "export.csv",
        "Consignee,Consignee Country\nRossiya Bank AG,CH\nBank Rossiya,RU\n",
    );
    let lists = ["--watchlist", ofac, "--store", store];
    let (before, code) = screen(&wd, &csv, &lists);
    assert_eq!(code, 2);
    assert_eq!(before[0]["decision"], "block");
    assert_eq!(hit(&before[0], "16681")["decision"], "block");

    let out = run_ok(
        &wd,
        &[
            "decide",
            "--name",
            "Rossiya Bank AG",
            "--country",
            "CH",
            "--entity",
            "16681",
            "--disposition",
            "false-positive",
            "--reason",
            "Swiss private bank, not Bank Rossiya",
            "--by",
            "alice",
            "--watchlist",
            ofac,
            "--store",
            store,
        ],
    );
    assert!(out.starts_with("decision "), "{out}");

    let (after, code) = screen(&wd, &csv, &lists);
    assert_eq!(after[0]["decision"], "clear", "the decided party is clear");
    let h = hit(&after[0], "16681");
    assert_eq!(h["decision"], "clear", "the hit is kept, suppressed");
    assert_eq!(h["applied"]["disposition"], "false-positive");
    assert_eq!(h["applied"]["by"], "alice");
    assert_eq!(
        after[1]["decision"], "block",
        "another party is not covered"
    );
    assert!(hit(&after[1], "16681").get("applied").is_none());
    assert_eq!(code, 2);

    // CSV shows the suppressed hit with the decision id.
    let o = wd.run(&[
        "screen",
        csv.to_str().unwrap(),
        "-q",
        "--watchlist",
        ofac,
        "--store",
        store,
    ]);
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let h = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    assert_eq!(&rows[0][col("redflag_decision")], "clear");
    assert_eq!(&rows[0][col("redflag_entity_id")], "16681");
    assert_eq!(&rows[0][col("redflag_disposition")], "false-positive");
    assert_eq!(
        &rows[0][col("redflag_decision_id")],
        h_applied_id(&after[0])
    );
    assert_eq!(&rows[1][col("redflag_decision_id")], "");

    // The run as the audit trail keeps it, as the HTML report: the suppressed hit with who
    // decided it, and the blocked party.
    let o = wd.run(&[
        "screen",
        csv.to_str().unwrap(),
        "--format",
        "jsonl",
        "--watchlist",
        ofac,
        "--store",
        store,
    ]);
    let err = stderr(&o);
    let run = err
        .split("recorded as run ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no run id in {err}"));
    let html = wd.join("run.html");
    run_ok(
        &wd,
        &[
            "audit",
            "report",
            run,
            "-o",
            html.to_str().unwrap(),
            "--store",
            store,
        ],
    );
    let html = std::fs::read_to_string(html).unwrap();
    for expected in [
        run,
        "complete",
        "Rossiya Bank AG",
        "Bank Rossiya",
        "false-positive",
        "Swiss private bank, not Bank Rossiya",
        "alice",
        "ofac-sdn",
    ] {
        assert!(html.contains(expected), "{expected} not in the report");
    }
    let o = wd.run(&["audit", "report", "R999999", "--store", store]);
    assert_ne!(o.status.code(), Some(0), "an unknown run is an error");

    // Rescreening against the same list raises nothing: everything was answered already.
    let rescreen = |list: &str| {
        let o = wd.run(&["rescreen", "--watchlist", list, "--store", store, "-q"]);
        let alerts: Vec<Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (alerts, o.status.code().unwrap())
    };
    assert_eq!(rescreen(ofac), (vec![], 0));

    // The list gains an alias for the entity: its record changed, the decision stops applying,
    // and rescreening reports the entity as changed for both parties (once).
    let changed = ofac_with_alias(&wd, Path::new(ofac), "16681", "ROSSIYA FINANCE HOLDING");
    let changed = changed.to_str().unwrap();
    let (alerts, code) = rescreen(changed);
    assert_eq!(code, 2);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert_eq!(alerts[0]["name"], "Bank Rossiya");
    assert_eq!(alerts[1]["name"], "Rossiya Bank AG");
    assert_eq!(alerts[1]["decision"], "block");
    assert_eq!(alerts[1]["hits"][0]["change"], "entity-changed");
    assert_eq!(alerts[1]["hits"][0]["previous"], "clear");
    assert_eq!(rescreen(changed), (vec![], 0), "reported once");

    let (again, code) = screen(&wd, &csv, &["--watchlist", changed, "--store", store]);
    assert_eq!(code, 2);
    assert_eq!(
        again[0]["decision"], "block",
        "alerts again after the list change"
    );
    assert!(hit(&again[0], "16681").get("applied").is_none());

    let o = wd.run(&["audit", "verify", "--store", store]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("8 runs"), "{}", stdout(&o));
}

fn h_applied_id(line: &Value) -> &str {
    line["hits"][0]["applied"]["id"].as_str().unwrap()
}

/// A decision on one entity never hides another entity's hit on the same party.
fn one_entity_only(store: &str) {
    let wd = WorkDir::new();
    let csv = wd.write("p.csv", "Consignee\nPlanar\n");
    let (before, _) = screen(&wd, &csv, &["--store", store]);
    assert_eq!(hit(&before[0], "planar-izhevsk")["decision"], "block");
    assert_eq!(hit(&before[0], "planar-minsk")["decision"], "block");
    decide_planar(store, "seed:planar-izhevsk", &[]);
    let (after, code) = screen(&wd, &csv, &["--store", store]);
    assert_eq!(code, 2);
    assert_eq!(after[0]["decision"], "block");
    assert_eq!(hit(&after[0], "planar-izhevsk")["decision"], "clear");
    assert_eq!(hit(&after[0], "planar-minsk")["decision"], "block");
    assert!(hit(&after[0], "planar-minsk").get("applied").is_none());
    // Suppressed hits sort after the ones that still count.
    assert_eq!(after[0]["hits"][0]["entity_id"], "planar-minsk");
}

/// `screen` CSV -> disposition and reason filled in -> `decisions import` -> screen again.
fn csv_round_trip(store: &str) {
    let wd = WorkDir::new();
    let input = repo().join("fixtures/shipments.csv");
    let o = wd.run(&["screen", input.to_str().unwrap(), "-q", "-o", "out.csv"]);
    assert_eq!(o.status.code(), Some(2));
    let mut rdr = csv::Reader::from_path(wd.join("out.csv")).unwrap();
    let mut h = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let (name, entity) = (col("redflag_name"), col("redflag_entity_id"));
    h.push_field("Disposition");
    h.push_field("Reason");
    let mut w = csv::Writer::from_path(wd.join("decided.csv")).unwrap();
    w.write_record(&h).unwrap();
    let mut decided = 0;
    for r in &rows {
        let mut r = r.clone();
        if &r[name] == "Tradetools" && &r[entity] == "tradetools" {
            r.push_field("False positive");
            r.push_field("a toolmaker of the same name in another city");
            decided += 1;
        } else {
            r.push_field("");
            r.push_field("");
        }
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
    assert!(decided >= 1);
    let import = |extra: &[&str]| {
        let mut args = vec!["decisions", "import", "decided.csv", "--store", store];
        args.extend(extra);
        let o = wd.run(&args);
        (o.status.code(), stderr(&o))
    };
    let (code, err) = import(&[]);
    assert_eq!(code, Some(65), "no analyst: {err}");
    assert!(err.contains("decided.csv:6: no analyst"), "{err}");
    let (code, err) = import(&["--by", "carol"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("imported 1 decisions"), "{err}");
    // Importing the same file again doubles nothing.
    let (_, err) = import(&["--by", "carol"]);
    assert!(err.contains("imported 0 decisions"), "{err}");
    let export = run_ok(&wd, &["decisions", "export", "--store", store]);
    assert_eq!(export.lines().count(), 2, "{export}");
    assert!(export.contains("carol"));

    let (lines, _) = screen(&wd, &input, &["--store", store]);
    let tradetools: Vec<&Value> = lines.iter().filter(|l| l["name"] == "Tradetools").collect();
    assert!(!tradetools.is_empty());
    for l in tradetools {
        assert_eq!(l["decision"], "clear", "{l}");
        assert_eq!(
            hit(l, "tradetools")["applied"]["disposition"],
            "false-positive"
        );
    }
}

/// A bad row names its file and line, and nothing of the file is imported.
fn import_is_all_or_nothing(store: &str) {
    let wd = WorkDir::new();
    let f = wd.write(
        "d.csv",
        "name,entity_id,disposition,reason,decided_by\n\
         Planar,planar-minsk,true-match,confirmed,dave\n\
         Nobody,no-such-entity,false-positive,x,dave\n",
    );
    let o = wd.run(&["decisions", "import", f.to_str().unwrap(), "--store", store]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("d.csv:3"), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-entity"), "{}", stderr(&o));
    let f = wd.write(
        "e.csv",
        "name,entity_id,disposition,reason,decided_by\n\
         Planar,planar-minsk,maybe,unsure,dave\n",
    );
    let o = wd.run(&["decisions", "import", f.to_str().unwrap(), "--store", store]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("e.csv:2"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown disposition `maybe`"),
        "{}",
        stderr(&o)
    );
    let list = run_ok(&wd, &["decisions", "list", "--store", store]);
    assert!(!list.contains("dave"), "nothing imported: {list}");
}

fn all_decision_tests(store: &dyn Fn(&str) -> String) {
    false_positive_on_ofac(&store("ofac"));
    one_entity_only(&store("entities"));
    csv_round_trip(&store("roundtrip"));
    import_is_all_or_nothing(&store("import"));
}

#[test]
fn decisions_on_sqlite() {
    let wd = WorkDir::new();
    all_decision_tests(&|name| wd.join(&format!("{name}.db")).to_str().unwrap().to_string());
}

#[test]
fn expired_decisions_stop_applying() {
    let wd = WorkDir::new();
    let store = wd.join("s.db");
    let store = store.to_str().unwrap();
    let csv = wd.write("p.csv", "Consignee\nPlanar\n");
    for (entity, expires) in [
        ("planar-izhevsk", "2000-01-01"),
        ("planar-minsk", "2999-01-01"),
    ] {
        decide_planar(store, entity, &["--expires", expires]);
    }
    let (lines, code) = screen(&wd, &csv, &["--store", store]);
    assert_eq!(code, 2);
    assert_eq!(
        hit(&lines[0], "planar-izhevsk")["decision"],
        "block",
        "expired"
    );
    assert_eq!(hit(&lines[0], "planar-minsk")["decision"], "clear");
    let o = wd.run(&[
        "decide",
        "--name",
        "Planar",
        "--entity",
        "planar-minsk",
        "--disposition",
        "clear",
        "--reason",
        "r",
        "--by",
        "eve",
        "--store",
        store,
    ]);
    assert_eq!(o.status.code(), Some(64), "unknown disposition");
}

#[test]
fn bad_stores_are_refused_with_their_exit_codes() {
    let wd = WorkDir::new();
    let csv = wd.write("p.csv", "Consignee\nPlanar\n");
    let garbage = wd.write("garbage.db", vec![0x42u8; 8192]);
    let o = wd.run(&[
        "screen",
        csv.to_str().unwrap(),
        "--store",
        garbage.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a usable redflag store"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(&garbage).unwrap(),
        vec![0x42u8; 8192],
        "left as it was"
    );

    let store = wd.join("s.db");
    let s = store.to_str().unwrap();
    run_ok(&wd, &["decisions", "list", "--store", s]);
    let Some(sqlite3) = sqlite3() else { return };
    let o = Command::new(&sqlite3)
        .args([s, "UPDATE schema_version SET version = 99"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let o = wd.run(&["screen", csv.to_str().unwrap(), "--store", s]);
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("schema version 99 is newer"),
        "{}",
        stderr(&o)
    );

    let other = wd.join("other.db");
    let o = Command::new(&sqlite3)
        .args([
            other.to_str().unwrap(),
            "CREATE TABLE t (x); INSERT INTO t VALUES (1)",
        ])
        .output()
        .unwrap();
    assert!(o.status.success());
    let o = wd.run(&["decisions", "list", "--store", other.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(65), "{}", stderr(&o));

    let o = wd.run(&["decisions", "list", "--store", "/no/such/dir/s.db"]);
    assert_eq!(o.status.code(), Some(69), "{}", stderr(&o));
    let o = wd.run(&["decisions", "list"]);
    assert_eq!(o.status.code(), Some(64), "no store given");
}

fn sqlite3() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin/sqlite3");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: /usr/bin/sqlite3 is not installed");
        None
    }
}

#[test]
fn audit_verify_fails_after_an_edit_or_a_deletion() {
    let Some(sqlite3) = sqlite3() else { return };
    let wd = WorkDir::new();
    let input = repo().join("fixtures/shipments.csv");
    for name in ["edit.db", "delete.db", "parties.db"] {
        let s = wd.join(name);
        let s = s.to_str().unwrap();
        for _ in 0..3 {
            let o = wd.run(&[
                "screen",
                input.to_str().unwrap(),
                "-q",
                "--store",
                s,
                "-o",
                "o.csv",
            ]);
            assert_eq!(o.status.code(), Some(2));
        }
        let o = wd.run(&["audit", "verify", "--store", s]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("6 records, 3 runs"), "{}", stdout(&o));
        let shown: Value =
            serde_json::from_str(&run_ok(&wd, &["audit", "show", "R3", "--store", s])).unwrap();
        assert_eq!(shown["status"], "complete");
        assert_eq!(shown["finish"]["rows"], 37);
        assert_eq!(shown["parties"].as_array().unwrap().len(), 146);
        assert_eq!(shown["start"]["watchlists"][0]["name"], "seed");
    }
    // The triggers refuse a plain edit; a tamperer drops them first.
    let tamper = |db: &str, sql: &str| {
        let o = Command::new(&sqlite3)
            .args([wd.join(db).to_str().unwrap(), sql])
            .output()
            .unwrap();
        (o.status.success(), stderr(&o))
    };
    let (ok, err) = tamper(
        "edit.db",
        "UPDATE audit SET body = replace(body, 'screen', 'scream') WHERE seq = 3",
    );
    assert!(!ok && err.contains("append-only"), "{err}");
    let unlock = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;";
    assert!(tamper("edit.db", &format!("{unlock} UPDATE audit SET body = replace(body, '\"screen\"', '\"check\"') WHERE seq = 3")).0);
    assert!(
        tamper(
            "delete.db",
            &format!("{unlock} DELETE FROM audit WHERE seq = 2")
        )
        .0
    );
    assert!(tamper("parties.db", "UPDATE run_parties SET body = replace(body, '\"decision\":\"block\"', '\"decision\":\"clear\"') WHERE run_id = 'R1'").0);
    for (db, seq, what) in [
        ("edit.db", "record 3", "content was changed"),
        ("delete.db", "record 3", "deleted"),
        ("parties.db", "record 2", "party results"),
    ] {
        let s = wd.join(db);
        let o = wd.run(&["audit", "verify", "--store", s.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(65), "{db}: {}", stdout(&o));
        assert!(
            stderr(&o).contains(seq) && stderr(&o).contains(what),
            "{db}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_failed_run_is_recorded_as_incomplete() {
    let wd = WorkDir::new();
    let s = wd.join("s.db");
    let s = s.to_str().unwrap();
    // A header without any party column fails the run after it started.
    let bad = wd.write("bad.csv", "Foo,Bar\n1,2\n");
    let o = wd.run(&["screen", bad.to_str().unwrap(), "--store", s]);
    assert_eq!(o.status.code(), Some(65));
    let shown: Value =
        serde_json::from_str(&run_ok(&wd, &["audit", "show", "R1", "--store", s])).unwrap();
    assert_eq!(shown["status"], "incomplete");
    assert!(shown["finish"]["error"]
        .as_str()
        .unwrap()
        .contains("no party column"));
}

#[test]
fn concurrent_writers_lose_and_double_nothing() {
    use redflag::store::{self, DecisionRecord, PartyKey};
    let wd = WorkDir::new();
    let path = wd.join("c.db");
    let spec = path.to_str().unwrap().to_string();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let spec = spec.clone();
            std::thread::spawn(move || {
                let mut s = store::open(&spec).unwrap();
                for i in 0..25 {
                    let d = DecisionRecord {
                        id: 0,
                        key: PartyKey::new(&format!("party {t} {i}"), None, None),
                        name: format!("party {t} {i}"),
                        country: None,
                        address: None,
                        list: "seed".into(),
                        entity_id: "sertal".into(),
                        entity_name: "Sertal".into(),
                        fingerprint: "f".into(),
                        disposition: redflag::decision::Disposition::Escalated,
                        reason: "r".into(),
                        decided_by: format!("thread {t}"),
                        decided_at: "2026-11-23T00:00:00Z".into(),
                        expires_at: None,
                    };
                    s.add_decisions(&[d]).unwrap();
                    s.append_audit(None, "start", &format!("{{\"t\":{t},\"i\":{i}}}"))
                        .unwrap();
                }
            })
        })
        .collect();
    // Meanwhile, processes: screens with the store, and decisions.
    let input = repo().join("fixtures/shipments.csv");
    let procs: Vec<_> = (0..3)
        .map(|i| {
            let mut c = wd.cmd();
            if i == 0 {
                c.args([
                    "screen",
                    input.to_str().unwrap(),
                    "-q",
                    "-o",
                    "/dev/null",
                    "--store",
                    &spec,
                ]);
            } else {
                c.args([
                    "decide",
                    "--name",
                    &format!("proc {i}"),
                    "--entity",
                    "sertal",
                    "--disposition",
                    "escalated",
                    "--reason",
                    "r",
                    "--by",
                    "p",
                    "--store",
                    &spec,
                ]);
            }
            c.spawn().unwrap()
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for mut p in procs {
        let code = p.wait().unwrap().code();
        assert!(matches!(code, Some(0 | 2)), "{code:?}");
    }
    let mut s = store::open(&spec).unwrap();
    let all = s.decisions(None).unwrap();
    assert_eq!(all.len(), 102, "4 x 25 from threads, 2 from processes");
    let mut ids: Vec<i64> = all.iter().map(|d| d.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), 102);
    let v = store::audit::verify(s.as_mut()).unwrap();
    assert_eq!(
        v.records, 102,
        "100 thread records and the screen's start and finish"
    );
}

/// A PostgreSQL server of its own, on a free loopback port, stopped on drop.
struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    fn start() -> Option<Postgres> {
        let bin = PathBuf::from("/usr/lib/postgresql/15/bin");
        if !bin.join("pg_ctl").exists() {
            eprintln!(
                "skipping: PostgreSQL 15 is not installed in {}",
                bin.display()
            );
            return None;
        }
        // postgres refuses to run as root: as root, run it as the `postgres` user.
        let as_postgres = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| stdout(&o).trim() == "0")
            .unwrap_or(false);
        let dir = std::env::temp_dir().join(format!("redflag-pg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = Postgres {
            dir,
            bin,
            port,
            as_postgres,
        };
        if as_postgres {
            let ok = Command::new("chown")
                .args(["postgres:", pg.dir.to_str().unwrap()])
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                eprintln!(
                    "skipping: cannot hand {} to the postgres user",
                    pg.dir.display()
                );
                return None;
            }
        }
        let data = pg.dir.join("data");
        let init = pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "redflag",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
        );
        let opts = format!("-p {} -h 127.0.0.1 -k {}", pg.port, pg.dir.display());
        let log = pg.dir.join("log");
        let started = init
            && pg.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-o",
                    &opts,
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "start",
                ],
            );
        if !started {
            eprintln!(
                "skipping: PostgreSQL did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            return None;
        }
        Some(pg)
    }

    fn run(&self, tool: &str, args: &[&str]) -> bool {
        let exe = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        c.args(args).current_dir(&self.dir);
        match c.output() {
            Ok(o) if o.status.success() => true,
            Ok(o) => {
                eprintln!("{tool}: {}{}", stdout(&o), stderr(&o));
                false
            }
            Err(e) => {
                eprintln!("{tool}: {e}");
                false
            }
        }
    }

    /// A fresh database's URL.
    fn database(&self, name: &str) -> String {
        let admin = format!("postgres://redflag@127.0.0.1:{}/postgres", self.port);
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        format!("postgres://redflag@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", "immediate", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn decisions_on_postgres() {
    let Some(pg) = Postgres::start() else { return };
    all_decision_tests(&|name| pg.database(name));

    // A newer schema is refused there too.
    let url = pg.database("newer");
    let wd = WorkDir::new();
    run_ok(&wd, &["decisions", "list", "--store", &url]);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute("UPDATE schema_version SET version = 99")
        .unwrap();
    let o = wd.run(&["decisions", "list", "--store", &url]);
    assert_eq!(o.status.code(), Some(78), "{}", stderr(&o));

    // The server answers with decisions applied and records each call (the sync client runs
    // on the blocking pool, never on an async thread).
    let url = pg.database("served");
    decide_planar(&url, "planar-izhevsk", &[]);
    serve_applies_and_records(&url);
}

#[test]
fn the_server_applies_decisions_and_records_calls_on_sqlite() {
    let wd = WorkDir::new();
    let s = wd.join("s.db");
    let s = s.to_str().unwrap();
    decide_planar(s, "planar-izhevsk", &[]);
    serve_applies_and_records(s);
}

/// Starts `redflag serve` with `store`, screens and checks "Planar" (one entity decided false
/// positive), and checks the audit trail has both calls.
fn serve_applies_and_records(store: &str) {
    let wd = WorkDir::new();
    let server = crate::serve::Server::start(&wd, &["--no-auth", "--store", store], None);
    let post = |path: &str, body: &str| -> Value {
        let r = crate::http::call(&server.addr, "POST", path, None, Some(body));
        assert_eq!(r.status, 200);
        r.json()
    };
    let r = post("/v1/screen", r#"{"parties": [{"name": "Planar"}]}"#);
    assert_eq!(r["decision"], "block");
    assert_eq!(hit(&r["results"][0], "planar-izhevsk")["decision"], "clear");
    assert_eq!(hit(&r["results"][0], "planar-minsk")["decision"], "block");
    let r = post(
        "/v1/check",
        r#"{"parties": [{"role": "consignee", "name": "Planar"}]}"#,
    );
    assert_eq!(
        hit(&r["parties"][0], "planar-izhevsk")["applied"]["by"],
        "frank"
    );
    // A graceful stop closes the store outside the async runtime (the PostgreSQL client would
    // panic closing inside it).
    assert_eq!(server.terminate(), Some(0));
    let o = wd.run(&["audit", "verify", "--store", store]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("4 records, 2 runs"), "{}", stdout(&o));
    let shown: Value =
        serde_json::from_str(&run_ok(&wd, &["audit", "show", "R3", "--store", store])).unwrap();
    assert_eq!(shown["start"]["command"], "api-check");
}

/// Decides, for the party "Planar", that `entity` is a false positive (by frank).
fn decide_planar(store: &str, entity: &str, extra: &[&str]) {
    let mut args = vec![
        "decide",
        "--name",
        "Planar",
        "--entity",
        entity,
        "--disposition",
        "false-positive",
        "--reason",
        "the other Planar",
        "--by",
        "frank",
        "--store",
        store,
    ];
    args.extend(extra);
    run_ok(&WorkDir::new(), &args);
}
