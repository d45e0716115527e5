//! Mail through an outbox: every mail is a row of `mails`, written in the transaction
//! that causes it (so a mail is never lost nor written twice by a retried request), then
//! delivered by SMTP when configured ([`smtp`]); without SMTP the local mailbox shows it
//! ([`routes`]). Mails due later are rows of `scheduled_mails`, sent exactly once by
//! whichever process first marks them sent ([`scheduler`]).
//!
//! Texts come from the catalogue `exam-api/content/mail-templates.json` (French and
//! English); placeholders `{name}` are filled from the values given.

pub mod routes;
pub mod scheduler;
pub mod smtp;
mod store;

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::accounts::new_id;
use crate::error::ApiError;

#[derive(Deserialize, Debug)]
struct Template {
    subject: String,
    body: String,
}

static TEMPLATES: LazyLock<HashMap<String, HashMap<String, Template>>> = LazyLock::new(|| {
    serde_json::from_str(include_str!("../../content/mail-templates.json"))
        .expect("the mail catalogue is valid JSON (tested)")
});

/// The kinds of mail.
pub const KINDS: [&str; 7] = [
    "invitation",
    "written_available",
    "booking_confirmed",
    "booking_updated",
    "booking_cancelled",
    "reminder",
    "results_available",
];

/// A file sent with a mail.
#[derive(Clone, Debug)]
pub struct Attachment {
    /// File name (`entretien.ics`).
    pub name: String,
    /// MIME type (`text/calendar; method=REQUEST`).
    pub content_type: String,
    /// The content.
    pub body: String,
}

/// Fills `{name}` placeholders.
fn fill(text: &str, vars: &[(&str, String)]) -> String {
    vars.iter().fold(text.to_owned(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

/// Subject and body of a mail kind in a language (French when unknown).
pub fn render(
    lang: &str,
    kind: &str,
    vars: &[(&str, String)],
) -> Result<(String, String), ApiError> {
    let t = TEMPLATES
        .get(lang)
        .or_else(|| TEMPLATES.get("fr"))
        .and_then(|l| l.get(kind))
        .ok_or_else(|| ApiError::Internal(format!("no mail template {kind}")))?;
    Ok((fill(&t.subject, vars), fill(&t.body, vars)))
}

/// Writes a mail to the outbox, on the caller's connection or transaction.
pub async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    user_id: &str,
    kind: &str,
    vars: &[(&str, String)],
    attachment: Option<Attachment>,
    now_ms: i64,
) -> Result<String, ApiError> {
    let to = store::recipient(conn, user_id).await?;
    let mut all = vec![("first_name", to.first_names)];
    all.extend(vars.iter().cloned());
    let (subject, body) = render("fr", kind, &all)?;
    let id = new_id();
    let mail = store::NewMail {
        id: &id,
        user_id,
        to_email: &to.email,
        kind,
        subject: &subject,
        body: &body,
        attachment: attachment.as_ref(),
        created_at: now_ms,
    };
    store::insert(conn, &mail).await?;
    tracing::info!(mail = %id, kind, "mail queued");
    Ok(id)
}

/// The time zone mails show times in (the platform's candidates are in France).
pub const MAIL_TZ: Tz = chrono_tz::Europe::Paris;

const DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `(date, start, end)` as French text in [`MAIL_TZ`]: ("mardi 1 décembre 2026", "10:00", "10:30").
pub fn french_times(start: DateTime<Utc>, end: DateTime<Utc>) -> (String, String, String) {
    let s = start.with_timezone(&MAIL_TZ);
    let e = end.with_timezone(&MAIL_TZ);
    let date = format!(
        "{} {} {} {}",
        DAYS[s.weekday().num_days_from_monday() as usize],
        s.day(),
        MONTHS[s.month0() as usize],
        s.year()
    );
    (
        date,
        s.format("%H:%M").to_string(),
        e.format("%H:%M").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_french_and_an_english_text_with_known_placeholders() {
        let known = [
            "first_name",
            "centre_name",
            "sign_in_url",
            "window_end",
            "date",
            "start",
            "end",
            "time_zone",
            "evaluator_name",
            "interview_url",
            "results_url",
        ];
        for lang in ["fr", "en"] {
            for kind in KINDS {
                let t = &TEMPLATES[lang][kind];
                for text in [&t.subject, &t.body] {
                    let mut rest = text.as_str();
                    while let Some(i) = rest.find('{') {
                        let j = rest[i..].find('}').expect("closed placeholder") + i;
                        assert!(
                            known.contains(&&rest[i + 1..j]),
                            "{lang}/{kind}: {}",
                            &rest[i..=j]
                        );
                        rest = &rest[j + 1..];
                    }
                }
            }
        }
    }

    #[test]
    fn french_dates() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            french_times(t, t + chrono::Duration::minutes(30)),
            (
                "mardi 1 décembre 2026".into(),
                "10:00".into(),
                "10:30".into()
            )
        );
    }
}
