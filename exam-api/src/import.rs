//! Centre administration in bulk: candidates imported from CSV (every bad row reported
//! with its line and reason, the good ones imported) and the target level per candidate.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::auth::{AuthUser, Role};
use crate::error::{ApiError, ApiJson, ErrorBody};
use exam_core::cefr::Cefr;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/candidates/import", post(import))
        .route("/api/v1/candidates/{id}/target", put(set_target))
        .route("/api/v1/candidates/{id}/window", put(set_window))
}

/// One record of a CSV file: the line it starts on (the first line is 1), and its
/// fields or why it has none.
type Record = (usize, Result<Vec<String>, String>);

/// The records of a CSV file (RFC 4180 quoting: `"a, b"`, `""` for a quote, line breaks
/// inside quotes), each field trimmed, blank lines skipped.
fn records(body: &str) -> Vec<Record> {
    let body = body.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let (mut out, mut last, mut lines) = (Vec::new(), None, Lines::new(body));
    for record in reader.records() {
        match record {
            Ok(r) => {
                let byte = r.position().map_or(0, |p| p.byte() as usize);
                let line = lines.at(byte);
                last = Some((line, byte));
                if r.len() != 1 || !r[0].is_empty() {
                    out.push((line, Ok(r.iter().map(str::to_owned).collect())));
                }
            }
            Err(e) => {
                let line = lines.at(e.position().map_or(0, |p| p.byte() as usize));
                out.push((line, Err(e.to_string())));
            }
        }
    }
    // The csv crate reads an unclosed quote to the end of the file: that last record is
    // refused, as it was when split by lines.
    if let Some((line, byte)) = last
        && body.get(byte..).is_some_and(ends_quoted)
    {
        out.retain(|(l, _)| *l < line);
        out.push((line, Err("a quoted field is not closed".to_owned())));
    }
    out
}

/// The line number of byte offsets into a text, asked in increasing order (the csv
/// crate's own `line` counts records, not the lines a quoted line break adds).
struct Lines<'a> {
    text: &'a str,
    byte: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            byte: 0,
            line: 1,
        }
    }

    /// The line (the first is 1) of the record the csv crate places at `byte`: its
    /// position is where the previous one ended, before the line breaks it skips.
    fn at(&mut self, byte: usize) -> usize {
        let rest = self.text.get(byte..).unwrap_or("");
        let byte = byte + (rest.len() - rest.trim_start_matches(['\r', '\n']).len());
        if let Some(skipped) = self.text.get(self.byte..byte) {
            self.line += skipped.matches('\n').count();
            self.byte = byte;
        }
        self.line
    }
}

/// Whether the raw text of a CSV record ends inside a quoted field.
fn ends_quoted(raw: &str) -> bool {
    let (mut quoted, mut field_start) = (false, true);
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        field_start = match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                false
            }
            (true, '"') => {
                quoted = false;
                false
            }
            (false, '"') if field_start => {
                quoted = true;
                false
            }
            (false, ',' | '\n' | '\r') => true,
            _ => false,
        };
    }
    quoted
}

/// A row that was not imported.
#[derive(Serialize, Debug, PartialEq, ToSchema)]
pub struct RowError {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Serialize, Debug, ToSchema)]
struct ImportOut {
    /// Candidates registered (each gets an invitation mail).
    imported: usize,
    /// The lines not imported, and why.
    errors: Vec<RowError>,
}

const COLUMNS: [&str; 5] = [
    "email",
    "first_names",
    "last_name",
    "cefr_target",
    "time_multiplier",
];

#[tracing::instrument(skip_all, fields(by = %auth.id()))]
#[utoipa::path(post, path = "/api/v1/candidates/import", tag = "accounts",
    request_body(content = String, content_type = "text/csv", description = "a header naming the columns `email`, `first_names`, `last_name`, `cefr_target` (and optionally `time_multiplier`), then one candidate a line"),
    responses((status = 200, description = "what was imported; bad lines are reported, not fatal", body = ImportOut),
        (status = 400, description = "`bad_body`: the file is not UTF-8", body = ErrorBody),
        (status = 403, description = "not a centre admin", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "not sent as `text/csv`", body = ErrorBody),
        (status = 422, description = "`empty_file` or `invalid_header`", body = ErrorBody)))]
