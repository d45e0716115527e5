//! The outbox's storage: the mails written for a person and what the local mailbox
//! reads of them. Every function returns a [`StoreError`]; callers decide the answer.

use sqlx::AnyConnection;

use crate::db::{Db, StoreError};

/// Where a person's mails go.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RecipientRow {
    /// E-mail.
    pub(crate) email: String,
    /// First names (the mails greet them).
    pub(crate) first_names: String,
}

/// The recipient of a person's mails (the account must exist).
pub(crate) async fn recipient(
    conn: &mut AnyConnection,
    user_id: &str,
) -> Result<RecipientRow, StoreError> {
    Ok(
        sqlx::query_as("SELECT email, first_names FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(conn)
            .await?,
    )
}

/// A rendered mail to write to the outbox.
pub(crate) struct NewMail<'a> {
    /// Id.
    pub(crate) id: &'a str,
    /// The person it is for.
    pub(crate) user_id: &'a str,
    /// Their address.
    pub(crate) to_email: &'a str,
    /// Its kind (`invitation`, …).
    pub(crate) kind: &'a str,
    /// Subject.
    pub(crate) subject: &'a str,
    /// Plain-text body.
    pub(crate) body: &'a str,
    /// Its attachment, if any.
    pub(crate) attachment: Option<&'a super::Attachment>,
    /// When it is written (ms since the epoch).
    pub(crate) created_at: i64,
}

/// Writes a mail to the outbox, on the caller's connection or transaction.
pub(crate) async fn insert(conn: &mut AnyConnection, mail: &NewMail<'_>) -> Result<(), StoreError> {
    let a = mail.attachment;
    sqlx::query(
        "INSERT INTO mails (id, user_id, to_email, kind, subject, body, attachment_name, attachment_type, attachment_body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(mail.id)
    .bind(mail.user_id)
    .bind(mail.to_email)
    .bind(mail.kind)
    .bind(mail.subject)
    .bind(mail.body)
    .bind(a.map(|a| a.name.as_str()))
    .bind(a.map(|a| a.content_type.as_str()))
    .bind(a.map(|a| a.body.as_str()))
    .bind(mail.created_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// A mail as the mailbox lists it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct MailRow {
    /// Id.
    pub(crate) id: String,
    /// Its kind.
    pub(crate) kind: String,
    /// Subject.
    pub(crate) subject: String,
    /// Plain-text body.
    pub(crate) body: String,
    /// When it was written (ms since the epoch).
    pub(crate) created_at: i64,
    /// Its attachment's file name, if it has one.
    pub(crate) attachment_name: Option<String>,
}

/// A person's mails, newest first.
pub(crate) async fn mailbox(db: &Db, user_id: &str) -> Result<Vec<MailRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, kind, subject, body, created_at, attachment_name FROM mails WHERE user_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(user_id)
    .fetch_all(&db.pool)
    .await?)
}

/// A mail's attachment columns (all empty when it has none).
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AttachmentRow {
    /// File name.
    pub(crate) attachment_name: Option<String>,
    /// MIME type.
    pub(crate) attachment_type: Option<String>,
    /// Content.
    pub(crate) attachment_body: Option<String>,
}

/// The attachment columns of one of a person's mails, if it is theirs.
pub(crate) async fn attachment(
    db: &Db,
    id: &str,
    user_id: &str,
) -> Result<Option<AttachmentRow>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT attachment_name, attachment_type, attachment_body FROM mails WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?)
}
