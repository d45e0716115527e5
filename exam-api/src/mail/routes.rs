//! The local mailbox: each person reads their own mails from the outbox.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::DateTime;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::meta::Binary;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/mailbox", get(list))
        .route("/api/v1/mailbox/{id}/attachments/0", get(attachment))
}

/// A mail's attachment.
#[derive(Serialize, Debug, ToSchema)]
struct AttachmentOut {
    /// File name.
    name: String,
    /// Where to download it.
    url: String,
}

/// A mail of the caller's mailbox.
#[derive(Serialize, Debug, ToSchema)]
struct MailOut {
    /// Id.
    id: String,
    /// What it is about (`invitation`, `booking_confirmed`, `results_available`, …).
    kind: String,
    /// Subject.
    subject: String,
    /// Plain-text body.
    body: String,
    /// When it was written.
    #[schema(format = DateTime)]
    created_at: String,
    /// Its attachments (at most one).
    attachments: Vec<AttachmentOut>,
}

#[utoipa::path(get, path = "/api/v1/mailbox", tag = "mailbox",
    responses((status = 200, description = "the caller's mails, newest first", body = [MailOut])))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<Json<Vec<MailOut>>, ApiError> {
    let rows = super::store::mailbox(&state.db, auth.id()).await?;
    Ok(Json(rows.into_iter().map(mail_out).collect()))
}

fn mail_out(m: super::store::MailRow) -> MailOut {
    MailOut {
        attachments: m
            .attachment_name
            .map(|name| AttachmentOut {
                url: format!("/api/v1/mailbox/{}/attachments/0", m.id),
                name,
            })
            .into_iter()
            .collect(),
        created_at: DateTime::from_timestamp_millis(m.created_at)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        id: m.id,
        kind: m.kind,
        subject: m.subject,
        body: m.body,
    }
}

#[utoipa::path(get, path = "/api/v1/mailbox/{id}/attachments/0", tag = "mailbox",
    params(("id" = String, Path, description = "mail id")),
    responses((status = 200, description = "the attachment (a calendar invitation)", content_type = "text/calendar", body = Binary,
            headers(("Content-Disposition" = String, description = "`attachment` with the file name"))),
        (status = 404, description = "no such attachment of the caller", body = ErrorBody)))]
async fn attachment(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = super::store::attachment(&state.db, &id, auth.id()).await?;
    let Some(super::store::AttachmentRow {
        attachment_name: Some(name),
        attachment_type: Some(ctype),
        attachment_body: Some(body),
    }) = row
    else {
        return Err(ApiError::NotFound("no such attachment".to_owned()));
    };
    let disposition = format!("attachment; filename=\"{}\"", name.replace('"', ""));
    Ok((
        [
            (header::CONTENT_TYPE, ctype),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
