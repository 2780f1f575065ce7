//! Freshness: is a dataset updated as often as its `dct:accrualPeriodicity` says?
//!
//! A declared frequency gives an expected interval between updates (the EU frequency table's
//! codes); a dataset whose last modification is older than that interval, plus a tolerance, is
//! overdue by the difference. Without a modification date, or with a frequency that promises
//! no rhythm (irregular, unknown, other), freshness is unknown; `NEVER` is always on time.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// How fresh a dataset is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Freshness {
    /// Updated within its declared interval (or declared never to change).
    OnTime {
        /// When the next update is due (`None` for `NEVER`).
        due: Option<DateTime<Utc>>,
    },
    /// Not updated within its declared interval.
    Overdue {
        /// When the update was due.
        due: DateTime<Utc>,
        /// Whole days past due.
        days: i64,
    },
    /// Cannot be told.
    Unknown {
        /// Why: `no_frequency`, `no_rhythm` (irregular, unknown, other) or `no_modified`.
        reason: &'static str,
    },
}

/// The expected interval between updates for an EU frequency IRI (or bare code), if the
/// frequency promises a rhythm. `Some(None)` means "never updated".
pub fn expected_interval(frequency: &str) -> Option<Option<Duration>> {
    let code = frequency
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(frequency)
        .to_ascii_uppercase();
    let days = |d: i64| Some(Some(Duration::days(d)));
    match code.as_str() {
        "NEVER" => Some(None),
        "CONT" | "UPDATE_CONT" | "1MIN" | "5MIN" | "10MIN" | "15MIN" | "30MIN" | "HOURLY"
        | "BIHOURLY" | "TRIHOURLY" | "12HRS" | "DAILY" | "DAILY_2" => days(1),
        "WEEKLY_5" | "WEEKLY_4" | "WEEKLY_3" | "WEEKLY_2" => days(2),
        "WEEKLY" => days(7),
        "BIWEEKLY" => days(14),
        "MONTHLY_3" | "MONTHLY_2" => days(15),
        "MONTHLY" => days(31),
        "BIMONTHLY" => days(62),
        "QUARTERLY" => days(92),
        "ANNUAL_3" => days(122),
        "ANNUAL_2" => days(183),
        "ANNUAL" => days(366),
        "BIENNIAL" => days(731),
        "TRIENNIAL" => days(1096),
        "QUADRENNIAL" => days(1461),
        "QUINQUENNIAL" => days(1827),
        "DECENNIAL" => days(3653),
        "BIDECENNIAL" => days(7305),
        "TRIDECENNIAL" => days(10958),
        _ => None,
    }
}

/// When a dataset's next update is due, and until when it counts as on time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The last modification plus the declared interval.
    pub due: DateTime<Utc>,
    /// `due` plus a tenth of the interval (at least a day).
    pub until: DateTime<Utc>,
}

/// When a dataset last modified at `modified`, declared to update at `frequency`, is due
/// (see [`Due`]). `Ok(None)`: never (declared never to change). `Err(reason)`: cannot be told
/// (`no_frequency`, `no_rhythm`, `no_modified`).
pub fn due(
    modified: Option<DateTime<Utc>>,
    frequency: Option<&str>,
) -> Result<Option<Due>, &'static str> {
    let frequency = frequency.ok_or("no_frequency")?;
    let interval = match expected_interval(frequency) {
        None => return Err("no_rhythm"),
        Some(None) => return Ok(None),
        Some(Some(interval)) => interval,
    };
    let modified = modified.ok_or("no_modified")?;
    let due = modified + interval;
    let tolerance = (interval / 10).max(Duration::days(1));
    Ok(Some(Due {
        due,
        until: due + tolerance,
    }))
}

