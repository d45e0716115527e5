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
    let rows: Vec<(String, String, String, String, i64, Option<String>)> = sqlx::query_as(
        "SELECT id, kind, subject, body, created_at, attachment_name FROM mails WHERE user_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(auth.id())
    .fetch_all(&state.db.pool)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, kind, subject, body, at, att)| MailOut {
                attachments: att
                    .map(|name| AttachmentOut {
                        url: format!("/api/v1/mailbox/{id}/attachments/0"),
                        name,
                    })
                    .into_iter()
                    .collect(),
                created_at: DateTime::from_timestamp_millis(at)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_default(),
                id,
                kind,
                subject,
                body,
            })
            .collect(),
    ))
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
    let row: Option<(Option<String>, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT attachment_name, attachment_type, attachment_body FROM mails WHERE id = $1 AND user_id = $2",
    )
    .bind(&id)
    .bind(auth.id())
    .fetch_optional(&state.db.pool)
    .await?;
    let Some((Some(name), Some(ctype), Some(body))) = row else {
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
