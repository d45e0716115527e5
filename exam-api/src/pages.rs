//! The pages: static files of `web/` embedded in the binary, and the sign-in link's
//! landing page, which says clearly when a link is used, expired or unknown.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::{LinkError, link_status};
use crate::db::now_ms;
use crate::error::ApiError;

static WEB: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../web");

static CATALOGUES: LazyLock<HashMap<&'static str, HashMap<String, String>>> = LazyLock::new(|| {
    ["fr", "en"]
        .into_iter()
        .map(|l| {
            let text = WEB
                .get_file(format!("i18n/{l}.json"))
                .and_then(|f| f.contents_utf8())
                .unwrap_or("{}");
            (l, serde_json::from_str(text).unwrap_or_default())
        })
        .collect()
});

/// A message of the catalogue in a language (`fr` or `en`), the key when missing.
pub fn message(lang: &str, key: &str) -> String {
    CATALOGUES
        .get(lang)
        .or_else(|| CATALOGUES.get("fr"))
        .and_then(|c| c.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/app/") }))
        .route("/app/", get(|| async { static_file("app.html") }))
        .route(
            "/static/{*path}",
            get(|Path(p): Path<String>| async move { static_file(&p) }),
        )
        .route("/signin/{token}", get(signin))
        .route(
            "/interview/{id}",
            get(|| async { static_file("interview.html") }),
        )
}

fn static_file(path: &str) -> Response {
    let Some(file) = WEB.get_file(path) else {
        return ApiError::NotFound(format!("no file {path}")).into_response();
    };
    let mime = match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("ogg") => "audio/ogg",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        file.contents(),
    )
        .into_response()
}

/// The language of a page: `?lang=`, else the browser's preference, else French.
fn page_lang(query: &LangQuery, headers: &HeaderMap) -> &'static str {
    let wanted = query.lang.clone().unwrap_or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("fr")
            .to_owned()
    });
    if wanted.trim_start().starts_with("en") {
        "en"
    } else {
        "fr"
    }
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// Text made safe for HTML content and double- or single-quoted attributes: the one
/// escaper of the server-rendered pages.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn signin(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = page_lang(&query, &headers);
    let m = |k: &str| escape(&message(lang, k));
    let status = link_status(&state.db, &token, now_ms()).await?;
    let (code, body) = match status {
        Ok(_) => (
            StatusCode::OK,
            format!(
                "<h1>{}</h1><p>{}</p><p><button id=\"continue\" type=\"button\" autofocus>{}</button></p>\
                 <p id=\"status\" role=\"status\" aria-live=\"polite\"></p>\
                 <script type=\"module\" src=\"/static/signin.js\"></script>",
                m("signin.title"),
                m("signin.ready"),
                m("signin.continue")
            ),
        ),
        Err(e) => {
            let (code, key) = match e {
                LinkError::Used => (StatusCode::GONE, "used"),
                LinkError::Expired => (StatusCode::GONE, "expired"),
                LinkError::Replaced => (StatusCode::GONE, "replaced"),
                LinkError::Unknown => (StatusCode::NOT_FOUND, "unknown"),
            };
            (
                code,
                format!(
                    "<h1 data-state=\"{key}\">{}</h1><p>{}</p>",
                    m(&format!("signin.{key}.title")),
                    m(&format!("signin.{key}.body"))
                ),
            )
        }
    };
    let page = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/static/style.css\"></head>\
         <body><main>{body}</main></body></html>",
        m("app.title")
    );
    Ok((code, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(
            super::escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(super::escape("Zoë"), "Zoë");
    }
}
