//! The description against the code: exactly the routes of `app()` (read from lib.rs's
//! source), each with a success answer, and problem+json errors where the handler has any.

use super::ApiDoc;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::OpenApi;

/// The methods of axum's method routers (`get(h)`, `….post(h)`).
const METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "patch", "head", "options", "trace",
];

/// Calls in a method router that add no operation.
const NOT_METHODS: [&str; 2] = ["layer", "route_layer"];

/// Operations whose handler never answers problem+json (the middleware's 500 and 503 aside,
/// which the description's introduction states once): documents and keys served as they are.
const NO_PROBLEMS: [(&str, &str); 8] = [
    ("/.well-known/jwks.json", "get"),
    ("/.well-known/openid-configuration", "get"),
    ("/.well-known/openid-credential-issuer", "get"),
    ("/.well-known/oauth-authorization-server", "get"),
    ("/oidc/jwks.json", "get"),
    ("/login/wait.js", "get"),
    ("/metrics", "get"),
    ("/openapi.json", "get"),
];

/// Rust source without its comments, string and character literals kept as they are.
fn without_comments(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && b.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && b.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = literal_end(&b, i) {
            out.extend(&b[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// If a string, raw string or character literal starts at `i`, the index just past it.
fn literal_end(b: &[char], i: usize) -> Option<usize> {
    let ident_before = i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_');
    match b[i] {
        '"' => {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            Some(j + 1)
        }
        'r' if !ident_before && matches!(b.get(i + 1), Some('"' | '#')) => {
            let hashes = b[i + 1..].iter().take_while(|&&c| c == '#').count();
            if b.get(i + 1 + hashes) != Some(&'"') {
                return None;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let body = i + 2 + hashes;
            (body..b.len())
                .find(|&j| b[j..].starts_with(&close))
                .map(|j| j + close.len())
        }
        // A character literal ('x', '\n', '"'), not a lifetime ('a, '_).
        '\'' if b.get(i + 1) == Some(&'\\') => {
            (i + 3..b.len()).find(|&j| b[j] == '\'').map(|j| j + 1)
        }
        '\'' if b.get(i + 2) == Some(&'\'') => Some(i + 3),
        _ => None,
    }
}

/// The text inside the parenthesis that opens `s`, and the rest after its close.
fn parenthesised(s: &str) -> (&str, &str) {
    let b: Vec<char> = s.chars().collect();
    assert_eq!(b.first(), Some(&'('), "expected a parenthesis: {s:.40}");
    let mut depth = 0;
    let mut i = 0;
    let mut bytes = 0;
    while i < b.len() {
        if let Some(end) = literal_end(&b, i) {
            bytes += b[i..end].iter().map(|c| c.len_utf8()).sum::<usize>();
            i = end;
            continue;
        }
        match b[i] {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return (&s[1..bytes], &s[bytes + 1..]);
                }
            }
            _ => {}
        }
        bytes += b[i].len_utf8();
        i += 1;
    }
    panic!("unbalanced parentheses: {s:.80}");
}

/// The calls at the top level of a method-router expression: `post(h).layer(l)` → `post`,
/// `layer` (a path-qualified `routing::get(h)` counts as `get`).
fn top_level_calls(expr: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut rest = expr.trim();
    while !rest.is_empty() {
        rest = rest.trim_start().trim_start_matches('.').trim_start();
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        let after = after.trim_start();
        assert!(
            !name.is_empty() && after.starts_with('('),
            "a method router other than calls chained with `.`: {expr}"
        );
        calls.push(name.rsplit("::").next().unwrap_or(name).to_owned());
        rest = parenthesised(after).1.trim_start();
    }
    calls
}

/// Every `(path, method)` operation of `.route("PATH", METHOD(…)…)` calls in `src`.
fn routes_in(src: &str) -> BTreeSet<(String, String)> {
    let mut src = without_comments(src);
    // The web apps' routes (qrid_web::routes) are HTML pages, documented in docs/office.md and
    // not part of the API's description: their merge is taken out before the routes are read.
    while let Some(at) = src.find(".merge(") {
        let (args, after) = parenthesised(&src[at + ".merge".len()..]);
        assert!(
            args.trim_start().starts_with("qrid_web::routes"),
            "lib.rs merges a router other than the web apps': teach this test to read it"
        );
        let end = src.len() - after.len();
        src.replace_range(at..end, "");
    }
    for other in [".nest(", ".merge(", ".route_service(", ".nest_service("] {
        assert!(
            !src.contains(other),
            "lib.rs adds routes with {other}: teach this test to read them"
        );
    }
    let mut found = BTreeSet::new();
    let mut rest = src.as_str();
    while let Some(at) = rest.find(".route(") {
        let (args, after) = parenthesised(&rest[at + ".route".len()..]);
        let args = args.trim_start();
        let path_end = args[1..].find('"').map(|e| e + 1);
        let (Some(end), true) = (path_end, args.starts_with('"')) else {
            panic!("a route whose path is not a string literal: {args}");
        };
        let path = &args[1..end];
        assert!(!path.contains("{*"), "a wildcard route: {path}");
        let router = args[end + 1..].trim_start();
        let router = router
            .strip_prefix(',')
            .unwrap_or_else(|| panic!("no method router for {path}"));
        let router = router.trim().trim_end_matches(',');
        let mut methods = 0;
        for call in top_level_calls(router) {
            if METHODS.contains(&call.as_str()) {
                assert!(
                    found.insert((path.to_owned(), call.clone())),
                    "{call} {path} routed twice"
                );
                methods += 1;
            } else {
                assert!(
                    NOT_METHODS.contains(&call.as_str()),
                    "unknown call {call}(…) in the method router of {path}: teach this test"
                );
            }
        }
        assert!(methods > 0, "no method routed for {path}");
        rest = after;
    }
    found
}

fn document() -> Value {
    serde_json::to_value(ApiDoc::openapi()).expect("the description as JSON")
}

/// Every operation of the description: `(path, method) → operation`.
fn operations(doc: &Value) -> BTreeMap<(String, String), Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            if METHODS.contains(&method.as_str()) {
                ops.insert((path.clone(), method.clone()), op.clone());
            }
        }
    }
    ops
}