/// Freshness of a dataset last modified at `modified`, declared to update at `frequency`, as
/// of `now` (see [`due`]).
pub fn freshness(
    modified: Option<DateTime<Utc>>,
    frequency: Option<&str>,
    now: DateTime<Utc>,
) -> Freshness {
    match due(modified, frequency) {
        Err(reason) => Freshness::Unknown { reason },
        Ok(None) => Freshness::OnTime { due: None },
        Ok(Some(d)) if now <= d.until => Freshness::OnTime { due: Some(d.due) },
        Ok(Some(d)) => Freshness::Overdue {
            due: d.due,
            days: (now - d.due).num_days(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("date")
            .with_timezone(&Utc)
    }

    const EU: &str = "http://publications.europa.eu/resource/authority/frequency/";

    #[test]
    fn on_time_within_the_interval_and_its_tolerance() {
        let now = at("2026-11-22T12:00:00Z");
        let f = freshness(
            Some(at("2026-11-01T00:00:00Z")),
            Some(&format!("{EU}MONTHLY")),
            now,
        );
        assert_eq!(
            f,
            Freshness::OnTime {
                due: Some(at("2026-12-02T00:00:00Z"))
            }
        );
        // A monthly dataset two and a half days past due is within a tenth of a month (3.1
        // days): still on time; a day later it is overdue.
        let f = freshness(
            Some(at("2026-10-20T00:00:00Z")),
            Some(&format!("{EU}MONTHLY")),
            now,
        );
        assert!(matches!(f, Freshness::OnTime { .. }), "{f:?}");
        let f = freshness(
            Some(at("2026-10-19T00:00:00Z")),
            Some(&format!("{EU}MONTHLY")),
            now,
        );
        assert!(matches!(f, Freshness::Overdue { days: 3, .. }), "{f:?}");
    }

    #[test]
    fn overdue_by_whole_days_past_due() {
        let now = at("2026-11-22T12:00:00Z");
        let f = freshness(
            Some(at("2025-01-01T00:00:00Z")),
            Some(&format!("{EU}ANNUAL")),
            now,
        );
        assert_eq!(
            f,
            Freshness::Overdue {
                due: at("2026-01-02T00:00:00Z"),
                days: 324
            }
        );
        // https, a trailing slash and a bare code mean the same frequency.
        let variant = "https://publications.europa.eu/resource/authority/frequency/annual/";
        assert_eq!(
            freshness(Some(at("2025-01-01T00:00:00Z")), Some(variant), now),
            f
        );
        assert_eq!(
            freshness(Some(at("2025-01-01T00:00:00Z")), Some("ANNUAL"), now),
            f
        );
    }

    #[test]
    fn unknown_without_a_rhythm_or_a_date_and_never_is_always_on_time() {
        let now = at("2026-11-22T12:00:00Z");
        let old = Some(at("2001-01-01T00:00:00Z"));
        assert_eq!(
            freshness(old, Some(&format!("{EU}IRREG")), now),
            Freshness::Unknown {
                reason: "no_rhythm"
            }
        );
        assert_eq!(
            freshness(old, None, now),
            Freshness::Unknown {
                reason: "no_frequency"
            }
        );
        assert_eq!(
            freshness(None, Some(&format!("{EU}DAILY")), now),
            Freshness::Unknown {
                reason: "no_modified"
            }
        );
        assert_eq!(
            freshness(old, Some(&format!("{EU}NEVER")), now),
            Freshness::OnTime { due: None }
        );
    }

    #[test]
    fn every_frequency_of_the_eu_table_has_its_interval_and_tolerance() {
        let now = at("2026-11-22T00:00:00Z");
        let table: &[(&str, i64)] = &[
            ("CONT", 1),
            ("UPDATE_CONT", 1),
            ("1MIN", 1),
            ("5MIN", 1),
            ("10MIN", 1),
            ("15MIN", 1),
            ("30MIN", 1),
            ("HOURLY", 1),
            ("BIHOURLY", 1),
            ("TRIHOURLY", 1),
            ("12HRS", 1),
            ("DAILY", 1),
            ("DAILY_2", 1),
            ("WEEKLY_5", 2),
            ("WEEKLY_4", 2),
            ("WEEKLY_3", 2),
            ("WEEKLY_2", 2),
            ("WEEKLY", 7),
            ("BIWEEKLY", 14),
            ("MONTHLY_3", 15),
            ("MONTHLY_2", 15),
            ("MONTHLY", 31),
            ("BIMONTHLY", 62),
            ("QUARTERLY", 92),
            ("ANNUAL_3", 122),
            ("ANNUAL_2", 183),
            ("ANNUAL", 366),
            ("BIENNIAL", 731),
            ("TRIENNIAL", 1096),
            ("QUADRENNIAL", 1461),
            ("QUINQUENNIAL", 1827),
            ("DECENNIAL", 3653),
            ("BIDECENNIAL", 7305),
            ("TRIDECENNIAL", 10958),
        ];
        for (code, days) in table {
            let iri = format!("{EU}{code}");
            let tolerance = (days / 10).max(1);
            // Modified exactly interval + tolerance ago: the last on-time moment.
            let last = now - Duration::days(days + tolerance);
            assert!(
                matches!(
                    freshness(Some(last), Some(&iri), now),
                    Freshness::OnTime { .. }
                ),
                "{code}"
            );
            // A day earlier it is overdue by tolerance + 1 days.
            let late = last - Duration::days(1);
            assert_eq!(
                freshness(Some(late), Some(&iri), now),
                Freshness::Overdue {
                    due: late + Duration::days(*days),
                    days: tolerance + 1
                },
                "{code}"
            );
        }
        for code in ["IRREG", "UNKNOWN", "OTHER", "AS_NEEDED", "NOT_PLANNED"] {
            assert_eq!(
                freshness(Some(now), Some(&format!("{EU}{code}")), now),
                Freshness::Unknown {
                    reason: "no_rhythm"
                },
                "{code}"
            );
        }
        assert_eq!(
            freshness(
                Some(now - Duration::days(9999)),
                Some(&format!("{EU}NEVER")),
                now
            ),
            Freshness::OnTime { due: None }
        );
    }
}
