//! How old a loaded watchlist is, and the `--max-age` check that refuses stale lists.
//!
//! A pre-shipment check against last year's list is not a check: `check` fails closed (exit 69)
//! when a list loaded from a file is older than the maximum age. A list's age is counted from its
//! publication date where the file has one (`ListInfo.published`, ISO 8601), else from the file's
//! modification time (the newest file, for a directory). The seed list compiled into the binary is
//! exempt: it is as old as the binary, and replacing it means a new release. Not here: loading.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::model::{ListInfo, Watchlist};

/// The default `--max-age`: a week.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(7 * 86_400);

/// Parses a maximum age: `7d` (days), `12h` (hours), `30m` (minutes) or plain seconds (`3600`, `3600s`).
pub fn parse_duration(s: &str) -> Result<Duration> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let factor = match unit.trim() {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => 0,
    };
    match num.parse::<u64>() {
        Ok(n) if factor > 0 => Ok(Duration::from_secs(n.saturating_mul(factor))),
        _ => Err(Error::Usage(format!(
            "`{s}` is not an age: write 7d, 12h, 30m or a number of seconds"
        ))),
    }
}

/// Seconds since the Unix epoch at the start of an ISO 8601 date (`2026-11-23`, also the date part
/// of `2026-11-23T10:00:00Z`), or None when it is not one.
pub fn parse_iso_date(s: &str) -> Option<SystemTime> {
    let d = s.trim().get(..10)?;
    let mut parts = d.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if d.as_bytes()[4] != b'-' || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm): proleptic Gregorian, no time zones needed.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// A time as RFC 3339 in UTC to the second (`2026-11-23T10:04:05Z`): the inverse of the
/// days-from-civil step above (Howard Hinnant's civil-from-days).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// When a list was last made: its publication date, else its file's modification time.
/// Returns the time and what it is (`published 2026-11-01`, `modified`). None for the built-in list.
pub fn list_time(info: &ListInfo) -> Result<Option<(SystemTime, String)>> {
    if info.builtin {
        return Ok(None);
    }
    if let Some(t) = info.published.as_deref().and_then(parse_iso_date) {
        return Ok(Some((
            t,
            format!("published {}", info.published.as_deref().unwrap_or("")),
        )));
    }
    if let Some(t) = info.modified {
        return Ok(Some((t, "file modified".into())));
    }
    let path = Path::new(&info.path);
    let unavailable =
        |e: std::io::Error| Error::WatchlistUnavailable(format!("{}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(unavailable)?;
    let mut newest = meta.modified().map_err(unavailable)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(unavailable)?.flatten() {
            if let Ok(t) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(t);
            }
        }
    }
    Ok(Some((newest, "file modified".into())))
}

/// Fails with [`Error::WatchlistUnavailable`] (exit 69) naming the first list older than `max_age`
/// at `now`, with its age.
pub fn ensure_fresh(wl: &Watchlist, max_age: Duration, now: SystemTime) -> Result<()> {
    for info in &wl.lists {
        let Some((made, what)) = list_time(info)? else {
            continue;
        };
        // A date in the future is not stale (clock skew, a list dated ahead).
        let age = now.duration_since(made).unwrap_or_default();
        if age > max_age {
            return Err(Error::WatchlistUnavailable(format!(
                "list `{}` ({}) is {} old ({what}), older than the maximum age of {}; \
                 load a current list or raise --max-age",
                info.name,
                info.path,
                human(age),
                human(max_age)
            )));
        }
    }
    Ok(())
}

/// `12d 3h`, `5h`, `40s`: an age for a person.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 86_400, s % 86_400 / 3_600) {
        (0, 0) => format!("{s}s"),
        (0, h) => format!("{h}h"),
        (days, 0) => format!("{days}d"),
        (days, h) => format!("{days}d {h}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_as_rfc3339_and_round_trip_through_dates() {
        let t = UNIX_EPOCH + Duration::from_secs(1_709_210_096); // 2024-02-29 12:34:56 UTC
        assert_eq!(rfc3339(t), "2024-02-29T12:34:56Z");
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        for date in ["2000-03-01", "1999-12-31", "2100-02-28"] {
            let t = parse_iso_date(date).unwrap();
            assert_eq!(rfc3339(t), format!("{date}T00:00:00Z"));
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_duration("7d").unwrap(), DEFAULT_MAX_AGE);
        assert_eq!(
            parse_duration("36h").unwrap(),
            Duration::from_secs(36 * 3600)
        );
        assert_eq!(parse_duration("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        for bad in ["", "d", "7w", "-1d", "1.5d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iso_dates() {
        let secs = |s| {
            parse_iso_date(s)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs()
        };
        assert_eq!(secs("1970-01-01"), 0);
        assert_eq!(secs("2000-03-01"), 951_868_800);
        assert_eq!(secs("2026-11-23T08:00:00Z"), 1_795_392_000);
        assert_eq!(parse_iso_date("23.11.2026"), None);
        assert_eq!(parse_iso_date("2026-13-01"), None);
        assert_eq!(parse_iso_date("Nov 2026"), None);
    }

    #[test]
    fn stale_lists_are_unavailable_and_the_seed_is_exempt() {
        let mut wl = crate::watchlist::seed();
        let now = parse_iso_date("2040-01-01").unwrap();
        assert!(ensure_fresh(&wl, DEFAULT_MAX_AGE, now).is_ok());
        wl.lists[0].builtin = false;
        let e = ensure_fresh(&wl, DEFAULT_MAX_AGE, now).unwrap_err();
        assert_eq!(e.exit_code(), crate::error::exit::UNAVAILABLE);
        assert!(e.to_string().contains("list `seed`"), "{e}");
        let published = parse_iso_date(wl.lists[0].published.as_deref().unwrap()).unwrap();
        assert!(ensure_fresh(
            &wl,
            DEFAULT_MAX_AGE,
            published + Duration::from_secs(86_400)
        )
        .is_ok());
    }
}
