//! The OpenAPI document against the router: every route the source registers is
//! documented (pages and WebSockets aside, listed in `EXCLUDED`), every documented
//! operation is answered by a handler rather than the fallback, the pages only call
//! documented URLs, and each operation lists the errors its extractors really give.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use exam_api::app::ApiConfig;
use serde_json::Value;
use utoipa::OpenApi;

use crate::common::{Backend, TestApp};

/// Routes that are not part of the API document: pages, static files, WebSockets and
/// the operators' Prometheus metrics.
const EXCLUDED: [(&str, &str); 8] = [
    ("get", "/"),
    ("get", "/app/"),
    ("get", "/static/{*path}"),
    ("get", "/signin/{token}"),
    ("get", "/interview/{id}"),
    ("get", "/ws"),
    ("get", "/ws/monitor"),
    ("get", "/metrics"),
];

const METHODS: [&str; 7] = ["get", "post", "put", "delete", "patch", "head", "options"];

type Op = (String, String);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned()
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "node_modules") {
                continue;
            }
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// The text of the argument list that starts right after `open` (an opening
/// parenthesis), up to its matching parenthesis; string literals are skipped whole.
fn arguments(src: &str, open: usize) -> &str {
    let bytes = src.as_bytes();
    let (mut depth, mut i, mut in_str) = (1, open, false);
    while i < bytes.len() {
        match (in_str, bytes[i]) {
            (true, b'\\') => i += 1,
            (true, b'"') => in_str = false,
            (false, b'"') => in_str = true,
            (false, b'(') => depth += 1,
            (false, b')') => {
                depth -= 1;
                if depth == 0 {
                    return &src[open..i];
                }
            }
            _ => {}
        }
        i += 1;
    }
    panic!("unbalanced parentheses after byte {open}");
}

/// The method routers chained at the top level of a `MethodRouter` expression, e.g.
/// `get(a).post(b)` or `put(c).layer(…)`: the calls not nested in another call.
fn methods_of(expr: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = expr.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'|' if depth == 0 => panic!("a closure at the top of a route: {expr}"),
            c if depth == 0 && (c.is_ascii_alphabetic() || c == b'_') => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &expr[start..i];
                let chained = expr[..start].trim_end().ends_with('.') || start == 0;
                let called = expr[i..].starts_with('(') || expr[i..].starts_with("::<");
                if chained && called {
                    assert!(word != "any", "`any` routes cannot be documented: {expr}");
                    if METHODS.contains(&word) {
                        out.push(word.to_owned());
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Every `(method, path)` that a `.route("…", …)` call of the API's and the binary's
/// source registers.
fn registered() -> BTreeSet<Op> {
    let mut sources = Vec::new();
    files(&repo().join("exam-api/src"), "rs", &mut sources);
    files(&repo().join("src"), "rs", &mut sources);
    let mut out = BTreeSet::new();
    for file in sources {
        let src = std::fs::read_to_string(&file).unwrap();
        for unsupported in [".nest(", ".route_service(", ".nest_service("] {
            assert!(
                !src.contains(unsupported),
                "{}: `{unsupported}` routes are not walked by this test",
                file.display()
            );
        }
        for (at, _) in src.match_indices(".route(") {
            let args = arguments(&src, at + ".route(".len());
            let rest = args.trim_start();
            let rest = rest.strip_prefix('"').unwrap_or_else(|| {
                panic!("{}: a route path that is not a literal", file.display())
            });
            let end = rest.find('"').unwrap();
            let path = &rest[..end];
            let expr = rest[end + 1..].trim_start().trim_start_matches(',');
            let methods = methods_of(expr.trim());
            assert!(
                !methods.is_empty(),
                "{}: no method for {path}",
                file.display()
            );
            for m in methods {
                assert!(
                    out.insert((m.clone(), path.to_owned())),
                    "{m} {path} is registered twice"
                );
            }
        }
    }
    out
}

fn document() -> Value {
    serde_json::to_value(exam_api::meta::ApiDoc::openapi()).unwrap()
}

/// Every documented operation, with its description.
fn documented(doc: &Value) -> BTreeMap<Op, Value> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                out.insert((method.clone(), path.clone()), op.clone());
            }
        }
    }
    out
}

