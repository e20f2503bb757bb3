//! `redflag serve` end to end: the real binary on a loopback port (`127.0.0.1:0`, the port read
//! from its `listening on` line), every route, auth, limits, malformed JSON, reloads under load
//! and by SIGHUP; and, in-process, that `/readyz` is 503 until the watchlists are loaded.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::http::{call, Conn};
use crate::util::{screen_jsonl_bytes, WorkDir};

const KEY: &str = "test-key-5f2a";
/// Generous: the test machine may be busy building other things.
const STARTUP: Duration = Duration::from_secs(60);

/// A running server, killed on drop; its stderr is collected for assertions.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    pub(crate) fn start(wd: &WorkDir, args: &[&str], key: Option<&str>) -> Server {
        let mut cmd = wd.cmd();
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("REDFLAG_API_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(k) = key {
            cmd.env("REDFLAG_API_KEY", k);
        }
        let mut child = cmd.spawn().expect("start redflag serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("redflag: listening on ") {
                    let _ = tx.send(addr.to_string());
                }
                sink.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let addr = match rx.recv_timeout(STARTUP) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!("server did not start: {}", log.lock().unwrap());
            }
        };
        let server = Server { child, addr, log };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if call(&self.addr, "GET", "/readyz", None, None).status == 200 {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("server never became ready: {}", self.log());
    }

    /// Stops the server with SIGTERM (a graceful shutdown) and returns its exit code.
    pub(crate) fn terminate(mut self) -> Option<i32> {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().ok().and_then(|s| s.code())
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn screen(&self, body: &str) -> crate::http::Response {
        call(&self.addr, "POST", "/v1/screen", Some(KEY), Some(body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn one_party(name: &str) -> String {
    serde_json::json!({ "parties": [{ "name": name }] }).to_string()
}

#[test]
fn every_route_auth_and_the_jsonl_shape() {
    let wd = WorkDir::new();
    let s = Server::start(&wd, &[], Some(KEY));
    let a = s.addr.as_str();

    let r = call(a, "GET", "/healthz", None, None);
    assert_eq!((r.status, r.json()["status"].clone()), (200, "ok".into()));
    let r = call(a, "GET", "/readyz", None, None);
    assert_eq!(r.json()["watchlists"][0]["name"], "seed");
    assert!(r
        .header("x-redflag-watchlists")
        .unwrap()
        .starts_with("seed="));

    // Every documented route answers (not 404/405) for its method, with the key.
    let doc = call(a, "GET", "/openapi.json", None, None).json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let body = one_party("Test");
    let mut n = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let m = method.to_uppercase();
            let b = (m == "POST").then_some(body.as_str());
            let r = call(a, &m, path, Some(KEY), b);
            assert!(![404, 405].contains(&r.status), "{m} {path}: {}", r.status);
            r.json();
            n += 1;
        }
    }
    assert_eq!(n, 7);

    // Auth on every /v1 route: missing and wrong keys are 401 JSON errors.
    for (m, p) in [
        ("POST", "/v1/screen"),
        ("POST", "/v1/check"),
        ("GET", "/v1/watchlists"),
        ("POST", "/v1/admin/reload"),
    ] {
        let b = (m == "POST").then_some(body.as_str());
        for key in [None, Some("wrong")] {
            let r = call(a, m, p, key, b);
            assert_eq!(r.status, 401, "{m} {p} with {key:?}");
            assert!(r.json()["error"].as_str().unwrap().contains("API key"));
        }
    }

    // /v1/screen: same per-party shape as `screen --format jsonl`, plus the reference.
    let r = s.screen(
        r#"{"parties": [
            {"name": "OOO Robin Treid", "role": "consignee", "country": "RU", "reference": {"order": 7}},
            {"name": "Hagedorn Bauteile GmbH", "address": "Industriestraße 14, 70565 Stuttgart", "reference": "A-1"},
            {"name": "   "}
        ]}"#,
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        v["decision"], "error",
        "a party that cannot be screened is never clear"
    );
    let res = v["results"].as_array().unwrap();
    assert_eq!(res[0]["decision"], "block");
    assert_eq!(res[0]["hits"][0]["entity_id"], "robin-trade");
    assert_eq!(res[0]["reference"]["order"], 7);
    assert_eq!(
        (res[0]["row"].clone(), res[0]["party"].clone()),
        (1.into(), "consignee".into())
    );
    assert_eq!(res[1]["decision"], "clear");
    assert_eq!(res[1]["reference"], "A-1");
    assert_eq!(res[2]["decision"], "error");
    assert_eq!(v["watchlists"][0]["name"], "seed");
    assert!(r.header("x-redflag-watchlists").is_some());

    let (lines, _) = screen_jsonl_bytes(
        &wd,
        "one.csv",
        b"Consignee,Consignee Country\nOOO Robin Treid,RU\n",
        &[],
    );
    let line = &lines[0];
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.retain(|k| k != "reference");
        k.sort();
        k
    };
    assert_eq!(keys(line), keys(&res[0]));
    assert_eq!(keys(&line["hits"][0]), keys(&res[0]["hits"][0]));
    assert_eq!(line["hits"][0]["score"], res[0]["hits"][0]["score"]);

    let r = call(a, "GET", "/v1/watchlists", Some(KEY), None).json();
    let l = &r["watchlists"][0];
    assert_eq!(
        (l["name"].clone(), l["format"].clone()),
        ("seed".into(), "native".into())
    );
    assert!(l["entity_count"].as_u64().unwrap() > 10);
    assert_eq!(l["content_hash"].as_str().unwrap().len(), 64);

    // The shipment check answers what `redflag check --format json` answers.
    let doc = std::fs::read_to_string(crate::util::repo().join("fixtures/shipment.json")).unwrap();
    let r = call(a, "POST", "/v1/check", Some(KEY), Some(&doc));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["decision"], "block");
    let fixture = crate::util::repo().join("fixtures/shipment.json");
    let cli = wd.run(&["check", fixture.to_str().unwrap(), "--format", "json"]);
    let cli: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(v["decision"], cli["decision"]);
    assert_eq!(v["flags"], cli["flags"]);
    assert!(v["watchlists"].is_array() || r.header("x-redflag-watchlists").is_some());
    let r = call(
        a,
        "POST",
        "/v1/check",
        Some(KEY),
        Some(r#"{"id": "S1", "parties": []}"#),
    );
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    r.json();

    let r = call(a, "GET", "/nope", None, None);
    assert_eq!(r.status, 404);
    r.json();
}

