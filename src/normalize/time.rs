//! Instants: read as Azure writes them, and written as RFC 3339 in UTC.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Parses a timestamp as Azure writes it (RFC 3339 with 0 to 7 fractional digits) or as the
/// CSV exports write it, into nanoseconds since the epoch (UTC). Times without an offset are
/// UTC: every Azure export writes UTC.
pub fn parse_time(text: &str) -> Option<i64> {
    if let Some(t) = parse_utc(text.as_bytes()) {
        return Some(t);
    }
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return t.with_timezone(&Utc).timestamp_nanos_opt();
    }
    // Log Analytics CSV writes "2026-11-10T08:15:00.123Z" (handled above) or, in some exports,
    // without the zone; the portal writes US-style local dates.
    const NAIVE: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%Y, %I:%M:%S %p",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y, %H:%M:%S",
    ];
    let trimmed = text.trim_end_matches(" UTC").trim_end_matches('Z');
    NAIVE
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok())
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
}

/// The spelling nearly every Azure record uses, `2026-11-05T02:00:06.2981234Z` (0 to 9
/// fractional digits), read without chrono's general parser: the Activity Log has one per
/// record, and `report` reads the time of every record it skips. Anything else, or any date
/// or time out of range, is None and left to [`parse_time`]'s general path, which gives the
/// same instant for everything this accepts.
pub fn parse_utc(text: &[u8]) -> Option<i64> {
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        m0,
        m1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        i0,
        i1,
        b':',
        s0,
        s1,
        rest @ ..,
    ] = text
    else {
        return None;
    };
    let num = |digits: &[u8]| -> Option<u32> {
        digits.iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let year = num(&[*y0, *y1, *y2, *y3])?;
    let date = chrono::NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        num(&[*m0, *m1])?,
        num(&[*d0, *d1])?,
    )?;
    let time = date.and_hms_opt(num(&[*h0, *h1])?, num(&[*i0, *i1])?, num(&[*s0, *s1])?)?;
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', frac @ .., b'Z'] if (1..=9).contains(&frac.len()) => {
            num(frac)? * 10u32.pow(9 - frac.len() as u32)
        }
        _ => return None,
    };
    time.and_utc()
        .timestamp()
        .checked_mul(1_000_000_000)?
        .checked_add(i64::from(nanos))
}

