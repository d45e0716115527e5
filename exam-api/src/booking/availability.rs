//! Evaluators' availability: weekly windows in their time zone, with days off and extra
//! windows, cut into slots. Pure: the caller gives the instants to cover.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A recurring window on one weekday, in wall-clock time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// 1 = Monday … 7 = Sunday.
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: u8,
    /// Start, `HH:MM`.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    /// End, `HH:MM` (after the start).
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "12:00")]
    pub end: String,
}

/// The kinds of [`Exception`] (its schema; [`Availability::problems`] checks them).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ExceptionKind {
    /// No slot that day.
    Off,
    /// A window that day (`start`, `end`).
    Extra,
}

/// A change for one date: a day off, or an extra window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Exception {
    /// The date, `YYYY-MM-DD`, in the availability's time zone.
    #[schema(format = Date)]
    pub date: String,
    /// `off` or `extra`.
    #[schema(value_type = ExceptionKind)]
    pub kind: String,
    /// Start of an extra window, `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: Option<String>,
    /// End of an extra window, `HH:MM`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end: Option<String>,
}

/// An evaluator's availability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Availability {
    /// IANA time zone of the windows (`Europe/Paris`).
    #[schema(example = "Europe/Paris")]
    pub time_zone: String,
    /// Length of a slot, in minutes (15–120; 30 by default).
    #[serde(default = "default_slot")]
    #[schema(minimum = 15, maximum = 120, default = 30)]
    pub slot_minutes: u32,
    /// Weekly windows.
    #[serde(default)]
    pub weekly: Vec<Window>,
    /// Dated exceptions.
    #[serde(default)]
    pub exceptions: Vec<Exception>,
}

fn default_slot() -> u32 {
    30
}

