//! `redflag screen` on real-world inputs: encodings (UTF-8 with and without BOM, UTF-16 with BOM,
//! Windows-1251 and -1252, detected or forced), JSON-lines input, and stdin streaming (results
//! come out while the input is still open).

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::util::{screen_jsonl_bytes as screen, stderr, stdout, WorkDir};

fn utf16(text: &str, le: bool) -> Vec<u8> {
    let bom: [u8; 2] = if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] };
    bom.into_iter()
        .chain(text.encode_utf16().flat_map(
            move |u| {
                if le {
                    u.to_le_bytes()
                } else {
                    u.to_be_bytes()
                }
            },
        ))
        .collect()
}

#[test]
fn every_supported_encoding_is_read() {
    let wd = WorkDir::new();
    let ru =
        "Shipper;Consignee;Consignee Country\r\nHagedorn Bauteile GmbH;ООО «Робин Трейд»;RU\r\n";
    let both = "Shipper,Consignee,Consignee Country\nMüller GmbH,ООО «Робин Трейд»,RU\n";
    let mut bom8 = vec![0xEF, 0xBB, 0xBF];
    bom8.extend_from_slice(both.as_bytes());
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(ru);
    for (file, bytes) in [
        ("utf8.csv", both.as_bytes().to_vec()),
        ("utf8bom.csv", bom8),
        ("utf16le.csv", utf16(both, true)),
        ("utf16be.csv", utf16(both, false)),
        ("cp1251.csv", cp1251.into_owned()),
    ] {
        let (lines, code) = screen(&wd, file, &bytes, &[]);
        assert_eq!(code, 2, "{file}: Robin Trade blocks");
        let consignee = lines.iter().find(|l| l["party"] == "consignee").unwrap();
        assert_eq!(consignee["name"], "ООО «Робин Трейд»", "{file}");
        assert_eq!(consignee["decision"], "block", "{file}");
        assert_eq!(consignee["hits"][0]["entity_id"], "robin-trade", "{file}");
    }
    let de = "Shipper,Consignee\nMüller GmbH,Société Générale\n";
    let (cp1252, _, _) = encoding_rs::WINDOWS_1252.encode(de);
    let (lines, code) = screen(&wd, "cp1252.csv", &cp1252, &[]);
    assert_eq!(code, 0);
    assert_eq!(lines[0]["name"], "Müller GmbH");
    assert_eq!(lines[1]["name"], "Société Générale");

    // CSV output is UTF-8 whatever came in.
    let p = wd.write("in1251.csv", encoding_rs::WINDOWS_1251.encode(ru).0);
    let o = wd.run(&["screen", p.to_str().unwrap(), "--quiet"]);
    assert!(stdout(&o).contains("ООО «Робин Трейд»"));
}

#[test]
fn a_forced_encoding_wins_over_detection() {
    let wd = WorkDir::new();
    let ru = "Shipper,Consignee\nA,ООО «Робин Трейд»\n";
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(ru);
    let (lines, _) = screen(&wd, "a.csv", &cp1251, &["--encoding", "windows-1252"]);
    assert_ne!(lines[1]["name"], "ООО «Робин Трейд»");
    let (lines, code) = screen(&wd, "b.csv", &cp1251, &["--encoding", "windows-1251"]);
    assert_eq!((code, lines[1]["decision"].clone()), (2, "block".into()));
    // Invalid bytes in a UTF-8 input stay error rows.
    let (lines, code) = screen(&wd, "c.csv", &cp1251, &["--encoding", "utf-8"]);
    assert_eq!(code, 65);
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("invalid UTF-8"));
    let o = wd.run(&["screen", "c.csv", "--encoding", "koi8-r"]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
}

#[test]
fn jsonl_input_with_a_malformed_line_keeps_every_row() {
    let wd = WorkDir::new();
    let input = concat!(
        "{\"Shipment\": \"S1\", \"Consignee\": \"OOO Robin Treid\", \"Consignee Country\": \"RU\"}\n",
        "{\"Shipment\": \"S2\", \"Consignee\": \"Nordic Components AB\"}\n",
        "{\"Shipment\": \"S3\", \"Consignee\": \n",
        "{\"Shipment\": 4, \"Consignee\": \"=cmd|' /C calc'!A0\"}\n",
    );
    let p = wd.write("in.jsonl", input);
    let o = wd.run(&[
        "screen",
        p.to_str().unwrap(),
        "--input-format",
        "jsonl",
        "--quiet",
    ]);
    assert_eq!(
        o.status.code(),
        Some(65),
        "an error row means the run could not check everything"
    );
    let out = stdout(&o);
    let mut rows = csv::Reader::from_reader(out.as_bytes());
    let headers = rows.headers().unwrap().clone();
    assert_eq!(&headers[0], "Shipment");
    assert_eq!(&headers[2], "Consignee Country");
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[0][3], "block");
    assert_eq!(&rows[1][2], "", "a missing key is an empty cell");
    assert_eq!(&rows[2][3], "error");
    assert!(rows[2][12].contains(":3: malformed JSON"), "{:?}", &rows[2]);
    assert_eq!(&rows[3][0], "4");
    assert!(
        rows[3][1].starts_with("'="),
        "formula neutralised: {}",
        &rows[3][1]
    );
}

#[test]
fn stdin_results_come_out_before_the_input_ends() {
    let wd = WorkDir::new();
    let mut child = wd
        .cmd()
        .args(["screen", "-", "--format", "jsonl", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    stdin
        .write_all("Consignee,Consignee Country\nOOO Robin Treid,RU\n".as_bytes())
        .unwrap();
    stdin.flush().unwrap();
    // The input stays open: the first result must come anyway.
    let first = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("no result while the input was open");
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(
        (v["row"].clone(), v["decision"].clone()),
        (1.into(), "block".into())
    );
    stdin.write_all(b"Nordic Components AB,SE\n").unwrap();
    stdin.flush().unwrap();
    let second = rx.recv_timeout(Duration::from_secs(60)).unwrap();
    assert!(second.contains("\"row\":2"));
    drop(stdin);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
}
