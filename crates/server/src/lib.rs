//! # qrid-server
//!
//! The qrid HTTP service: enrolment, issuance, revocation, publication (JWKS, status lists) and
//! the verify endpoint. Thin: handlers translate HTTP into calls of `qrid-store`,
//! `qrid-credential`, `qrid-verifier` and `qrid-qr`, and every error into RFC 9457
//! problem+json. The API is listed in docs/api.md, and described in OpenAPI 3.1 at
//! `GET /openapi.json` (generated from the handlers' annotations, `openapi.rs`).
#![forbid(unsafe_code)]

pub mod auth;
mod body;
pub mod connections;
pub mod form;
pub mod limit;
mod metrics;
pub mod officials;
pub mod oidc;
mod openapi;
mod pades;
pub mod problem;
mod routes;
mod signing;
pub mod state;
mod vci;

// The domain modules the handlers use, from the service crate under their old paths.
pub(crate) use qrid_service::config;

pub use qrid_service::{Config, Settings};
pub use state::AppState;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use problem::{Problem, ProblemKind};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The router with every route and middleware, over a ready state.
pub fn app(state: Arc<AppState>) -> Router {
    // The extractors stop reading at the limit; the middleware refuses a declared length over
    // it before reading anything (see body.rs for why both).
    let json_limit = (
        DefaultBodyLimit::max(state.config.max_json_body),
        middleware::from_fn_with_state(state.config.max_json_body, body::declared_within),
    );
    let image_limit = DefaultBodyLimit::max(state.config.max_image_body);
    // Outermost on its route, so a source over its allowance is refused before the body is read.
    let per_source =
        |limit| middleware::from_fn_with_state((state.clone(), limit), limit::per_source);
    Router::new()
        .route(
            "/v1/auth/token",
            post(routes::token)
                .layer(json_limit.clone())
                .layer(per_source(limit::Limit::Password)),
        )
        .route(
            "/v1/citizens",
            post(routes::enrol)
                .layer(json_limit.clone())
                .get(routes::find_citizens),
        )
        .route("/v1/citizens/{id}", get(routes::get_citizen))
        .route(
            "/v1/citizens/{id}/photo",
            get(routes::get_photo).put(routes::put_photo).layer((
                DefaultBodyLimit::max(qrid_service::photo::MAX_PHOTO_BYTES),
                middleware::from_fn_with_state(
                    qrid_service::photo::MAX_PHOTO_BYTES,
                    body::declared_within,
                ),
            )),
        )
        .route(
            "/v1/citizens/{id}/credentials",
            post(routes::issue).layer(json_limit.clone()),
        )
        .route("/v1/credentials/{id}", get(routes::get_credential))
        .route(
            "/v1/credentials/{id}/verifications",
            get(routes::access_record),
        )
        .route(
            "/v1/credentials/{id}/revoke",
            post(routes::revoke).layer(json_limit.clone()),
        )
        .route(
            "/v1/credentials/{id}/suspend",
            post(routes::suspend).layer(json_limit.clone()),
        )
        .route(
            "/v1/credentials/{id}/reinstate",
            post(routes::reinstate).layer(json_limit.clone()),
        )
        .route("/v1/credentials/{id}/{file}", get(routes::qr))
        .route("/.well-known/jwks.json", get(routes::jwks))
        .route("/v1/status-lists", get(routes::status_list_index))
        .route("/v1/status-lists/{n}", get(routes::status_list))
        // Checks the declared length against the JSON or the image limit by content type.
        .route("/v1/verify", post(routes::verify).layer(image_limit))
        .route(
            "/v1/officials/token",
            post(signing::token)
                .layer(json_limit.clone())
                .layer(per_source(limit::Limit::Password)),
        )
        .route("/v1/officials/me/signatures", get(signing::mine))
        .route(
            "/v1/signing-sessions",
            post(signing::open_session).layer(json_limit.clone()),
        )
        // The signing routes bound their own bodies as they stream (signing::read_document).
        .route("/v1/signatures", post(signing::sign))
        .route("/v1/signatures/verify", post(signing::verify))
        .route("/v1/signatures/pdf", post(pades::sign))
        .route("/v1/pki/ca.pem", get(pades::ca_pem))
        .route("/v1/pki/crl", get(pades::crl))
        .route("/v1/signatures/{id}", get(signing::get))
        .route("/v1/signatures/{id}/{file}", get(signing::stamp))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oidc/jwks.json", get(oidc::jwks))
        .route(
            "/authorize",
            get(oidc::authorize).layer(per_source(limit::Limit::Authorize)),
        )
        .route("/login/wait.js", get(oidc::wait_js))
        .route("/login/{tx}/status", get(oidc::status))
        .route(
            "/login/response",
            post(oidc::response).layer(json_limit.clone()),
        )
        .route("/token", post(oidc::token).layer(json_limit.clone()))
        .route(
            "/.well-known/openid-credential-issuer",
            get(vci::issuer_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(vci::authorization_server_metadata),
        )
        // Each call stores a nonce: the same per-source allowance as the logins /authorize
        // opens.
        .route(
            "/nonce",
            post(vci::nonce).layer(per_source(limit::Limit::Authorize)),
        )
        .route(
            "/credential",
            post(vci::credential).layer(json_limit.clone()),
        )
        .route(
            "/v1/citizens/{id}/credential-offers",
            post(vci::create_offer).layer(json_limit.clone()),
        )
        .route("/userinfo", get(oidc::userinfo).post(oidc::userinfo))
        .route("/healthz", get(routes::healthz))
        .route("/metrics", get(routes::metrics))
        .route("/openapi.json", get(openapi::openapi_json))
        // The web apps (the office): HTML pages over the same service, under the same
        // middleware (request ids, access log, metrics, timeouts, panic containment).
        .merge(
            qrid_web::routes::<AppState>().layer(middleware::from_fn_with_state(
                (state.clone(), limit::Limit::Password),
                office_sign_in_limit,
            )),
        )
        .fallback(routes::fallback)
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ProblemKind::MethodNotAllowed,
                "method not allowed on this path",
            )
        })
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            Problem::internal(&"handler panicked").into_response()
        }))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The office's sign-in form counts against the same per-source allowance of password logins
