//! Independent judges of signed PDFs for the tests: pyHanko (tests/interop/pades_validate.py),
//! poppler's `pdfsig`, and the stamp read off the last page as a printer would show it
//! (`pdftoppm -r 300`, then zbarimg).

use crate::service::{http, Auth, Body};
use crate::{repo_root, zbar_read, zbarimg};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// GETs `url` (200 expected) into the file `to`.
pub fn fetch(url: &str, to: &Path) {
    let r = http("GET", url, Auth::None, Body::None);
    assert_eq!(r.status, 200, "{url}");
    std::fs::write(to, &r.body).expect("write the fetched file");
}

/// pyHanko's verdict on `pdf` with `ca` as the trust root and `crl`: exit code and JSON.
pub fn pyhanko(pdf: &Path, ca: &Path, crl: &Path) -> (i32, Value) {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/interop/pades_validate.py"))
        .arg(pdf)
        .arg("--ca")
        .arg(ca)
        .arg("--crl")
        .arg(crl)
        .output()
        .expect("python3 runs");
    let code = out.status.code().unwrap_or(-1);
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "pyHanko printed no JSON: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, v)
}

/// poppler's `pdfsig` report on `pdf` (standard output and error).
pub fn pdfsig(pdf: &Path) -> String {
    let out = Command::new("pdfsig")
        .arg(pdf)
        .output()
        .expect("pdfsig (poppler-utils) runs");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The QR code on the last page of `pdf`, rendered at 300 dpi by pdftoppm into `png_stem`.png
/// and read by zbarimg.
pub fn stamp_on_last_page(pdf: &Path, png_stem: &Path) -> String {
    let info = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils) runs");
    let info = String::from_utf8_lossy(&info.stdout);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .unwrap_or_else(|| panic!("pdfinfo gives no page count: {info}"))
        .to_string();
    let out = Command::new("pdftoppm")
        .args([
            "-r",
            "300",
            "-png",
            "-singlefile",
            "-f",
            &pages,
            "-l",
            &pages,
        ])
        .arg(pdf)
        .arg(png_stem)
        .output()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = png_stem.with_extension("png");
    zbar_read(&zbarimg(), &png).trim().to_owned()
}
