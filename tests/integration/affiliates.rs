//! Unlisted affiliates: shared addresses with listed parties, ownership and control, and address
//! clusters within a batch (the bar of the affiliates issue).

use redflag::model::Address;
use redflag::policy::{Decision, Policy};
use redflag::screen::{HitKind, Party, PartyResult, Screener};

use crate::util::{stdout, WorkDir};

fn seed_screener() -> Screener {
    Screener::new(redflag::watchlist::seed(), Policy::default())
}

fn screen(s: &Screener, name: &str, address: &str) -> PartyResult {
    s.screen(&Party {
        role: "consignee".into(),
        name: name.into(),
        address: Some(Address {
            text: address.into(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn address_entities(r: &PartyResult) -> Vec<&str> {
    let mut v: Vec<&str> = r
        .hits
        .iter()
        .filter(|h| h.kind == HitKind::Address)
        .map(|h| h.entity_id.as_str())
        .collect();
    v.sort();
    v
}

#[test]
fn tradetools_respelled_at_robin_trades_address_in_cyrillic_is_a_review_with_the_address() {
    let s = seed_screener();
    let r = screen(
        &s,
        "TD Treidtuls",
        "ул. Яблочкова, д. 21, корп. 3, Москва 127322, Россия",
    );
    assert_eq!(r.decision, Decision::Review);
    assert!(r
        .hits
        .iter()
        .any(|h| h.kind == HitKind::Name && h.entity_id == "tradetools"));
    let addr = r
        .hits
        .iter()
        .find(|h| h.kind == HitKind::Address && h.entity_id == "robin-trade")
        .expect("an address hit on Robin Trade");
    assert!(
        addr.explanation.contains("same building"),
        "{}",
        addr.explanation
    );
    assert!(
        addr.explanation.contains("Яблочкова"),
        "{}",
        addr.explanation
    );
    // Tradetools is a watch entry controlled by the person who controls the listed network.
    let own = r
        .hits
        .iter()
        .find(|h| h.kind == HitKind::Ownership)
        .unwrap();
    assert!(
        own.explanation.contains("who also controls listed"),
        "{}",
        own.explanation
    );
}

#[test]
fn sertal_and_robin_trade_share_a_building() {
    let s = seed_screener();
    let r = screen(
        &s,
        "Novaya Firma",
        "Ul. Yablochkova D. 21, Korpus 3, Moscow 127322, Russia",
    );
    let hits = address_entities(&r);
    assert!(hits.contains(&"sertal"), "{hits:?}");
    assert!(hits.contains(&"robin-trade"), "{hits:?}");
    assert_eq!(
        r.decision,
        Decision::Review,
        "shared addresses review, never block alone"
    );
}

#[test]
fn london_fronts_match_although_postcodes_are_swapped() {
    let s = seed_screener();
    let r = screen(
        &s,
        "Kestrel Advisory LLP",
        "Epworth House, 25 City Road, Office 320, London EC4A 1BR, United Kingdom",
    );
    let hits = address_entities(&r);
    assert!(
        hits.contains(&"majory-llp") && hits.contains(&"photon-pro"),
        "{hits:?}"
    );
}

#[test]
fn an_unrelated_company_on_the_same_street_is_clear() {
    let s = seed_screener();
    let r = screen(
        &s,
        "Novaya Firma",
        "Ul. Yablochkova D. 25, Moscow 127322, Russia",
    );
    assert_eq!(r.decision, Decision::Clear, "{:?}", r.hits);
    assert!(address_entities(&r).is_empty());
}

const OWNERSHIP_LIST: &str = r#"
[list]
name = "gray"
published = "2026-11-20"

[sources]
registry = { title = "company registry extract" }

[[entity]]
id = "alpha"
kind = "organization"
names = [{ text = "Alpha Defence Holding" }]
status = { listed = true, lists = ["US SDN"] }

[[entity]]
id = "beta"
kind = "organization"
names = [{ text = "Beta Industrial Concern" }]
status = { listed = true, lists = ["EU"] }

[[entity]]
id = "joint"
kind = "organization"
names = [{ text = "Kvarts Microsystems" }]
relations = [
  { type = "owned_by", target = "alpha", percentage = 30, source = "registry" },
  { type = "owned_by", target = "beta", percentage = 25, source = "registry" },
]
status = { listed = false, note = "owned by listed parties" }

[[entity]]
id = "minority"
kind = "organization"
names = [{ text = "Zarya Optics" }]
relations = [{ type = "owned_by", target = "alpha", percentage = 49, source = "registry" }]
status = { listed = false }
"#;

#[test]
fn fifty_five_percent_owned_by_two_listed_parties_blocks_and_forty_nine_reviews() {
    let wd = WorkDir::new();
    wd.write("gray.toml", OWNERSHIP_LIST);
    wd.write(
        "s.csv",
        "Consignee\nKvarts Microsystems LLC\nZarya Optics\n",
    );
    let o = wd.run(&[
        "screen",
        "s.csv",
        "--watchlist",
        "gray.toml",
        "--format",
        "jsonl",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["decision"], "block");
    let own = lines[0]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["kind"] == "ownership")
        .unwrap();
    let ex = own["explanation"].as_str().unwrap();
    assert!(
        ex.contains("owned 30% by listed `Alpha Defence Holding`"),
        "{ex}"
    );
    assert!(
        ex.contains("owned 25% by listed `Beta Industrial Concern`"),
        "{ex}"
    );
    assert!(ex.contains("55.0% in aggregate"), "{ex}");
    assert_eq!(lines[1]["decision"], "review");
    assert!(lines[1]["hits"].to_string().contains("49"));
}

#[test]
fn a_batch_reports_parties_sharing_a_building() {
    let wd = WorkDir::new();
    wd.write(
        "b.csv",
        "Consignee,Consignee Address,Consignee Country\n\
         Harbor Star Ltd,\"135 Bonham Strand, Sheung Wan, Hong Kong\",HK\n\
         Wing Lok Components,\"135 Bonham Strand, Hong Kong\",HK\n\
         Pacific Bright Trading,\"Rm 5, 135 Bonham Strand, Sheung Wan\",HK\n\
         Nordic Components AB,\"Lindholmsallén 10, Göteborg\",SE\n",
    );
    let o = wd.run(&["screen", "b.csv", "--format", "jsonl"]);
    let out = stdout(&o);
    let cluster: serde_json::Value = out
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v.get("cluster").is_some())
        .expect("a cluster line");
    assert_eq!(cluster["cluster"]["distinct_names"], 3);
    assert_eq!(cluster["cluster"]["members"].as_array().unwrap().len(), 3);
    assert!(crate::util::stderr(&o).contains("cluster: 3 different parties"));
    assert_eq!(
        out.lines().count(),
        5,
        "four party lines and one cluster line"
    );
}
