//! Connections end to end: the real `qrid serve` against clients that send half a request head,
//! keep connections idle, open more connections than the process has descriptors for, or are in
//! the middle of a request when SIGTERM comes. Timeouts are set to a second or two by flags so
//! the tests run quickly; nothing asserts a duration, only behaviour, under bounds (`HANG`) that
//! only a hang exceeds.

use base64::Engine;
use qrid_e2e::service::{enrol, http, issue, token, verify_payload, Auth, Body, Service, World};
use qrid_store::Backend;
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Only a hang takes this long.
const HANG: Duration = Duration::from_secs(60);

fn connect(s: &Service) -> TcpStream {
    let c = TcpStream::connect(s.url.trim_start_matches("http://")).expect("connect");
    c.set_read_timeout(Some(HANG)).expect("set a read timeout");
    c
}

/// Reads one response with a Content-Length body: (head in lower case, body).
fn response(c: &mut TcpStream) -> (String, Vec<u8>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..i]).to_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().expect("a content length"));
            if got.len() >= i + 4 + len {
                return (head, got[i + 4..i + 4 + len].to_vec());
            }
        }
        match c.read(&mut buf) {
            Ok(0) => panic!("closed before a whole response: {got:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no response ({e}): {got:?}"),
        }
    }
}

/// Asserts that the server closes `c` (end of stream or reset) without sending anything more.
fn closed_by_server(c: &mut TcpStream, what: &str) {
    let mut buf = [0u8; 256];
    match c.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Ok(n) => panic!(
            "{what}: unexpected bytes {:?}",
            String::from_utf8_lossy(&buf[..n])
        ),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            panic!("{what}: still open after {} s", HANG.as_secs())
        }
        Err(e) => panic!("{what}: {e}"),
    }
}

/// Returns once the service has accepted every connection made before this call: it accepts
/// in order, and has answered one made after them.
fn accepted_so_far(s: &Service) {
    let r = http("GET", &format!("{}/healthz", s.url), Auth::None, Body::None);
    assert_eq!(r.status, 200);
}

fn healthz_head() -> &'static [u8] {
    b"GET /healthz HTTP/1.1\r\nhost: qrid\r\n\r\n"
}

/// A `/v1/verify` request of `payload` as the world's client, split in two: everything but
/// the last 10 bytes of the body, and those.
fn verify_request(w: &World, s: &Service, payload: &str) -> (Vec<u8>, Vec<u8>) {
    let body = json!({ "payload": payload }).to_string();
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", w.client_id, w.client_secret));
    let head = format!(
        "POST /v1/verify HTTP/1.1\r\nhost: {}\r\nauthorization: Basic {basic}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        s.url.trim_start_matches("http://"),
        body.len()
    );
    let mut first = head.into_bytes();
    let (a, b) = body.as_bytes().split_at(body.len() - 10);
    first.extend_from_slice(a);
    (first, b.to_vec())
}

/// Enrols a citizen and issues a credential: (credential id, payload).
fn credential(s: &Service) -> (String, String) {
    let t = token(s, "alice");
    let citizen = enrol(s, &t, qrid_e2e::CITIZEN_JSON);
    let cred = issue(s, &t, &citizen);
    (
        cred["id"].as_str().expect("an id").to_owned(),
        cred["payload"].as_str().expect("a payload").to_owned(),
    )
}

