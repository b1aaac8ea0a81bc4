//! The wallet's server-side costs (docs/benchmarks.md), through the real router in process on
//! SQLite (the in-process harness of tests/common):
//!
//! - OpenID4VCI issuance, the server's time for one wallet (offer, token, nonce, credential)
//!   beside a plain `POST /v1/citizens/{id}/credentials` issuance in the same run;
//! - the counter's check of a live QR (`QP1:`, with its replay record written) beside the
//!   check of the same credential's plain QR in the same run.
//!
//! `cargo bench -p qrid-server --bench wallet`

#[path = "../tests/common/mod.rs"]
mod common;

use common::{App, Auth, CITIZEN};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use qrid_credential::vci::sign_proof;
use qrid_credential::{IssuerKey, Presentation};
use qrid_service::vci::PRE_AUTHORIZED_GRANT;
use qrid_service::Officer;
use qrid_store::{Backend, Role};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};

async fn citizen(app: &App, token: &str) -> String {
    let citizen: Value = serde_json::from_str(CITIZEN).expect("citizen JSON");
    let j = app
        .call(
            "POST",
            "/v1/citizens",
            Auth::Bearer(token),
            Some(citizen),
            &[],
        )
        .await
        .json();
    j["id"]
        .as_str()
        .or(j["citizen_id"].as_str())
        .expect("a citizen id")
        .to_owned()
}

/// One wallet's whole delivery; the credential text.
async fn deliver(app: &App, officer: &str, id: &str, holder: &IssuerKey) -> String {
    let o = app
        .call(
            "POST",
            &format!("/v1/citizens/{id}/credential-offers"),
            Auth::Bearer(officer),
            None,
            &[],
        )
        .await
        .ok(201);
    let code = o["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .expect("a code");
    let form = serde_urlencoded::to_string([
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
        ("tx_code", o["tx_code"].as_str().expect("a PIN")),
    ])
    .expect("a form");
    let t = app
        .call_raw(
            "POST",
            "/token",
            Auth::None,
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
            &[],
        )
        .await
        .ok(200);
    let access = t["access_token"].as_str().expect("a token");
    let n = app
        .call("POST", "/nonce", Auth::None, None, &[])
        .await
        .ok(200);
    let proof = sign_proof(
        holder.signing_key(),
        &holder.verifying_key(),
        "http://qrid.test",
        app.clock_now(),
        n["c_nonce"].as_str().expect("a nonce"),
    )
    .expect("a proof");
    let c = app
        .call(
            "POST",
            "/credential",
            Auth::Bearer(access),
            Some(
                json!({"credential_configuration_id": "qrid_claim169", "proofs": {"jwt": [proof]}}),
            ),
            &[],
        )
        .await
        .ok(200);
    c["credentials"][0]["credential"]
        .as_str()
        .expect("a credential")
        .to_owned()
}

fn wallet(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let app = rt.block_on(App::start(Backend::Sqlite));
    let officer = rt.block_on(app.officer_token());
    let id = rt.block_on(citizen(&app, &officer));
    let holder = IssuerKey::generate();

    let mut g = c.benchmark_group("wallet");
    g.sample_size(30);
    g.bench_function("openid4vci_issuance_offer_token_nonce_credential", |b| {
        b.iter(|| rt.block_on(deliver(&app, &officer, &id, &holder)))
    });
    g.bench_function("reference_plain_issuance_post_credentials", |b| {
        b.iter(|| {
            rt.block_on(app.call(
                "POST",
                &format!("/v1/citizens/{id}/credentials"),
                Auth::Bearer(&officer),
                None,
                &[],
            ))
            .ok(201)
        })
    });

    let credential = rt.block_on(deliver(&app, &officer, &id, &holder));
    let clerk = Officer {
        username: "bench".into(),
        role: Role::Clerk,
    };
    let nonce = AtomicU64::new(0);
    g.bench_function("counter_check_live_qr", |b| {
        b.iter_batched(
            || {
                // A fresh presentation each time (made outside the timing), so that none is
                // a replay.
                Presentation {
                    credential: credential.clone(),
                    presented_at: app.clock_now(),
                    nonce: nonce.fetch_add(1, Ordering::Relaxed).to_be_bytes(),
                }
                .sign(holder.signing_key(), holder.kid())
                .expect("a presentation")
            },
            |text| {
                rt.block_on(app.state.counter_check(&clerk, &text))
                    .expect("a check")
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("reference_counter_check_plain_qr", |b| {
        b.iter(|| {
            rt.block_on(app.state.counter_check(&clerk, &credential))
                .expect("a check")
        })
    });
    g.finish();
    rt.block_on(app.stop());
}

criterion_group!(benches, wallet);
criterion_main!(benches);
