//! Interview recordings (one WebM file per track, written by the media server) for the
//! interview's evaluator to replay while scoring, and their deletion after the retention
//! period.

use std::path::{Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ErrorBody};
use crate::meta::Binary;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/interviews/{id}/recordings", get(list))
        .route("/api/v1/interviews/{id}/recordings/{name}", get(file))
}

/// One recorded track.
#[derive(Serialize, Debug, ToSchema)]
struct RecordingOut {
    /// File name.
    name: String,
    /// `audio` or `video`.
    #[schema(example = "video")]
    kind: &'static str,
    /// Where to fetch it.
    url: String,
    /// Size.
    bytes: u64,
}

/// The folder of an interview's recordings, if the caller is its evaluator (or an
/// admin of its centre).
async fn folder(state: &AppState, auth: &AuthUser, id: &str) -> Result<PathBuf, ApiError> {
    auth.require(&[Role::Evaluator, Role::CentreAdmin])?;
    let interview = crate::interviews::store::get(&state.db, id).await?;
    let allowed = interview.is_some_and(|i| match auth.role() {
        Role::Evaluator => i.evaluator_id == auth.id(),
        _ => auth.centre() == Some(i.centre_id.as_str()),
    });
    let dir = state.config.recordings_dir.clone().filter(|_| allowed);
    dir.map(|d| exam_core::interview::recordings_folder(&d, id))
        .ok_or_else(|| ApiError::NotFound("no such interview".to_owned()))
}

fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name.ends_with(".webm")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
}

#[utoipa::path(get, path = "/api/v1/interviews/{id}/recordings", tag = "oral", params(("id" = String, Path, description = "interview id")),
    responses((status = 200, description = "the interview's tracks, by name", body = [RecordingOut]),
        (status = 403, description = "neither an evaluator nor a centre admin", body = ErrorBody),
        (status = 404, description = "no such interview of the caller (or no recordings on this server)", body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    auth: AuthUser,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Vec<RecordingOut>>, ApiError> {
    let dir = folder(&state, &auth, &id).await?;
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().into_owned();
            if !safe_name(&name) {
                continue;
            }
            let bytes = e.metadata().map(|m| m.len()).unwrap_or(0);
            let kind = if name.contains("video") {
                "video"
            } else {
                "audio"
            };
            out.push(RecordingOut {
                url: format!("/api/v1/interviews/{id}/recordings/{name}"),
                name,
                kind,
                bytes,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/interviews/{id}/recordings/{name}", tag = "oral",
    params(("id" = String, Path, description = "interview id"), ("name" = String, Path, description = "a track's file name")),
    responses((status = 200, description = "the track", content((Binary = "video/webm"), (Binary = "audio/webm"))),
        (status = 403, description = "neither an evaluator nor a centre admin", body = ErrorBody),
        (status = 404, description = "no such interview of the caller, or no such track", body = ErrorBody)))]
async fn file(
    State(state): State<AppState>,
    auth: AuthUser,
    UrlPath((id, name)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let dir = folder(&state, &auth, &id).await?;
    if !safe_name(&name) {
        return Err(ApiError::NotFound("no such recording".to_owned()));
    }
    let bytes = tokio::fs::read(dir.join(&name))
        .await
        .map_err(|_| ApiError::NotFound("no such recording".to_owned()))?;
    let mime = if name.contains("video") {
        "video/webm"
    } else {
        "audio/webm"
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response())
}

/// Deletes the recordings of interviews whose folder is older than `max_age` (by the
/// time of its last change); returns how many folders were deleted.
pub fn purge(dir: &Path, max_age: std::time::Duration) -> std::io::Result<usize> {
    let mut deleted = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > max_age);
        if old && path.is_dir() {
            // One folder that cannot be deleted must not keep the others past retention.
            match std::fs::remove_dir_all(&path) {
                Ok(()) => deleted += 1,
                Err(e) => {
                    tracing::warn!(folder = %path.display(), error = %e, "recording not deleted")
                }
            }
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_folder() {
        assert!(safe_name("cand-video-0.webm"));
        for bad in ["../x.webm", "a/b.webm", ".webm", "x.txt", "", "x y.webm"] {
            assert!(!safe_name(bad), "{bad}");
        }
    }

    #[test]
    fn purge_deletes_old_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old").join("a.webm"), b"x").unwrap();
        assert_eq!(
            purge(dir.path(), std::time::Duration::from_secs(3600)).unwrap(),
            0
        );
        assert_eq!(purge(dir.path(), std::time::Duration::ZERO).unwrap(), 1);
        assert!(!dir.path().join("old").exists());
    }
}
