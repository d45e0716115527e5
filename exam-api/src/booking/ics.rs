//! Calendar invitations (RFC 5545): `METHOD:REQUEST` for a booking and its changes,
//! `METHOD:CANCEL` for a cancellation; one stable `UID` per interview and a `SEQUENCE`
//! raised on every change; times in UTC.

use chrono::{DateTime, Utc};

/// What the invitation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A new or changed interview.
    Request,
    /// A cancelled interview.
    Cancel,
}

/// A person in the invitation.
#[derive(Clone, Debug)]
pub struct Person {
    /// Display name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// An interview invitation.
#[derive(Clone, Debug)]
pub struct Invite {
    /// Request or cancel.
    pub method: Method,
    /// The interview's id (the UID is derived from it).
    pub interview_id: String,
    /// Raised on every change.
    pub sequence: u32,
    /// When the invitation was made.
    pub stamp: DateTime<Utc>,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Title.
    pub summary: String,
    /// Text.
    pub description: String,
    /// Where to join.
    pub url: String,
    /// The evaluator.
    pub organizer: Person,
    /// The candidate.
    pub attendee: Person,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, quoted (no double quotes or control characters allowed inside).
fn param(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// Folds a content line at 75 octets, on character boundaries (RFC 5545 §3.1).
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

impl Invite {
    /// The `UID` of the interview's event, the same for every version.
    pub fn uid(&self) -> String {
        format!("{}@langcert", self.interview_id)
    }

    /// The `.ics` text.
    pub fn render(&self) -> String {
        let (method, status, partstat) = match self.method {
            Method::Request => ("REQUEST", "CONFIRMED", "NEEDS-ACTION"),
            Method::Cancel => ("CANCEL", "CANCELLED", "DECLINED"),
        };
        let lines = [
            "BEGIN:VCALENDAR".to_owned(),
            "VERSION:2.0".to_owned(),
            "PRODID:-//langcert//langcert//FR".to_owned(),
            "CALSCALE:GREGORIAN".to_owned(),
            format!("METHOD:{method}"),
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", self.uid()),
            format!("SEQUENCE:{}", self.sequence),
            format!("DTSTAMP:{}", stamp(self.stamp)),
            format!("DTSTART:{}", stamp(self.start)),
            format!("DTEND:{}", stamp(self.end)),
            format!("SUMMARY:{}", text(&self.summary)),
            format!("DESCRIPTION:{}", text(&self.description)),
            format!("URL:{}", self.url),
            format!("LOCATION:{}", text(&self.url)),
            format!("STATUS:{status}"),
            format!(
                "ORGANIZER;CN={}:mailto:{}",
                param(&self.organizer.name),
                self.organizer.email
            ),
            format!(
                "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};RSVP=FALSE:mailto:{}",
                param(&self.attendee.name),
                self.attendee.email
            ),
            "END:VEVENT".to_owned(),
            "END:VCALENDAR".to_owned(),
        ];
        let mut out = String::new();
        for l in lines {
            fold(&l, &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_folded_and_text_escaped() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let invite = Invite {
            method: Method::Request,
            interview_id: "abc".into(),
            sequence: 2,
            stamp: t,
            start: t,
            end: t + chrono::Duration::minutes(30),
            summary: "Entretien oral; certification, anglais".into(),
            description: "Ligne 1\nLigne 2 — avec des caractères accentués éèàù et une phrase assez longue pour être pliée".into(),
            url: "http://127.0.0.1:8080/interview/abc".into(),
            organizer: Person { name: "Bruno \"B\" Leroy".into(), email: "b@example.org".into() },
            attendee: Person { name: "Camille Martin".into(), email: "c@example.org".into() },
        };
        let ics = invite.render();
        assert!(ics.contains("SUMMARY:Entretien oral\\; certification\\, anglais\r\n"));
        assert!(ics.contains("ORGANIZER;CN=\"Bruno B Leroy\":mailto:b@example.org"));
        assert!(ics.contains("SEQUENCE:2\r\n"));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