#[test]
fn every_registered_route_is_documented_and_nothing_else() {
    let routes = registered();
    let excluded: BTreeSet<Op> = EXCLUDED
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    for op in &excluded {
        assert!(routes.contains(op), "{op:?} is excluded but not registered");
    }
    let api: BTreeSet<Op> = routes.difference(&excluded).cloned().collect();
    let doc: BTreeSet<Op> = documented(&document()).into_keys().collect();
    let undocumented: Vec<_> = api.difference(&doc).collect();
    let unknown: Vec<_> = doc.difference(&api).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "registered but not documented: {undocumented:?}\ndocumented but not registered: {unknown:?}"
    );
    assert!(api.len() > 60, "the walk found only {} routes", api.len());
}

#[test]
fn path_parameters_match_the_path_templates() {
    for ((method, path), op) in documented(&document()) {
        let template: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_owned)
            .collect();
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(declared, template, "{method} {path}: path parameters");
    }
}

/// A concrete URL for a documented path (every parameter `x`).
fn url(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "x" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn lists(op: &Value, status: u16) -> bool {
    op["responses"].get(status.to_string()).is_some()
}

fn json_body(op: &Value) -> bool {
    op["requestBody"]["content"]
        .get("application/json")
        .is_some()
}

fn secured(op: &Value) -> bool {
    op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_operations_reach_handlers_and_list_their_errors() {
    let app = TestApp::with_config(Backend::Sqlite, ApiConfig::default()).await;
    let token = app.sign_in("candidate").await;
    // The router's fallbacks (`app.rs`): 404 "no route for …" and 405.
    let fallback = |r: &crate::common::Res| {
        let no_route = r.status == StatusCode::NOT_FOUND
            && r.json["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("no route for "));
        no_route || r.status == StatusCode::METHOD_NOT_ALLOWED
    };
    assert!(fallback(
        &app.raw("GET", "/api/v1/nothing-here", None, None, None)
            .await
    ));
    assert!(fallback(
        &app.raw("DELETE", "/healthz", None, None, None).await
    ));
    let doc = document();
    let mut problems = Vec::new();
    for ((method, path), op) in documented(&doc) {
        let m = method.to_uppercase();
        let url = url(&path);
        let anonymous = app.raw(&m, &url, None, None, None).await;
        if fallback(&anonymous) {
            problems.push(format!(
                "{m} {path}: answered by the fallback ({})",
                anonymous.status
            ));
            continue;
        }
        if secured(&op) {
            if anonymous.status != StatusCode::UNAUTHORIZED {
                problems.push(format!(
                    "{m} {path}: documented as needing a session, answers {} without one",
                    anonymous.status
                ));
            }
            if !lists(&op, 401) {
                problems.push(format!("{m} {path}: 401 is not listed"));
            }
        } else if anonymous.status == StatusCode::UNAUTHORIZED {
            problems.push(format!(
                "{m} {path}: answers 401 but is documented as public"
            ));
        }
        if anonymous.status.is_client_error() && !lists(&op, anonymous.status.as_u16()) {
            problems.push(format!(
                "{m} {path}: answers {} ({}) without a session, not listed",
                anonymous.status,
                anonymous.code()
            ));
        }
        if json_body(&op) {
            let big = format!("\"{}\"", "a".repeat(ApiConfig::default().body_limit + 1));
            let cases = [
                (
                    "{",
                    "application/json",
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                ),
                (
                    "[]",
                    "application/json",
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                ),
                (
                    "{}",
                    "text/plain",
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                ),
                (
                    big.as_str(),
                    "application/json",
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                ),
            ];
            for (body, content_type, status, code) in cases {
                let r = app
                    .raw(&m, &url, Some(&token), Some(body), Some(content_type))
                    .await;
                if (r.status, r.code()) != (status, code) {
                    problems.push(format!(
                        "{m} {path}: a {code} body answers {} {}",
                        r.status,
                        r.code()
                    ));
                }
                if !lists(&op, status.as_u16()) {
                    problems.push(format!("{m} {path}: {status} is not listed"));
                }
            }
        }
        for (status, response) in op["responses"].as_object().unwrap() {
            let error = status.starts_with('4') || status.starts_with('5');
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            if error && !path.starts_with("/verify/") && schema != "#/components/schemas/ErrorBody"
            {
                problems.push(format!("{m} {path}: {status} is not an ErrorBody"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `/api/v1/…` URLs in a page script, with each `${…}` replaced by `*` and the
/// query string cut off.
fn urls_in(js: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in js.match_indices("/api/v1/") {
        let quote = js[..at].chars().last();
        if !matches!(quote, Some('\'' | '"' | '`')) {
            continue;
        }
        let quote = quote.unwrap();
        let chars: Vec<char> = js[at..].chars().collect();
        let (mut url, mut depth, mut i) = (String::new(), 0, 0);
        while i < chars.len() {
            let c = chars[i];
            if depth > 0 {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
            } else if quote == '`' && c == '$' && chars.get(i + 1) == Some(&'{') {
                url.push('*');
                depth = 1;
                i += 1;
            } else if c == quote {
                break;
            } else {
                url.push(c);
            }
            i += 1;
        }
        let url = url.split('?').next().unwrap().to_owned();
        // A trailing `*` glued to a literal segment is a query part (`prompts${…}`).
        let url = match url.rsplit_once('/') {
            Some((head, last)) if last.len() > 1 && last.ends_with('*') => {
                format!("{head}/{}", last.trim_end_matches('*'))
            }
            _ => url,
        };
        out.push(url);
    }
    out
}

fn matches_path(url: &str, path: &str) -> bool {
    let (u, p): (Vec<_>, Vec<_>) = (url.split('/').collect(), path.split('/').collect());
    u.len() == p.len()
        && u.iter()
            .zip(&p)
            .all(|(u, p)| u == p || *u == "*" || (p.starts_with('{') && !u.is_empty()))
}

#[test]
fn every_url_the_pages_call_is_documented() {
    let paths: BTreeSet<String> = documented(&document())
        .into_keys()
        .map(|(_, p)| p)
        .collect();
    let mut scripts = Vec::new();
    files(&repo().join("web"), "js", &mut scripts);
    let mut seen = 0;
    let mut missing = Vec::new();
    for file in scripts {
        let js = std::fs::read_to_string(&file).unwrap();
        for url in urls_in(&js) {
            seen += 1;
            if !paths.iter().any(|p| matches_path(&url, p)) {
                missing.push(format!("{}: {url}", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "not documented:\n{}",
        missing.join("\n")
    );
    assert!(seen > 30, "only {seen} URLs found in the pages");
}

#[test]
fn the_page_url_scan_reads_templates() {
    assert_eq!(
        urls_in(
            "api('GET', `/api/v1/interviews/${encodeURIComponent(room)}/prompts${n ? `?seed=${n}` : ''}`)"
        ),
        ["/api/v1/interviews/*/prompts"]
    );
    assert_eq!(
        urls_in("fetch('/api/v1/me/identity')"),
        ["/api/v1/me/identity"]
    );
    assert_eq!(urls_in("`/api/v1/slots?${q}`"), ["/api/v1/slots"]);
    assert!(matches_path(
        "/api/v1/me/identity/*",
        "/api/v1/me/identity/selfie"
    ));
    assert!(!matches_path("/api/v1/me", "/api/v1/me/identity"));
}

#[test]
fn the_route_walk_reads_chained_methods() {
    assert_eq!(methods_of("get(a).post(b)"), ["get", "post"]);
    assert_eq!(
        methods_of("put(selfie).layer(DefaultBodyLimit::max(MAX_IMAGE_BYTES))"),
        ["put"]
    );
    assert_eq!(methods_of("get(upgrade::<M>)"), ["get"]);
    assert_eq!(methods_of("get(|| async { static_file(\"x\") })"), ["get"]);
}