/// Formats nanoseconds since the epoch as RFC 3339 UTC with the fewest digits that keep it.
pub fn format_time(nanos: i64) -> String {
    // Written digit by digit: a caller's timeline formats a time per entry (hundreds of
    // thousands), and chrono's formatter takes several times as long. The test below holds
    // this to chrono's `to_rfc3339_opts(SecondsFormat::AutoSi, true)` over every i64.
    const NANOS: i64 = 1_000_000_000;
    let secs = nanos.div_euclid(NANOS);
    let fraction = nanos.rem_euclid(NANOS);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let of_day = secs.rem_euclid(86_400);
    fn push(out: &mut String, value: i64, digits: u32) {
        for place in (0..digits).rev() {
            let digit = (value / 10_i64.pow(place) % 10) as u8;
            out.push(char::from(b'0' + digit));
        }
    }
    let mut out = String::with_capacity(30);
    // i64 nanoseconds reach from 1677 to 2262: the year always has four digits.
    push(&mut out, year, 4);
    out.push('-');
    push(&mut out, month, 2);
    out.push('-');
    push(&mut out, day, 2);
    out.push('T');
    push(&mut out, of_day / 3600, 2);
    out.push(':');
    push(&mut out, of_day / 60 % 60, 2);
    out.push(':');
    push(&mut out, of_day % 60, 2);
    // As chrono's AutoSi: no fraction, or milli-, micro- or nanoseconds, the fewest exact.
    if fraction != 0 {
        out.push('.');
        match fraction {
            f if f % 1_000_000 == 0 => push(&mut out, f / 1_000_000, 3),
            f if f % 1_000 == 0 => push(&mut out, f / 1_000, 6),
            f => push(&mut out, f, 9),
        }
    }
    out.push('Z');
    out
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_with_zero_to_seven_fractional_digits() {
        let base = parse_time("2018-05-17T09:06:45Z").unwrap();
        assert_eq!(
            parse_time("2018-05-17T09:06:45.5691611Z").unwrap() - base,
            569_161_100
        );
        assert!(parse_time("2020-06-12T13:07:46.766Z").is_some());
        assert_eq!(
            parse_time("2018-05-17T09:06:45.5Z").unwrap() - base,
            500_000_000
        );
        assert_eq!(parse_time("2018-05-17T11:06:45+02:00").unwrap(), base);
        assert_eq!(parse_time("2018-05-17 09:06:45").unwrap(), base);
        assert_eq!(parse_time("5/17/2018, 9:06:45 AM").unwrap(), base);
        assert_eq!(parse_time("not a time"), None);
        assert_eq!(format_time(base), "2018-05-17T09:06:45Z");
    }

    /// Chrono's RFC 3339 parser, for what the fast path must agree with.
    fn chrono_time(text: &str) -> Option<i64> {
        DateTime::parse_from_rfc3339(text)
            .ok()?
            .with_timezone(&Utc)
            .timestamp_nanos_opt()
    }

    #[test]
    fn the_fast_path_takes_the_usual_spelling_and_leaves_the_rest() {
        for text in [
            "2026-11-05T02:00:06.2981234Z",
            "2026-11-05T02:00:06Z",
            "2024-02-29T23:59:59.999999999Z",
            "2000-02-29T12:00:00Z",
            "1970-01-01T00:00:00.1Z",
            "1969-12-31T23:59:59.9Z",
            "2262-04-11T23:47:16Z",
        ] {
            assert_eq!(parse_utc(text.as_bytes()), chrono_time(text), "{text}");
            assert!(parse_utc(text.as_bytes()).is_some(), "{text}");
        }
        for text in [
            "2026-11-05T02:00:06.2981234",
            "2026-11-05t02:00:06Z",
            "2026-11-05T02:00:06+00:00",
            "2026-11-05T02:00:60Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-13-10T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "2026-11-05T24:00:00Z",
            "2262-04-11T23:47:17Z",
            "2026-11-05T02:00:06.Z",
            "2026-11-05T02:00:06.1234567890Z",
            " 2026-11-05T02:00:06Z",
            "2300-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_utc(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            parse_time("2026-11-05T02:00:60Z"),
            chrono_time("2026-11-05T02:00:60Z")
        );
    }

    fn chrono_format(nanos: i64) -> String {
        DateTime::<Utc>::from_timestamp_nanos(nanos)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    #[test]
    fn times_are_formatted_as_chrono_formats_them() {
        let edges = [
            i64::MIN,
            i64::MAX,
            0,
            -1,
            1,
            1_000_000,
            1_000,
            951_782_400_000_000_000, // 2000-02-29
            4_107_542_399_999_999_999,
            parse_time("2026-11-05T02:00:06.298Z").unwrap(),
            parse_time("2018-05-17T09:06:45.5691611Z").unwrap(),
            parse_time("1900-03-01T00:00:00Z").unwrap(),
        ];
        for nanos in edges {
            assert_eq!(format_time(nanos), chrono_format(nanos), "{nanos}");
        }
        assert_eq!(format_time(edges[9]), "2026-11-05T02:00:06.298Z");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn any_instant_is_formatted_as_chrono_formats_it(
            nanos in proptest::prelude::any::<i64>(),
            rounding in 0..4u32,
        ) {
            // Whole seconds, milli- and microseconds as often as any nanosecond.
            let nanos = match rounding {
                0 => nanos / 1_000_000_000 * 1_000_000_000,
                1 => nanos / 1_000_000 * 1_000_000,
                2 => nanos / 1_000 * 1_000,
                _ => nanos,
            };
            proptest::prop_assert_eq!(format_time(nanos), chrono_format(nanos));
        }

        /// Whatever the fast path accepts, chrono reads as the same instant.
        #[test]
        fn the_fast_path_agrees_with_chrono(
            text in "(19[0-9]{2}|2[0-9]{3}|[0-9]{4})-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,10})?[Zz]?"
        ) {
            if let Some(t) = parse_utc(text.as_bytes()) {
                proptest::prop_assert_eq!(Some(t), chrono_time(&text));
            }
            // And what chrono reads in this spelling, the fast path takes (but a leap second).
            let plain = text.ends_with('Z') && !text.ends_with(".Z") && &text[17..19] != "60"
                && text.len() <= 30;
            if plain && chrono_time(&text).is_some() {
                proptest::prop_assert!(parse_utc(text.as_bytes()).is_some(), "{}", text);
            }
            proptest::prop_assert_eq!(parse_time(&text), parse_time(&format!(" {text}")));
        }
    }
}