#[test]
fn limits_and_malformed_requests_get_json_errors() {
    let wd = WorkDir::new();
    let s = Server::start(
        &wd,
        &["--max-body", "4096", "--max-parties", "3"],
        Some(KEY),
    );
    let big = one_party(&"x".repeat(10_000));
    let r = s.screen(&big);
    assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
    r.json();

    let four =
        serde_json::json!({ "parties": vec![serde_json::json!({"name": "A"}); 4] }).to_string();
    let r = s.screen(&four);
    assert_eq!(r.status, 422);
    assert!(r.json()["error"].as_str().unwrap().contains("at most 3"));
    assert_eq!(s.screen(r#"{"parties": []}"#).status, 422);

    for (body, status, says) in [
        (r#"{"parties": [{"name": "A"}"#, 400, "EOF"),
        ("not json", 400, "expected"),
        (
            r#"{"parties": [{"role": "buyer"}]}"#,
            422,
            "missing field `name`",
        ),
        (r#"{"parties": [{"name": 5}]}"#, 422, "parties[0].name"),
        (
            r#"{"parties": [{"name": "A", "adress": "x"}]}"#,
            422,
            "unknown field `adress`",
        ),
        (
            r#"{"parties": [{"name": "A", "kind": "robot"}]}"#,
            422,
            "unknown kind",
        ),
        (r#"{"parties": [{"name": "\u0000\uffff"}]}"#, 200, ""),
    ] {
        let r = s.screen(body);
        assert_eq!(
            r.status,
            status,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
        if status != 200 {
            let e = r.json()["error"].as_str().unwrap().to_string();
            assert!(e.contains(says), "{body}: {e}");
        }
    }
    // A name far longer than any real one would keep a core busy past the time limit.
    let long = s.screen(&one_party(&"robin trade ".repeat(100)));
    assert_eq!(long.status, 422);
    assert!(long.json()["error"]
        .as_str()
        .unwrap()
        .contains("parties[0].name"));
    // The wrong method on a route.
    let mut c = Conn::connect(&s.addr).unwrap();
    let r = c.request("GET", "/v1/screen", Some(KEY), None).unwrap();
    assert_eq!(r.status, 405);
    assert_eq!(
        call(&s.addr, "GET", "/healthz", None, None).status,
        200,
        "still serving"
    );

    // A request over the time limit is a 503 JSON error, and the server goes on.
    let wd2 = WorkDir::new();
    let slow = Server::start(
        &wd2,
        &["--timeout-ms", "1", "--max-parties", "5000"],
        Some(KEY),
    );
    let many: Vec<serde_json::Value> = (0..4000)
        .map(|i| serde_json::json!({ "name": format!("Trading House Number {i} Almaz Antey Limited") }))
        .collect();
    let r = slow.screen(&serde_json::json!({ "parties": many }).to_string());
    // Either the time limit answers first (503), or the handler does, having stopped screening at
    // the deadline: then the parties it did not reach are errors and so is the request. Never clear.
    match r.status {
        503 => assert!(r.json()["error"]
            .as_str()
            .unwrap()
            .contains("longer than 1 ms")),
        200 => {
            let v = r.json();
            assert_eq!(v["decision"], "error");
            assert!(v.to_string().contains("ran out of time"));
        }
        other => panic!("unexpected status {other}"),
    }
    assert_eq!(call(&slow.addr, "GET", "/healthz", None, None).status, 200);
}

#[test]
fn keys_and_no_auth_only_on_loopback() {
    let wd = WorkDir::new();
    // Without a key the server refuses to start, and --no-auth is for loopback only.
    for (args, key) in [
        (vec!["serve", "--listen", "127.0.0.1:0"], None),
        (vec!["serve", "--listen", "0.0.0.0:0", "--no-auth"], None),
        (
            vec!["serve", "--listen", "127.0.0.1:0", "--no-auth"],
            Some(KEY),
        ),
    ] {
        let mut c = wd.cmd();
        c.args(&args).env_remove("REDFLAG_API_KEY");
        if let Some(k) = key {
            c.env("REDFLAG_API_KEY", k);
        }
        let o = c.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(64),
            "{args:?}: {}",
            crate::util::stderr(&o)
        );
    }
    let open = Server::start(&wd, &["--no-auth"], None);
    let r = call(
        &open.addr,
        "POST",
        "/v1/screen",
        None,
        Some(&one_party("Robin Trade")),
    );
    assert_eq!(r.json()["results"][0]["decision"], "block");
    drop(open);

    let keyfile = wd.write("key.txt", "from-a-file\n");
    let s = Server::start(&wd, &["--api-key-file", keyfile.to_str().unwrap()], None);
    let body = one_party("A");
    assert_eq!(
        call(
            &s.addr,
            "POST",
            "/v1/screen",
            Some("from-a-file"),
            Some(&body)
        )
        .status,
        200
    );
    assert_eq!(
        call(&s.addr, "POST", "/v1/screen", Some(KEY), Some(&body)).status,
        401
    );

    // A watchlist that cannot be loaded at start stops the server (69), after binding.
    let o = wd
        .cmd()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-auth",
            "--watchlist",
            "missing.toml",
        ])
        .env_remove("REDFLAG_API_KEY")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(69), "{}", crate::util::stderr(&o));
}

fn list(version: &str, name: &str) -> String {
    format!(
        r#"[list]
name = "internal"
published = "{version}"

[sources]
memo = {{ title = "internal memo" }}

[[entity]]
id = "acme"
kind = "organization"
names = [{{ text = "{name}", type = "primary", source = "memo" }}]
status = {{ listed = true, source = "memo" }}
"#
    )
}

fn version_of(v: &serde_json::Value) -> String {
    v["watchlists"][0]["version"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn reloads_swap_atomically_under_load_and_keep_the_old_list_on_failure() {
    let wd = WorkDir::new();
    let path = wd.write("internal.toml", list("2026-01-01", "Acme Rocket Works"));
    let s = Server::start(&wd, &["--watchlist", path.to_str().unwrap()], Some(KEY));
    let body = one_party("Acme Rocket Works");
    assert_eq!(version_of(&s.screen(&body).json()), "2026-01-01");

    // Four clients screen while the list is reloaded; every request succeeds on one version.
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, body, stop) = (s.addr.clone(), body.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = Conn::connect(&addr).unwrap();
                let mut seen = Vec::new();
                for _ in 0..5000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let r = conn
                        .request("POST", "/v1/screen", Some(KEY), Some(body.as_bytes()))
                        .unwrap();
                    assert_eq!(r.status, 200);
                    let v = r.json();
                    let version = version_of(&v);
                    assert_eq!(
                        r.header("x-redflag-watchlists").unwrap(),
                        format!("internal={version}"),
                        "header and body name the same list"
                    );
                    assert_eq!(v["results"][0]["hits"][0]["list_version"], version.as_str());
                    assert_eq!(v["results"][0]["decision"], "block");
                    seen.push(version);
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    wd.write("internal.toml", list("2026-02-01", "Acme Rocket Works"));
    let r = call(&s.addr, "POST", "/v1/admin/reload", Some(KEY), None);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["reloaded"].clone(), version_of(&v)),
        (true.into(), "2026-02-01".into())
    );
    assert_eq!(v["previous"][0]["version"], "2026-01-01");
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let seen = c.join().expect("a client failed");
        assert!(seen.iter().all(|v| v == "2026-01-01" || v == "2026-02-01"));
        // A client's requests are sequential: once it saw the new list, never the old one again.
        let first_new = seen
            .iter()
            .position(|v| v == "2026-02-01")
            .unwrap_or(seen.len());
        assert!(
            seen[first_new..].iter().all(|v| v == "2026-02-01"),
            "{seen:?}"
        );
    }
    assert_eq!(version_of(&s.screen(&body).json()), "2026-02-01");

    // A broken file: the reload fails, says so, and the old list stays in use.
    wd.write("internal.toml", "[list]\nname = \"internal\"\n[[entity]\n");
    let r = call(&s.addr, "POST", "/v1/admin/reload", Some(KEY), None);
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["reloaded"], false);
    assert!(
        v["error"].as_str().unwrap().contains("internal.toml"),
        "{v}"
    );
    assert_eq!(version_of(&v), "2026-02-01");
    let r = s.screen(&body);
    assert_eq!(
        (r.status, version_of(&r.json())),
        (200, "2026-02-01".into())
    );
    assert!(s.log().contains("keeping the current ones"));

    // SIGHUP reloads too.
    wd.write("internal.toml", list("2026-03-01", "Acme Rocket Works"));
    let killed = std::process::Command::new("kill")
        .args(["-HUP", &s.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + STARTUP;
    loop {
        let v = call(&s.addr, "GET", "/v1/watchlists", Some(KEY), None).json();
        if version_of(&v) == "2026-03-01" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The log line may follow the swap by a moment.
    let deadline = Instant::now() + STARTUP;
    while !s.log().contains("SIGHUP") {
        assert!(
            Instant::now() < deadline,
            "no SIGHUP in the log: {}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn not_ready_until_the_watchlists_are_loaded() {
    use redflag::server::{serve, AppState, Loader, ServerConfig};
    // The loader waits for the test's go-ahead, so the loading state can be observed.
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = Mutex::new(go_rx);
    let loader: Loader = Arc::new(move || {
        let _ = go_rx.lock().unwrap().recv_timeout(STARTUP);
        Ok(redflag::screen::Screener::new(
            redflag::watchlist::seed(),
            Default::default(),
        ))
    });
    let (addr_tx, addr_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(l.local_addr().unwrap().to_string()).unwrap();
            let state = AppState::new(ServerConfig::default(), loader);
            serve(l, state, async {
                let _ = stop_rx.await;
            })
            .await
        })
    });
    let addr = addr_rx.recv_timeout(STARTUP).unwrap();
    let r = call(&addr, "GET", "/readyz", None, None);
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (503, "loading".into())
    );
    assert_eq!(call(&addr, "GET", "/healthz", None, None).status, 200);
    let r = call(&addr, "POST", "/v1/screen", None, Some(&one_party("A")));
    assert_eq!(r.status, 503);
    go_tx.send(()).unwrap();
    let deadline = Instant::now() + STARTUP;
    while call(&addr, "GET", "/readyz", None, None).status != 200 {
        assert!(Instant::now() < deadline, "never ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    let r = call(
        &addr,
        "POST",
        "/v1/screen",
        None,
        Some(&one_party("Robin Trade")),
    );
    assert_eq!(r.json()["results"][0]["decision"], "block");
    stop_tx.send(()).unwrap();
    server.join().unwrap().unwrap();
}
