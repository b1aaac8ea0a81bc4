//! `qrid wallet receive`: the wallet's side of OpenID4VCI 1.0, pre-authorized code flow
//! (docs/api.md, "Credential delivery"). The browser wallet (`/wallet/`) is another client of
//! the same protocol.
//!
//! Offer (QR or link) → issuer metadata → authorization server metadata → token (code + PIN)
//! → nonce → key proof signed by the holder key → credential → checked under the wallet's
//! trust list and bound to its key, then stored.

use anyhow::{bail, Context, Result};
use qrid_credential::vci::sign_proof;
use qrid_credential::IssuerKey;
use serde_json::Value;
use std::io::Read;
use std::time::Duration;

/// The configuration this wallet asks for.
const CONFIGURATION_ID: &str = "qrid_claim169";
const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The most a metadata or credential answer may hold: far above a real one.
const MAX_ANSWER: u64 = 256 * 1024;

/// A credential offer's parts this wallet uses.
#[derive(Debug)]
pub struct ParsedOffer {
    pub issuer: String,
    code: String,
    pub pin_length: Option<usize>,
}

/// Reads an offer link: any scheme with a `credential_offer` query parameter (the offer by
/// value) or `credential_offer_uri` (fetched).
pub fn parse_offer(link: &str, agent: &ureq::Agent) -> Result<ParsedOffer> {
    let query = link
        .split_once('?')
        .map(|(_, q)| q)
        .context("the offer link has no query")?;
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query).context("the offer link's query is malformed")?;
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let offer: Value = match (get("credential_offer"), get("credential_offer_uri")) {
        (Some(json), None) => serde_json::from_str(&json).context("the offer is not JSON")?,
        (None, Some(uri)) => {
            require_https(&uri)?;
            fetch_json(agent.get(&uri))?
        }
        _ => bail!("the link holds no credential offer (credential_offer or credential_offer_uri)"),
    };
    let issuer = offer["credential_issuer"]
        .as_str()
        .context("the offer names no credential_issuer")?
        .trim_end_matches('/')
        .to_owned();
    require_https(&issuer)?;
    let ids = offer["credential_configuration_ids"]
        .as_array()
        .context("the offer has no credential_configuration_ids")?;
    if !ids.iter().any(|i| i.as_str() == Some(CONFIGURATION_ID)) {
        bail!("the offer is not for a {CONFIGURATION_ID} credential");
    }
    let grant = &offer["grants"][PRE_AUTHORIZED_GRANT];
    let code = grant["pre-authorized_code"]
        .as_str()
        .context("the offer has no pre-authorized code")?
        .to_owned();
    let pin_length = grant["tx_code"]["length"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok());
    Ok(ParsedOffer {
        issuer,
        code,
        pin_length,
    })
}

/// Over https, or plain http to this machine only (a development service on 127.0.0.1).
fn require_https(url: &str) -> Result<()> {
    let local = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://[::1]:",
    ];
    if url.starts_with("https://") || local.iter().any(|p| url.starts_with(p)) {
        Ok(())
    } else {
        bail!("the issuer must be reached over https (or on this machine): {url}")
    }
}

fn read_answer(resp: ureq::Response) -> Result<Value> {
    let mut text = String::new();
    resp.into_reader()
        .take(MAX_ANSWER)
        .read_to_string(&mut text)
        .context("cannot read the answer")?;
    serde_json::from_str(&text).context("the answer is not JSON")
}

/// Sends a request and reads its JSON answer; an OAuth error becomes an error naming its code.
fn answer(r: std::result::Result<ureq::Response, ureq::Error>, what: &str) -> Result<Value> {
    match r {
        Ok(resp) => read_answer(resp),
        Err(ureq::Error::Status(status, resp)) => {
            let e = read_answer(resp).unwrap_or_default();
            bail!(
                "{what} refused ({status}): {}: {}",
                e["error"].as_str().unwrap_or("unknown"),
                e["error_description"].as_str().unwrap_or("")
            )
        }
        Err(e) => bail!("{what}: cannot reach the issuer: {e}"),
    }
}

fn fetch_json(req: ureq::Request) -> Result<Value> {
    answer(req.call(), "the offer")
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(30))
        .redirects(0)
        .build()
}

/// Runs the flow for `offer` with `pin`, proving possession of `key`; the credential's
/// payload text, not yet checked (the caller checks it under its trust list).
pub fn receive(
    agent: &ureq::Agent,
    offer: &ParsedOffer,
    pin: &str,
    key: &IssuerKey,
) -> Result<String> {
    if let Some(n) = offer.pin_length {
        if pin.len() != n || !pin.bytes().all(|b| b.is_ascii_digit()) {
            bail!("the PIN is {n} digits, as the office gave it");
        }
    }
    let base = &offer.issuer;
    let meta = answer(
        agent
            .get(&format!("{base}/.well-known/openid-credential-issuer"))
            .call(),
        "the issuer metadata",
    )?;
    if meta["credential_issuer"]
        .as_str()
        .map(|s| s.trim_end_matches('/'))
        != Some(base)
    {
        bail!("the issuer metadata names another credential_issuer than the offer");
    }
    let config = &meta["credential_configurations_supported"][CONFIGURATION_ID];
    let eddsa = config["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "EdDSA"));
    if !eddsa {
        bail!("the issuer does not take EdDSA jwt proofs for {CONFIGURATION_ID}");
    }
    let endpoint = |m: &Value, k: &str| -> Result<String> {
        let url = m[k]
            .as_str()
            .with_context(|| format!("the metadata has no {k}"))?;
        require_https(url)?;
        Ok(url.to_owned())
    };
    let credential_endpoint = endpoint(&meta, "credential_endpoint")?;
    let nonce_endpoint = endpoint(&meta, "nonce_endpoint")?;
    let as_base = meta["authorization_servers"][0]
        .as_str()
        .unwrap_or(base)
        .trim_end_matches('/')
        .to_owned();
    let as_meta = answer(
        agent
            .get(&format!("{as_base}/.well-known/oauth-authorization-server"))
            .call(),
        "the authorization server metadata",
    )?;
    let token_endpoint = endpoint(&as_meta, "token_endpoint")?;
    let token = answer(
        agent.post(&token_endpoint).send_form(&[
            ("grant_type", PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", &offer.code),
            ("tx_code", pin),
        ]),
        "the token request",
    )?;
    let access = token["access_token"]
        .as_str()
        .context("the token answer has no access_token")?
        .to_owned();
    let nonce = answer(agent.post(&nonce_endpoint).call(), "the nonce request")?;
    let nonce = nonce["c_nonce"]
        .as_str()
        .context("the nonce answer has no c_nonce")?;
    let proof = sign_proof(
        key.signing_key(),
        &key.verifying_key(),
        base,
        crate::now(),
        nonce,
    )?;
    let body = serde_json::json!({
        "credential_configuration_id": CONFIGURATION_ID,
        "proofs": {"jwt": [proof]},
    });
    let got = answer(
        agent
            .post(&credential_endpoint)
            .set("Authorization", &format!("Bearer {access}"))
            .send_json(body),
        "the credential request",
    )?;
    let credential = got["credentials"][0]["credential"]
        .as_str()
        .context("the credential answer holds no credential")?;
    Ok(credential.to_owned())
}
