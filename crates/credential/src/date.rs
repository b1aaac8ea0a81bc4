//! Civil dates (proleptic Gregorian, UTC) and their conversion to Unix seconds.

use std::fmt;

/// A valid calendar date between the years 1800 and 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// Seconds in a day.
pub const DAY: i64 = 86_400;

impl Date {
    /// Builds a date, refusing impossible ones (31 April, 29 February 2023, year 1799).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        if !(1800..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        (day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        Date::new(
            digits(&b[0..4])?,
            digits(&b[5..7])? as u8,
            digits(&b[8..10])? as u8,
        )
    }

    /// Parses the compact `YYYYMMDD` of Claim 169.
    pub fn parse_compact(s: &str) -> Option<Date> {
        let b = s.as_bytes();
        if b.len() != 8 {
            return None;
        }
        Date::new(
            digits(&b[0..4])?,
            digits(&b[4..6])? as u8,
            digits(&b[6..8])? as u8,
        )
    }

    /// `YYYYMMDD`, as Claim 169 encodes a date of birth.
    pub fn to_compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// Unix seconds at 00:00:00 UTC of this date.
    pub fn unix_start(self) -> i64 {
        days_from_civil(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        ) * DAY
    }

    /// The UTC date containing the given Unix second, if it lies in the supported years.
    pub fn from_unix(secs: i64) -> Option<Date> {
        let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
        Date::new(u16::try_from(y).ok()?, m as u8, d as u8)
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (RFC 3339, UTC, whole seconds) for a Unix second, if its year lies in
/// 1800..=9999: the form of JAdES `sigT`.
pub fn format_utc(secs: i64) -> Option<String> {
    let date = Date::from_unix(secs)?;
    let s = secs.rem_euclid(DAY);
    Some(format!(
        "{date}T{:02}:{:02}:{:02}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    ))
}

/// Parses exactly the form [`format_utc`] writes (no fractions, no offsets other than `Z`).
pub fn parse_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let date = Date::parse_iso(text.get(..10)?)?;
    let (h, m, s) = (
        i64::from(digits(&b[11..13])?),
        i64::from(digits(&b[14..16])?),
        i64::from(digits(&b[17..19])?),
    );
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(date.unix_start() + h * 3600 + m * 60 + s)
}

fn digits(b: &[u8]) -> Option<u16> {
    b.iter().try_fold(0u16, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u16::from(c - b'0'))
    })
}

fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days: exact for the whole proleptic calendar.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            era * 400 + yoe + 1
        } else {
            era * 400 + yoe
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_dates() {
        assert_eq!(Date::new(1970, 1, 1).unwrap().unix_start(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().unix_start(), 951_868_800);
        assert_eq!(
            Date::parse_iso("2024-02-29")
                .map(|d| d.to_string())
                .as_deref(),
            Some("2024-02-29")
        );
        assert_eq!(Date::parse_iso("2023-02-29"), None);
        assert_eq!(Date::parse_iso("1990-13-01"), None);
        assert_eq!(Date::parse_iso("1990-1-01"), None);
        assert_eq!(Date::parse_iso("199a-01-01"), None);
        assert_eq!(Date::parse_compact("19900115"), Date::new(1990, 1, 15));
        assert_eq!(Date::parse_compact("1990011"), None);
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(format_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            format_utc(1_764_633_600 + 3_723).as_deref(),
            Some("2025-12-02T01:02:03Z")
        );
        assert_eq!(
            parse_utc("2025-12-02T01:02:03Z"),
            Some(1_764_633_600 + 3_723)
        );
        for bad in [
            "2025-12-02T24:00:00Z",
            "2025-12-02T01:02:03+07:00",
            "2025-12-02 01:02:03Z",
            "2025-02-30T01:02:03Z",
            "2025-12-02T01:02:03.5Z",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn utc_round_trip(secs in -5_000_000_000i64..200_000_000_000) {
            if let Some(t) = format_utc(secs) {
                prop_assert_eq!(parse_utc(&t), Some(secs));
            }
        }

        #[test]
        fn unix_round_trip(days in -50_000i64..2_900_000) {
            if let Some(d) = Date::from_unix(days * DAY + 12_345) {
                prop_assert_eq!(d.unix_start(), days * DAY);
                prop_assert_eq!(Date::parse_iso(&d.to_string()), Some(d));
                prop_assert_eq!(Date::parse_compact(&d.to_compact()), Some(d));
            }
        }
    }
}
