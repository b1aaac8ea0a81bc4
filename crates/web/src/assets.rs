//! The static files of the web apps (CSS, scripts, the QR decoder), embedded in the binary and
//! served under a name that holds a digest of their content (`/static/<digest>/<name>`), so a
//! page always loads the files of its own build and a browser may cache them for good.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// One embedded file.
struct Asset {
    name: &'static str,
    media_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "office.css",
        media_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/css/office.css"),
    },
    Asset {
        name: "office.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/office.js"),
    },
    Asset {
        name: "enrol.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/enrol.js"),
    },
    Asset {
        name: "counter.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/counter.js"),
    },
    // The offline verifier (docs/office.md): checks credentials in the page against the
    // trust list and status lists saved while online; tests/js/vectors.mjs holds it to every
    // verdict of tests/vectors.
    Asset {
        name: "qrid-verify.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/qrid-verify.mjs"),
    },
    Asset {
        name: "office-192.png",
        media_type: "image/png",
        bytes: include_bytes!("../assets/icons/office-192.png"),
    },
    Asset {
        name: "office-512.png",
        media_type: "image/png",
        bytes: include_bytes!("../assets/icons/office-512.png"),
    },
    // jsQR 1.4.0 (Apache-2.0), the npm package pinned in crates/web/package-lock.json; a test
    // checks that this copy is the package's file byte for byte.
    Asset {
        name: "jsQR.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/jsQR.js"),
    },
    // The citizen's browser wallet (docs/wallet.md): OpenID4VCI receipt, holder key in
    // IndexedDB, the live QR.
    Asset {
        name: "wallet.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/wallet.mjs"),
    },
    // The wallet's error type, byte helpers and strict CBOR reader (imported by the two below).
    Asset {
        name: "wallet-cbor.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/wallet-cbor.mjs"),
    },
    // The wallet's protocols as pure functions: OpenID4VCI, the login request and answer, signing.
    Asset {
        name: "wallet-protocol.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/wallet-protocol.mjs"),
    },
    // The wallet's login screens: the login QR by camera or pasted, the consent.
    Asset {
        name: "wallet-login.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/wallet-login.mjs"),
    },
    // The wallet's document signing screen.
    Asset {
        name: "wallet-sign.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/wallet-sign.mjs"),
    },
    // qrcode-generator 1.4.4 (MIT), pinned in crates/web/package-lock.json; the wallet draws
    // its live QR with it. A test checks that this copy is the package's file byte for byte.
    Asset {
        name: "qrcode.js",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/qrcode.js"),
    },
    // The signing desk's preview (docs/sign.md): draws a PDF's first and last pages and the
    // stamp's frame.
    Asset {
        name: "sign.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/js/sign.mjs"),
    },
    // pdf.js 4.10.38 (Apache-2.0), pdfjs-dist as crates/web/package-lock.json pins it, and its
    // worker; a test checks both copies byte for byte. Online pages only: not in the offline
    // caches ([`all_urls`]).
    Asset {
        name: "pdf.min.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/pdf.min.mjs"),
    },
    Asset {
        name: "pdf.worker.min.mjs",
        media_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/vendor/pdf.worker.min.mjs"),
    },
];

/// Assets the offline apps (counter, wallet) never need: their service workers do not cache
/// them.
const ONLINE_ONLY: &[&str] = &["sign.mjs", "pdf.min.mjs", "pdf.worker.min.mjs"];

/// The digest part of an asset's URL: the first 16 hex digits of the SHA-256 of its bytes.
fn digests() -> &'static [String] {
    static D: OnceLock<Vec<String>> = OnceLock::new();
    D.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| hex::encode(&Sha256::digest(a.bytes)[..8]))
            .collect()
    })
}

/// The versioned URLs of the embedded assets the offline apps use (what their service workers
/// cache): all but the signing desk's.
pub fn all_urls() -> Vec<String> {
    ASSETS
        .iter()
        .filter(|a| !ONLINE_ONLY.contains(&a.name))
        .map(|a| url(a.name))
        .collect()
}

/// A digest of every asset: the service worker's version (a new build replaces its cache).
pub fn version() -> String {
    let mut h = Sha256::new();
    for d in digests() {
        h.update(d.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

/// The versioned URL of an embedded asset (`office.css` → `/static/3fa2…/office.css`). A name
/// that is not embedded gives a URL that answers 404, so a typo shows in the tests.
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => format!("/static/{}/{}", digests()[i], name),
        None => format!("/static/missing/{name}"),
    }
}

/// The asset route.
pub fn routes<H: crate::Host>() -> Router<std::sync::Arc<H>> {
    Router::new().route("/static/{digest}/{name}", get(serve))
}

async fn serve(Path((digest, name)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .zip(digests())
        .find(|(a, d)| a.name == name && **d == digest);
    match found {
        Some((a, _)) => {
            let mut r = a.bytes.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(a.media_type));
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            r
        }
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_content() {
        let u = url("office.css");
        assert!(
            u.starts_with("/static/") && u.ends_with("/office.css"),
            "{u}"
        );
        assert_eq!(u.split('/').nth(2).map(str::len), Some(16));
        assert_ne!(url("office.css"), url("office.js"));
        assert!(url("nope.js").contains("/missing/"));
    }
}