/// A wall-clock time written exactly `HH:MM` (as the schema says: no `9:00`).
fn time(s: &str) -> Option<NaiveTime> {
    if s.len() != 5 {
        return None;
    }
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

impl Availability {
    /// An empty availability in a time zone.
    pub fn empty(time_zone: &str) -> Self {
        Availability {
            time_zone: time_zone.to_owned(),
            slot_minutes: 30,
            weekly: vec![],
            exceptions: vec![],
        }
    }

    /// Every problem of the availability, or none.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if self.time_zone.parse::<Tz>().is_err() {
            p.push(format!(
                "time_zone: {:?} is not an IANA time zone",
                self.time_zone
            ));
        }
        if !(15..=120).contains(&self.slot_minutes) {
            p.push("slot_minutes: between 15 and 120".to_owned());
        }
        if self.weekly.len() + self.exceptions.len() > 200 {
            p.push("too many windows".to_owned());
        }
        let window =
            |p: &mut Vec<String>, what: String, start: Option<&str>, end: Option<&str>| match (
                start.and_then(time),
                end.and_then(time),
            ) {
                (Some(s), Some(e)) if s < e => {}
                (Some(_), Some(_)) => p.push(format!("{what}: the end must be after the start")),
                _ => p.push(format!("{what}: times are HH:MM")),
            };
        for (i, w) in self.weekly.iter().enumerate() {
            if !(1..=7).contains(&w.weekday) {
                p.push(format!(
                    "weekly[{}].weekday: 1 (Monday) to 7 (Sunday)",
                    i + 1
                ));
            }
            window(
                &mut p,
                format!("weekly[{}]", i + 1),
                Some(&w.start),
                Some(&w.end),
            );
        }
        for (i, e) in self.exceptions.iter().enumerate() {
            if e.date.len() != 10 || NaiveDate::parse_from_str(&e.date, "%Y-%m-%d").is_err() {
                p.push(format!("exceptions[{}].date: YYYY-MM-DD", i + 1));
            }
            match e.kind.as_str() {
                "off" if e.start.is_some() || e.end.is_some() => p.push(format!(
                    "exceptions[{}]: a day off has no start or end",
                    i + 1
                )),
                "off" => {}
                "extra" => window(
                    &mut p,
                    format!("exceptions[{}]", i + 1),
                    e.start.as_deref(),
                    e.end.as_deref(),
                ),
                _ => p.push(format!("exceptions[{}].kind: off or extra", i + 1)),
            }
        }
        p
    }

    /// The windows of a local date, as (start, end) wall-clock times.
    fn windows_on(&self, date: NaiveDate) -> Vec<(NaiveTime, NaiveTime)> {
        // Dates are compared parsed, so "2026-12-7" and "2026-12-07" are the same day.
        let on = |e: &&Exception| NaiveDate::parse_from_str(&e.date, "%Y-%m-%d").ok() == Some(date);
        let mut out = Vec::new();
        if !self.exceptions.iter().filter(on).any(|e| e.kind == "off") {
            let wd = date.weekday().number_from_monday() as u8;
            out.extend(
                self.weekly
                    .iter()
                    .filter(|w| w.weekday == wd)
                    .filter_map(|w| Some((time(&w.start)?, time(&w.end)?))),
            );
        }
        out.extend(
            self.exceptions
                .iter()
                .filter(on)
                .filter(|e| e.kind == "extra")
                .filter_map(|e| Some((time(e.start.as_deref()?)?, time(e.end.as_deref()?)?))),
        );
        out
    }

    /// The slots starting in `[from, to)`, as UTC (start, end), sorted, without duplicates.
    /// Local times that do not exist (a spring-forward gap) have no slot.
    pub fn slots(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let Ok(tz) = self.time_zone.parse::<Tz>() else {
            return vec![];
        };
        if self.slot_minutes == 0 || to <= from {
            return vec![];
        }
        let len = Duration::minutes(i64::from(self.slot_minutes));
        let first = from.with_timezone(&tz).date_naive() - Duration::days(1);
        let last = to.with_timezone(&tz).date_naive() + Duration::days(1);
        let mut out = Vec::new();
        let mut date = first;
        while date <= last {
            for (start, end) in self.windows_on(date) {
                let mut t = date.and_time(start);
                let stop = date.and_time(end);
                while t + len <= stop {
                    if let Some(local) = tz.from_local_datetime(&t).earliest() {
                        let s = local.with_timezone(&Utc);
                        if s >= from && s < to {
                            out.push((s, s + len));
                        }
                    }
                    t += len;
                }
            }
            date += Duration::days(1);
        }
        out.sort();
        out.dedup();
        out
    }

    /// True when `start` is the start of one of the slots.
    pub fn has_slot(&self, start: DateTime<Utc>) -> bool {
        self.slots(start, start + Duration::seconds(1))
            .iter()
            .any(|(s, _)| *s == start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paris() -> Availability {
        Availability {
            time_zone: "Europe/Paris".into(),
            slot_minutes: 30,
            weekly: vec![Window {
                weekday: 1,
                start: "09:00".into(),
                end: "10:30".into(),
            }],
            exceptions: vec![
                Exception {
                    date: "2026-12-07".into(),
                    kind: "off".into(),
                    start: None,
                    end: None,
                },
                Exception {
                    date: "2026-12-09".into(),
                    kind: "extra".into(),
                    start: Some("14:00".into()),
                    end: Some("15:00".into()),
                },
            ],
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekly_windows_are_cut_into_slots_in_utc() {
        let a = paris();
        // Monday 30 November 2026, 09:00–10:30 Paris (UTC+1): three slots.
        let s = a.slots(utc("2026-11-30T00:00:00Z"), utc("2026-12-01T00:00:00Z"));
        let starts: Vec<String> = s.iter().map(|(s, _)| s.to_rfc3339()).collect();
        assert_eq!(
            starts,
            [
                "2026-11-30T08:00:00+00:00",
                "2026-11-30T08:30:00+00:00",
                "2026-11-30T09:00:00+00:00"
            ]
        );
        assert_eq!(s[0].1 - s[0].0, Duration::minutes(30));
        assert!(a.has_slot(utc("2026-11-30T08:30:00Z")));
        assert!(!a.has_slot(utc("2026-11-30T08:15:00Z")));
    }

    #[test]
    fn days_off_and_extra_windows() {
        let a = paris();
        let week = a.slots(utc("2026-12-07T00:00:00Z"), utc("2026-12-14T00:00:00Z"));
        let starts: Vec<String> = week.iter().map(|(s, _)| s.to_rfc3339()).collect();
        // Monday 7 is off; Wednesday 9 has an extra 14:00–15:00.
        assert_eq!(
            starts,
            ["2026-12-09T13:00:00+00:00", "2026-12-09T13:30:00+00:00"]
        );
    }

    #[test]
    fn summer_time_shifts_utc_not_wall_clock() {
        let a = Availability {
            weekly: vec![Window {
                weekday: 1,
                start: "09:00".into(),
                end: "09:30".into(),
            }],
            exceptions: vec![],
            ..paris()
        };
        let summer = a.slots(utc("2026-06-01T00:00:00Z"), utc("2026-06-02T00:00:00Z"));
        assert_eq!(summer[0].0, utc("2026-06-01T07:00:00Z"));
        // Sunday 29 March 2026 02:00–03:00 does not exist in Paris.
        let gap = Availability {
            weekly: vec![Window {
                weekday: 7,
                start: "02:00".into(),
                end: "03:30".into(),
            }],
            exceptions: vec![],
            ..paris()
        };
        let s = gap.slots(utc("2026-03-29T00:00:00Z"), utc("2026-03-30T00:00:00Z"));
        assert_eq!(
            s.iter().map(|(s, _)| s.to_rfc3339()).collect::<Vec<_>>(),
            ["2026-03-29T01:00:00+00:00"]
        );
    }

    #[test]
    fn problems_are_listed() {
        let bad = Availability {
            time_zone: "Mars/Olympus".into(),
            slot_minutes: 5,
            weekly: vec![Window {
                weekday: 8,
                start: "10:00".into(),
                end: "09:00".into(),
            }],
            exceptions: vec![Exception {
                date: "31/12".into(),
                kind: "holiday".into(),
                start: None,
                end: None,
            }],
        };
        assert_eq!(bad.problems().len(), 6, "{:?}", bad.problems());
        assert!(paris().problems().is_empty());
    }

    #[test]
    fn times_are_exactly_hh_mm_and_days_off_have_none() {
        let mut a = paris();
        a.weekly[0].start = "9:00".into();
        assert_eq!(a.problems(), ["weekly[1]: times are HH:MM"]);
        let mut a = paris();
        a.exceptions.push(Exception {
            date: "2026-12-24".into(),
            kind: "off".into(),
            start: Some(String::new()),
            end: None,
        });
        assert_eq!(a.problems().len(), 1, "{:?}", a.problems());
    }
}
