//! `redflag screen --report`: the HTML file on its own (written while results go to stdout,
//! escaped, self-contained) and in a real headless Chromium, which shows what a person sees.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{stderr, stdout, WorkDir};

/// A name that would retitle the page and wipe its body if the browser ran it.
const INJECTED: &str =
    "Robin Trade <script>document.title='PWNED';document.body.textContent='PWNED'</script> & \"Co\"";

/// Screens a small export with a blocked party, a review, a clear one and a
/// name carrying a script, with results to stdout and the report to `report.html`.
fn screen_with_report(wd: &WorkDir) -> (PathBuf, String, i32) {
    let csv = format!(
        "Consignee,Consignee Country\n\
         ООО «Робин Трейд»,RU\n\
         \"{}\",RU\n\
         Hagedorn Bauteile GmbH,DE\n\
         Foreign Intelligence Service (SVR),RU\n",
        INJECTED.replace('"', "\"\"")
    );
    wd.write("in.csv", csv);
    let o = wd.run(&["screen", "in.csv", "--report", "report.html", "-q"]);
    let report = wd.join("report.html");
    (report, stdout(&o), o.status.code().unwrap_or(-1))
}

#[test]
fn the_report_is_written_beside_stdout_output_and_escapes_every_value() {
    let wd = WorkDir::new();
    let (report, out, code) = screen_with_report(&wd);
    assert_eq!(code, 2);
    assert_eq!(
        out.lines().count(),
        5,
        "the CSV still goes to stdout: {out}"
    );
    let html = std::fs::read_to_string(report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<script"),
        "an input value reached the HTML unescaped"
    );
    assert!(html.contains(
        "Robin Trade &lt;script&gt;document.title=&#39;PWNED&#39;;document.body.textContent=&#39;PWNED&#39;&lt;/script&gt; &amp; &quot;Co&quot;"
    ));
    for outside in ["src=", "href=", "url(", "@import", "<link"] {
        assert!(!html.contains(outside), "{outside}");
    }
    // Three parties flagged, the clear one counted only.
    assert_eq!(html.matches("<article class=\"party ").count(), 3);
    assert!(!html.contains("Hagedorn"));
    assert!(html.contains("<tr><th>Parties</th><td class=\"num\">4</td><td class=\"num\">1</td><td class=\"num\">2</td><td class=\"num\">0</td><td class=\"num\">1</td></tr>"), "{html}");
}

#[test]
fn a_report_that_cannot_be_created_fails_before_screening() {
    let wd = WorkDir::new();
    wd.write("in.csv", "Consignee\nRobin Trade\n");
    let o = wd.run(&["screen", "in.csv", "--report", "no/such/dir/r.html", "-q"]);
    assert_eq!(o.status.code(), Some(66), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("no/such/dir/r.html"));
}

/// The Chromium binary, or None (the caller prints why it skips).
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Runs headless Chromium on `page` with `extra` arguments; returns its stdout. Killed after
/// a minute so that a hung browser fails the test instead of holding CI.
fn run_chromium(browser: &Path, profile: &Path, page: &Path, extra: &[&str]) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The text of an HTML document as a reader sees it: tags dropped, entities decoded, spaces folded.
fn visible_text(dom: &str) -> String {
    let body = dom.split_once("<body>").map_or(dom, |(_, b)| b);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn chromium_shows_the_counts_the_blocked_party_and_the_tokens_and_runs_no_injected_script() {
    let Some(browser) = chromium() else {
        eprintln!(
            "skipping: chromium is not installed (.ci/run installs it: apt-get install chromium)"
        );
        return;
    };
    let wd = WorkDir::new();
    let (report, _, _) = screen_with_report(&wd);
    let dom = run_chromium(&browser, &wd.join("profile"), &report, &["--dump-dom"]);
    assert!(
        dom.contains("<title>redflag screening report: in.csv</title>"),
        "the title changed: a script ran? {dom}"
    );
    let text = visible_text(&dom);
    assert!(!text.contains("PWNED PWNED"), "{text}");
    assert!(
        text.contains("total block review error clear Rows 4 1 2 0 1 Parties 4 1 2 0 1"),
        "{text}"
    );
    // The blocked party, its hit and the aligned tokens, exact and fuzzy.
    assert!(
        text.contains("block ООО «Робин Трейд» row 1 · consignee · RU"),
        "{text}"
    );
    assert!(
        text.contains("block 1.000 name Robin Trade seed:robin-trade"),
        "{text}"
    );
    assert!(text.contains("robin ↔ robin trade ↔ trade"), "{text}");
    // The injected name is shown as text, whole.
    assert!(text.contains(INJECTED), "{text}");
    assert!(!dom.contains("<script"), "{dom}");

    // A screenshot renders (the size is the window's).
    let png = wd.join("report.png");
    run_chromium(
        &browser,
        &wd.join("profile"),
        &report,
        &[
            "--window-size=1000,800",
            &format!("--screenshot={}", png.display()),
        ],
    );
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 1000);
}