#[test]
fn the_route_reader_reads_the_ways_routes_are_written() {
    let src = r#"
        // .route("/commented", get(nothing))
        /* .route("/block", get(nothing)) */
        Router::new()
            .route(
                "/a/{id}",
                post(routes::a)
                    .layer(json_limit.clone())
                    .layer(per_source(limit::Limit::Password)),
            )
            .route("/b", get(b).post(b)) // a comment with "quotes" and (parens
            .route("/c", axum::routing::delete(|| async { ")" }))
            .fallback(routes::fallback)
    "#;
    let want: BTreeSet<(String, String)> = [
        ("/a/{id}", "post"),
        ("/b", "get"),
        ("/b", "post"),
        ("/c", "delete"),
    ]
    .iter()
    .map(|(p, m)| (p.to_string(), m.to_string()))
    .collect();
    assert_eq!(routes_in(src), want);
}

#[test]
fn the_description_has_exactly_the_routes_of_app() {
    let routed = routes_in(include_str!("../lib.rs"));
    assert!(routed.len() >= 30, "too few routes read: {routed:?}");
    let documented: BTreeSet<(String, String)> = operations(&document()).into_keys().collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routed but not described: {missing:?}; described but not routed: {extra:?}"
    );
}

#[test]
fn every_operation_answers_success_and_its_problems() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for ((path, method), op) in operations(&doc) {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().expect("an operation id");
        assert!(
            ids.insert(id.to_owned()),
            "operation id {id} twice ({what})"
        );
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{what}: no summary"
        );
        let op_tags = op["tags"].as_array().expect("tags");
        assert!(
            !op_tags.is_empty()
                && op_tags
                    .iter()
                    .all(|t| tags.contains(t.as_str().unwrap_or(""))),
            "{what}: tags {op_tags:?} not among {tags:?}"
        );
        for requirement in op["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().expect("a requirement").keys() {
                assert!(
                    schemes.contains_key(scheme),
                    "{what}: unknown scheme {scheme}"
                );
            }
        }
        let responses = op["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{what}: no 2xx response"
        );
        let problems: Vec<&String> = responses
            .iter()
            .filter(|(_, r)| r["content"].get(super::PROBLEM).is_some())
            .map(|(status, _)| status)
            .collect();
        for status in &problems {
            assert!(
                status.starts_with('4') || status.starts_with('5'),
                "{what}: problem+json on {status}"
            );
            assert_eq!(
                responses[status.as_str()]["content"][super::PROBLEM]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{what} {status}"
            );
        }
        if NO_PROBLEMS.contains(&(path.as_str(), method.as_str())) {
            assert!(problems.is_empty(), "{what} lists problems: {problems:?}");
        } else {
            assert!(!problems.is_empty(), "{what}: no problem+json error listed");
        }
    }
    for (path, method) in NO_PROBLEMS {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} is no longer described: update NO_PROBLEMS"
        );
    }
}

#[test]
fn the_problem_schema_has_the_rfc_9457_members() {
    let doc = document();
    let problem = &doc["components"]["schemas"]["Problem"];
    for member in ["type", "title", "status", "detail"] {
        assert!(
            problem["properties"][member].is_object(),
            "{member}: {problem}"
        );
    }
}

/// Every `$ref` under `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves() {
    let doc = document();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 50, "{found:?}");
    for r in found {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("a reference outside the document: {r}"));
        assert!(doc.pointer(pointer).is_some(), "{r} names nothing");
    }
}