/// as `/v1/auth/token` (the per-username lockout applies to both in the service).
async fn office_sign_in_limit(
    State(limit): State<(Arc<AppState>, limit::Limit)>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == axum::http::Method::POST && req.uri().path() == "/office/sign-in" {
        limit::per_source(State(limit), req, next).await
    } else {
        next.run(req).await
    }
}

/// Request id, structured access log, response counters, a timeout, and panic containment:
/// a handler that panics answers 500 problem+json instead of dropping the connection.
async fn observe(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map(str::to_owned)
        .unwrap_or_else(new_request_id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let method = req.method().clone();
    // The route as declared, so that ids in paths never become label values.
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    // Log the path without the query string: paths carry only opaque ids, never personal
    // data, while a query string could carry anything a client put there.
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    // Uploads of documents to sign or verify (up to 100 MiB) get ten minutes; everything else
    // the configured timeout.
    let secs = if path.starts_with("/v1/signatures") && method == axum::http::Method::POST {
        state.config.request_timeout_secs.max(600)
    } else {
        state.config.request_timeout_secs
    };
    let timeout = Duration::from_secs(secs);
    let mut resp = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Timeout,
            "the request took too long",
        )
        .into_response(),
    };
    let status = resp.status();
    let counter = match status.as_u16() {
        200..=299 => &state.metrics.http_2xx,
        400..=499 => &state.metrics.http_4xx,
        _ => &state.metrics.http_5xx,
    };
    counter.inc();
    state
        .metrics
        .http_duration
        .get_or_create(&metrics::RouteLabels {
            method: method_label(&method),
            route,
            status: match status.as_u16() {
                200..=299 => "2xx",
                300..=399 => "3xx",
                400..=499 => "4xx",
                _ => "5xx",
            },
        })
        .observe(started.elapsed().as_secs_f64());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    tracing::info!(request_id = %id, %method, path = %path, status = status.as_u16(), micros = started.elapsed().as_micros() as u64, "request");
    resp
}

/// The method as a label value: one of the methods routes serve, or `other` (a client may send
/// any token as a method, and each would otherwise become a series of its own).
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// A request id: unique within a process run and unpredictable across runs, without a system
/// call per request (a random per-process prefix and a counter; ids are for correlating logs,
/// not secrets).
fn new_request_id() -> String {
    use std::sync::atomic::AtomicU64;
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = *PREFIX.get_or_init(|| rand_core::RngCore::next_u32(&mut rand_core::OsRng));
    format!("{prefix:08x}{:08x}", COUNTER.fetch_add(1, Relaxed))
}

/// Connects the store, builds the state and serves until SIGTERM or Ctrl-C, then stops taking
/// connections, lets requests in flight finish for at most the drain timeout (dropping the rest),
/// flushes the verification records and closes the database. Connections are bounded as
/// [`connections`] describes. `on_listen` is told the bound address (the port is chosen by the
/// OS for port 0).
pub async fn serve(
    config: Config,
    on_listen: impl FnOnce(std::net::SocketAddr),
) -> anyhow::Result<()> {
    // The store creates a missing SQLite directory and file, owner-only.
    let store = qrid_store::Store::connect_with(
        &config.database_url,
        &qrid_store::StoreSettings::default().sqlite_max_bytes(config.sqlite_max_bytes),
    )
    .await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                "another process already listens there".to_owned()
            } else {
                e.to_string()
            };
            anyhow::anyhow!(
                "cannot listen on {}: {why}; choose another address with --listen or QRID_LISTEN (port 0 lets the system pick one)",
                config.listen
            )
        })?;
    let mut config = config;
    let bound = listener.local_addr()?;
    if config.public_url == format!("http://{}", config.listen) && config.listen.port() == 0 {
        // No public URL was given and the OS picked the port: status list URIs must name the
        // port actually bound, or nobody could fetch them.
        config.public_url = format!("http://{bound}");
    }
    // Installed before the address is announced, so that a signal sent as soon as a supervisor
    // sees it is a graceful stop and not the default action.
    let shutdown = shutdown_signal()?;
    let limits = config.connections;
    let (state, recorder) = AppState::new(config, store.clone()).await?;
    let refresher = state::spawn_key_refresher(&state);
    on_listen(bound);
    let drained = connections::serve(listener, app(state), limits, shutdown).await;
    // Every connection and request has ended or been dropped: what they queued is written now.
    refresher.abort();
    recorder.finish().await;
    // Bounded: closing waits for connections to come back to the pool, and a stop must end.
    if tokio::time::timeout(Duration::from_secs(5), store.close())
        .await
        .is_err()
    {
        tracing::warn!("the database did not close within 5 s");
    }
    tracing::info!(
        open_at_signal = drained.open,
        dropped = drained.dropped,
        "stopped"
    );
    Ok(())
}

/// Completes on SIGTERM or SIGINT (Ctrl-C); the handlers are installed when this is called.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