async fn import(
    State(state): State<AppState>,
    auth: AuthUser,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<Json<ImportOut>, ApiError> {
    auth.require(&[Role::CentreAdmin])?;
    let body = body.map_err(|r| match r.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::bad_request("bad_body", r.body_text()),
    })?;
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("text/csv") {
        return Err(ApiError::UnsupportedMediaType(
            "send the file as text/csv".to_owned(),
        ));
    }
    let centre = auth
        .centre()
        .ok_or_else(|| ApiError::Forbidden("no centre".to_owned()))?
        .to_owned();
    let mut records = records(&body).into_iter();
    let (_, head) = records
        .next()
        .ok_or_else(|| ApiError::invalid("empty_file", "the file is empty"))?;
    let head = head.map_err(|e| ApiError::invalid("invalid_header", e))?;
    let col = |name: &str| head.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(e), Some(f), Some(l), Some(t)) = (
        col("email"),
        col("first_names"),
        col("last_name"),
        col("cefr_target"),
    ) else {
        return Err(ApiError::invalid(
            "invalid_header",
            format!(
                "the header must name the columns {}",
                COLUMNS[..4].join(", ")
            ),
        ));
    };
    let m = col("time_multiplier");
    let (mut imported, mut errors) = (0, Vec::new());
    for (line_no, fields) in records {
        let fields = match fields {
            Ok(f) => f,
            Err(reason) => {
                errors.push(RowError {
                    line: line_no,
                    reason,
                });
                continue;
            }
        };
        if fields.len() != head.len() {
            errors.push(RowError {
                line: line_no,
                reason: format!("{} fields, the header has {}", fields.len(), head.len()),
            });
            continue;
        }
        let target = match fields[t].parse::<Cefr>() {
            Ok(c) => c,
            Err(err) => {
                errors.push(RowError {
                    line: line_no,
                    reason: format!("cefr_target: {err}"),
                });
                continue;
            }
        };
        let multiplier = match m.map(|i| fields[i].as_str()).filter(|v| !v.is_empty()) {
            None => 1.0,
            Some(v) => match v.replace(',', ".").parse::<f64>() {
                Ok(x) => x,
                Err(_) => {
                    errors.push(RowError {
                        line: line_no,
                        reason: format!("time_multiplier: {v:?} is not a number"),
                    });
                    continue;
                }
            },
        };
        let registration = crate::accounts::Registration {
            centre: &centre,
            by: auth.id(),
            email: &fields[e],
            first_names: &fields[f],
            last_name: &fields[l],
            target,
            multiplier,
        };
        match crate::accounts::register_candidate(&state, registration).await {
            Ok(_) => imported += 1,
            Err(err @ (ApiError::Unprocessable { .. } | ApiError::Conflict(_))) => {
                errors.push(RowError {
                    line: line_no,
                    reason: err.to_string(),
                })
            }
            Err(other) => return Err(other),
        }
    }
    tracing::info!(imported, rejected = errors.len(), "candidates imported");
    Ok(Json(ImportOut { imported, errors }))
}

/// A candidate's new target level.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct TargetIn {
    /// The level.
    cefr_target: Cefr,
}

#[utoipa::path(put, path = "/api/v1/candidates/{id}/target", tag = "accounts", request_body = TargetIn,
    params(("id" = String, Path, description = "candidate id")),
    responses((status = 204, description = "the target is changed"),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such candidate the caller may see", body = ErrorBody)))]
async fn set_target(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TargetIn>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let c = crate::accounts::visible_candidate(&state, &auth, &id).await?;
    crate::candidate::store::set_target(&state.db, &c.id, &body.cefr_target.to_string()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The period in which a candidate may take the written test.
#[derive(Deserialize, Debug, ToSchema)]
#[serde(deny_unknown_fields)]
struct WindowIn {
    /// When it opens (RFC 3339).
    #[schema(value_type = String, format = DateTime)]
    opens_at: chrono::DateTime<chrono::Utc>,
    /// When it closes (after it opens).
    #[schema(value_type = String, format = DateTime)]
    closes_at: chrono::DateTime<chrono::Utc>,
}

/// Sets a candidate's written-test window; the "written test available" mail is
/// scheduled for its opening (sent at once when it is already open).
#[utoipa::path(put, path = "/api/v1/candidates/{id}/window", tag = "accounts", request_body = WindowIn,
    params(("id" = String, Path, description = "candidate id")),
    responses((status = 204, description = "the window is set; the candidate is mailed when it opens"),
        (status = 403, description = "not an admin", body = ErrorBody),
        (status = 404, description = "no such candidate the caller may see", body = ErrorBody),
        (status = 422, description = "`invalid_window`: it closes before it opens", body = ErrorBody)))]
async fn set_window(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<WindowIn>,
) -> Result<StatusCode, ApiError> {
    auth.require(&[Role::CentreAdmin, Role::PlatformAdmin])?;
    let c = crate::accounts::visible_candidate(&state, &auth, &id).await?;
    if body.closes_at <= body.opens_at {
        return Err(ApiError::invalid(
            "invalid_window",
            "closes_at must be after opens_at",
        ));
    }
    let (opens, closes) = (
        body.opens_at.timestamp_millis(),
        body.closes_at.timestamp_millis(),
    );
    let now = crate::db::now_ms();
    let mut tx = state.db.begin_write().await?;
    crate::candidate::store::set_window(&mut tx, &c.id, opens, closes).await?;
    crate::mail::scheduler::schedule(
        &mut tx,
        "written_available",
        &c.id,
        &format!("window:{}", c.id),
        opens.max(now),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields of a one-record file.
    fn split_csv(line: &str) -> Result<Vec<String>, String> {
        let mut all = records(line);
        assert_eq!(all.len(), 1, "{line:?}");
        all.remove(0).1
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(split_csv("a, b ,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(
            split_csv("\"Dupont, Jr\",\"say \"\"hi\"\"\",x").unwrap(),
            ["Dupont, Jr", "say \"hi\"", "x"]
        );
        assert_eq!(split_csv("a,,").unwrap(), ["a", "", ""]);
        assert!(split_csv("\"open").is_err());
    }

    #[test]
    fn a_quoted_line_break_stays_in_its_field_and_lines_count_from_the_start() {
        let file = "\u{feff}a,b\n\n\"x,\ny\",z\r\n  \nu,\"open\nv\n";
        let all = records(file);
        assert_eq!(all[0], (1, Ok(vec!["a".to_owned(), "b".to_owned()])));
        assert_eq!(all[1], (3, Ok(vec!["x,\ny".to_owned(), "z".to_owned()])));
        assert_eq!(all[2].0, 6);
        assert!(all[2].1.is_err());
        assert_eq!(all.len(), 3);
    }
}
