//! Load benchmark for the HTTP API: a fixed number of single-party `/v1/screen` requests over N
//! keep-alive connections on loopback; prints requests/s and p50/p99/max latency. Bounded in
//! count, so it always stops by itself.
//!
//! By default it starts the server in-process (`redflag::server::serve`, the same code as
//! `redflag serve`) on `127.0.0.1:0` against the seed list, optionally with `--synthetic N`
//! generated organisation names added (to approximate the size of a full official list) or
//! `--watchlist PATH` files. `--addr HOST:PORT [--key KEY]` targets a running server instead.
//!
//! `--unique` makes every request's name new (a listed or ordinary name plus a generated word), so
//! that no result or lookup cache answers it: the cost of screening a name never seen before.
//!
//! `cargo run --release --example load -- --requests 50000 --connections 8 --synthetic 20000`

#[path = "../tests/integration/http.rs"]
mod http;

use std::sync::Arc;
use std::time::{Duration, Instant};

use redflag::model::{EntityKind, Watchlist};
use redflag::screen::Screener;
use redflag::server::{serve, AppState, Loader, ServerConfig};

/// Party names sent in turn: listed names, near-misses and ordinary customers.
const NAMES: &[&str] = &[
    "OOO Robin Treid",
    "Nordic Components AB",
    "Hagedorn Bauteile GmbH",
    "Serniya Enginering",
    "Almaty Instrument Supply LLP",
    "Caspian Gate Logistics LLP",
    "Planar Systems Inc",
    "ООО «Радиотехкомплект»",
    "Tradetools",
    "Siemens Aktiengesellschaft",
    "Shenzhen Hongxin Electronics Co Ltd",
    "Müller Elektronik GmbH & Co. KG",
];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Pronounceable made-up organisation names, deterministic.
fn synthetic(n: usize) -> Vec<String> {
    const SYL: &[&str] = &[
        "ka", "ro", "vel", "tan", "mir", "sor", "lek", "dan", "ve", "za", "tro", "nik", "bar",
        "sel", "gor", "ul", "pra", "tem", "vo", "lin",
    ];
    const TAIL: &[&str] = &[
        "Trading",
        "Industries",
        "Holding",
        "Logistics",
        "Electronics",
        "Engineering",
        "Group",
    ];
    const FORM: &[&str] = &["LLC", "OOO", "Ltd", "GmbH", "JSC", "Co Ltd"];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as usize
    };
    (0..n)
        .map(|_| {
            let word: String = (0..2 + next() % 3)
                .map(|_| SYL[next() % SYL.len()])
                .collect();
            let mut w = word.chars();
            let first = w.next().map(|c| c.to_ascii_uppercase()).unwrap_or('X');
            format!(
                "{first}{} {} {}",
                w.as_str(),
                TAIL[next() % TAIL.len()],
                FORM[next() % FORM.len()]
            )
        })
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let requests: usize = arg(&args, "--requests").map_or(20_000, |s| s.parse().unwrap());
    let connections: usize = arg(&args, "--connections").map_or(8, |s| s.parse().unwrap());
    let key = arg(&args, "--key");
    let addr = match arg(&args, "--addr") {
        Some(a) => a,
        None => start_in_process(&args),
    };

    let bodies: Vec<Vec<u8>> = NAMES
        .iter()
        .map(|n| {
            serde_json::json!({ "parties": [{ "name": n, "role": "consignee" }] })
                .to_string()
                .into_bytes()
        })
        .collect();
    let unique = args.iter().any(|a| a == "--unique");
    let per = requests / connections;
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|c| {
            let (addr, key, bodies) = (addr.clone(), key.clone(), bodies.clone());
            let fresh = move |i: usize| -> Vec<u8> {
                let name = format!("{} {}", NAMES[i % NAMES.len()], made_up_word(c * per + i));
                serde_json::json!({ "parties": [{ "name": name, "role": "consignee" }] })
                    .to_string()
                    .into_bytes()
            };
            std::thread::spawn(move || {
                let mut conn = http::Conn::connect(&addr).expect("connect");
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    let owned;
                    let body = if unique {
                        owned = fresh(i);
                        &owned
                    } else {
                        &bodies[(c + i) % bodies.len()]
                    };
                    let t = Instant::now();
                    let r = conn
                        .request("POST", "/v1/screen", key.as_deref(), Some(body))
                        .expect("request");
                    lat.push(t.elapsed());
                    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    let wall = started.elapsed();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{} requests over {connections} connections in {:.2?}: {:.0} requests/s; latency p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        lat.len(),
        wall,
        lat.len() as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        lat[lat.len() - 1],
    );
}

/// Starts the server in this process and returns its address once ready.
/// A pronounceable word for a number, different for every number (no digits: a number would be
/// looked up exactly, a word goes through the fuzzy vocabulary lookup like a real name).
fn made_up_word(mut n: usize) -> String {
    const SYL: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "be", "do", "fu", "ga", "ho", "ju", "pe",
        "si",
    ];
    let mut w = String::from("Qu");
    loop {
        w.push_str(SYL[n % 16]);
        n /= 16;
        if n == 0 {
            break w;
        }
    }
}

fn start_in_process(args: &[String]) -> String {
    let synthetic_n: usize = arg(args, "--synthetic").map_or(0, |s| s.parse().unwrap());
    let paths: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--watchlist")
        .map(|w| w[1].clone())
        .collect();
    let loader: Loader = Arc::new(move || {
        let mut list = redflag::watchlist::seed();
        for p in &paths {
            list.merge(redflag::watchlist::load(p.as_ref(), None)?);
        }
        if synthetic_n > 0 {
            let mut extra = Watchlist::from_names(EntityKind::Organization, synthetic(synthetic_n));
            extra.lists[0].name = "synthetic".into();
            extra.lists[0].version = "generated".into();
            list.merge(extra);
        }
        Ok(Screener::new(list, Default::default()))
    });
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            tx.send(l.local_addr().expect("addr").to_string()).unwrap();
            let state = AppState::new(ServerConfig::default(), loader);
            serve(l, state, std::future::pending())
                .await
                .expect("serve");
        });
    });
    let addr = rx.recv().expect("server address");
    let started = Instant::now();
    while http::call(&addr, "GET", "/readyz", None, None).status != 200 {
        assert!(started.elapsed() < Duration::from_secs(300), "not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("server ready in {:.2?}", started.elapsed());
    addr
}
