//! Delivery of the outbox by SMTP (when `--smtp-url` is set). Delivery is at least once:
//! a crash between the SMTP server's acceptance and the row's update sends that mail
//! again at the next start.

use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::{Db, now_ms};
use crate::error::ApiError;

/// An SMTP sender.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Smtp")
    }
}

impl Smtp {
    /// A sender from an URL (`smtp://host:25`, `smtps://user:pass@host`) and a From address.
    pub fn new(url: &str, from: &str) -> Result<Smtp, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| e.to_string())?
            .build();
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| e.to_string())?;
        Ok(Smtp { transport, from })
    }

    /// Sends every undelivered mail (up to 50); returns how many were delivered.
    pub async fn deliver_pending(&self, db: &Db) -> Result<usize, ApiError> {
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, to_email, subject, body, attachment_name, attachment_type, attachment_body FROM mails \
             WHERE delivered_at IS NULL AND attempts < 10 ORDER BY created_at LIMIT 50",
        )
        .fetch_all(&db.pool)
        .await?;
        let mut delivered = 0;
        for (id, to, subject, body, aname, atype, abody) in rows {
            let message = (|| -> Result<Message, String> {
                let builder = Message::builder()
                    .from(self.from.clone())
                    .to(to.parse().map_err(|e| format!("{e}"))?)
                    .subject(subject);
                let text = SinglePart::plain(body);
                let m = match (aname, atype, abody) {
                    (Some(n), Some(t), Some(b)) => {
                        let ct = ContentType::parse(&t).map_err(|e| e.to_string())?;
                        builder.multipart(
                            MultiPart::mixed()
                                .singlepart(text)
                                .singlepart(Attachment::new(n).body(b, ct)),
                        )
                    }
                    _ => builder.singlepart(text),
                };
                m.map_err(|e| e.to_string())
            })();
            // Only the SMTP status code is kept for the log: a server's reply text often
            // quotes the recipient's address.
            let outcome = match message {
                Ok(m) => self.transport.send(m).await.map_err(|e| match e.status() {
                    Some(code) => format!("SMTP {code}"),
                    None if e.is_transient() => "transient SMTP error".to_owned(),
                    None => "SMTP connection or protocol error".to_owned(),
                }),
                Err(_) => Err("the mail could not be built".to_owned()),
            };
            match outcome {
                Ok(_) => {
                    sqlx::query(
                        "UPDATE mails SET delivered_at = $1, attempts = attempts + 1 WHERE id = $2",
                    )
                    .bind(now_ms())
                    .bind(&id)
                    .execute(&db.pool)
                    .await?;
                    delivered += 1;
                }
                Err(e) => {
                    tracing::warn!(mail = %id, reason = %e, "SMTP delivery failed");
                    sqlx::query("UPDATE mails SET attempts = attempts + 1 WHERE id = $1")
                        .bind(&id)
                        .execute(&db.pool)
                        .await?;
                }
            }
        }
        Ok(delivered)
    }
}
