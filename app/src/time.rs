//! How pages write times: fixed ISO-like forms, always in UTC, written field by field (chrono's
//! `format` reads a strftime pattern at run time, and its parser would ship to the browser).

use chrono::{DateTime, Datelike, Timelike, Utc};

/// `2026-12-03`
pub fn date(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

/// `2026-12-03 17:05`
pub fn minute(t: DateTime<Utc>) -> String {
    format!("{} {:02}:{:02}", date(t), t.hour(), t.minute())
}

/// `2026-12-03 17:05 UTC`
pub fn minute_utc(t: DateTime<Utc>) -> String {
    format!("{} UTC", minute(t))
}

/// `2026-12-03 17:05:09 UTC`
pub fn second_utc(t: DateTime<Utc>) -> String {
    format!("{}:{:02} UTC", minute(t), t.second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_forms_match_their_strftime_patterns() {
        for t in [
            Utc.with_ymd_and_hms(2026, 12, 3, 17, 5, 9).unwrap(),
            Utc.with_ymd_and_hms(999, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap(),
        ] {
            assert_eq!(date(t), t.format("%Y-%m-%d").to_string());
            assert_eq!(minute(t), t.format("%Y-%m-%d %H:%M").to_string());
            assert_eq!(minute_utc(t), t.format("%Y-%m-%d %H:%M UTC").to_string());
            assert_eq!(second_utc(t), t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
        }
    }
}