/// The outcomes in a credential's access record, read through a fresh service.
fn access_record(w: &World, cred_id: &str) -> Vec<String> {
    let s = w.start();
    let t = token(&s, "audrey");
    let r = http(
        "GET",
        &format!("{}/v1/credentials/{cred_id}/verifications", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j: Value = r.json();
    let outcomes = j["verifications"]
        .as_array()
        .expect("a list of verifications")
        .iter()
        .map(|v| v["outcome"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(s.stop(), 0);
    outcomes
}

#[test]
fn half_a_head_and_an_idle_keep_alive_connection_are_closed_by_the_timeouts() {
    let w = World::new(Backend::Sqlite);
    let s = w.start_with_flags(&["--header-timeout", "1", "--idle-timeout", "1"], None);
    let mut half = connect(&s);
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: qr")
        .expect("send half a head");
    let mut silent = connect(&s);
    let mut idle = connect(&s);
    idle.write_all(healthz_head()).expect("send a request");
    let (head, _) = response(&mut idle);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        !head.contains("connection: close"),
        "kept alive until the idle timeout: {head}"
    );
    closed_by_server(&mut half, "half a head");
    closed_by_server(&mut silent, "a connection that sent nothing");
    closed_by_server(&mut idle, "an idle keep-alive connection");
    accepted_so_far(&s);
    assert_eq!(s.stop(), 0);
}

fn drain_deadline(backend: Backend) {
    let w = World::new(backend);
    let s = w.start_with_flags(&["--header-timeout", "300", "--drain-timeout", "1"], None);
    let (cred_id, payload) = credential(&s);
    // Verified and answered before the signal: must be in the access record afterwards.
    assert_eq!(verify_payload(&w, &s, &payload)["valid"], true);
    // Half a head (its header timeout is five minutes away) and a verification whose body
    // never finishes: neither may hold up the stop past the drain deadline.
    let mut half = connect(&s);
    half.write_all(b"GET /healthz HTTP/1.1\r\nhost: qr")
        .expect("send half a head");
    let mut stuck = connect(&s);
    let (start, _rest) = verify_request(&w, &s, &payload);
    stuck.write_all(&start).expect("send most of a request");
    accepted_so_far(&s);
    s.terminate();
    assert_eq!(s.wait_exit(HANG), 0, "a graceful stop");
    closed_by_server(&mut half, "half a head at the drain deadline");
    closed_by_server(&mut stuck, "a request in flight at the drain deadline");
    assert_eq!(access_record(&w, &cred_id), ["valid"]);
}

#[test]
fn half_a_head_and_a_stuck_request_end_at_the_drain_deadline_on_sqlite() {
    drain_deadline(Backend::Sqlite);
}

#[test]
fn half_a_head_and_a_stuck_request_end_at_the_drain_deadline_on_postgres() {
    drain_deadline(Backend::Postgres);
}

fn drain_finishes_requests(backend: Backend) {
    let w = World::new(backend);
    let s = w.start_with_flags(&["--drain-timeout", "30"], None);
    let (cred_id, payload) = credential(&s);
    let mut idle = connect(&s);
    idle.write_all(healthz_head()).expect("send a request");
    response(&mut idle);
    let mut verifying = connect(&s);
    let (start, rest) = verify_request(&w, &s, &payload);
    verifying.write_all(&start).expect("send most of a request");
    accepted_so_far(&s);
    s.terminate();
    s.wait_log("shutdown signal received", HANG);
    // Nothing in flight on this one: closed at once (its idle timeout is 75 s).
    closed_by_server(&mut idle, "an idle keep-alive connection at shutdown");
    // Accepted before the signal, finished during the drain: answered, and told that the
    // server closes the connection.
    verifying.write_all(&rest).expect("send the rest");
    let (head, body) = response(&mut verifying);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("\r\nconnection: close"), "{head}");
    let verdict: Value = serde_json::from_slice(&body).expect("a JSON verdict");
    assert_eq!(verdict["valid"], true, "{verdict}");
    closed_by_server(&mut verifying, "after the last response");
    assert_eq!(s.wait_exit(HANG), 0, "a graceful stop");
    // Its verification was flushed to the access record before the process ended.
    assert_eq!(access_record(&w, &cred_id), ["valid"]);
}

#[test]
fn a_request_finished_during_shutdown_says_connection_close_and_is_recorded_on_sqlite() {
    drain_finishes_requests(Backend::Sqlite);
}

#[test]
fn a_request_finished_during_shutdown_says_connection_close_and_is_recorded_on_postgres() {
    drain_finishes_requests(Backend::Postgres);
}

fn more_connections_than_descriptors(backend: Backend) {
    let w = World::new(backend);
    // 256 descriptors: the default connection limit leaves the service's own reserve free.
    let s = w.start_with_flags(&["--header-timeout", "2"], Some(256));
    // More silent connections than the process could hold: past the limit they wait in the
    // listen backlog, and the header timeout frees the slots of those accepted.
    let hogs: Vec<TcpStream> = (0..300).map(|_| connect(&s)).collect();
    // Made after all of them: answered once enough of them have been closed.
    let r = http("GET", &format!("{}/healthz", s.url), Auth::None, Body::None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json()["status"],
        "ok",
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let log = s.log();
    assert!(
        !log.contains("Too many open files") && !log.contains("accepting a connection failed"),
        "the service ran out of descriptors:\n{log}"
    );
    drop(hogs);
    assert_eq!(s.stop(), 0);
}

#[test]
fn more_connections_than_descriptors_wait_and_the_node_stays_up_on_sqlite() {
    more_connections_than_descriptors(Backend::Sqlite);
}

#[test]
fn more_connections_than_descriptors_wait_and_the_node_stays_up_on_postgres() {
    more_connections_than_descriptors(Backend::Postgres);
}
