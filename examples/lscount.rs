fn main() {
    let p = std::env::args().nth(1).unwrap();
    let t = std::time::Instant::now();
    let l = redflag::watchlist::read(std::path::Path::new(&p), redflag::watchlist::detect(std::path::Path::new(&p)).unwrap()).unwrap();
    eprintln!("{:?}", t.elapsed());
    println!("{}", serde_json::to_string_pretty(&redflag::watchlist::stats(&l.watchlist)).unwrap());
    println!("problems {}", l.problems.len());
    for p in l.problems.iter().take(5) { println!("{p}"); }
    for id in std::env::args().skip(2) { if let Some(i) = l.watchlist.find(&id) { println!("{:#?}", l.watchlist.entities[i]); } }
}
