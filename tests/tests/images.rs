//! Issue 15 item 6, end to end: hostile images (an iCCP bomb, tiled finder patterns, a 16-bit
//! PNG and CMYK and progressive JPEGs near the pixel limit) sent to the real service and given
//! to the real CLI get a typed 4xx problem or refusal, and no process goes past 150 MiB.

use qrid_e2e::service::{http, Body, World};

use qrid_qr::hostile;
use qrid_store::Backend;

const LIMIT_KIB: u64 = 150 * 1024;

/// Each hostile image with the kind of refusal it must get.
fn hostile_images() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let white = |_: u32, _: u32| 255u8;
    vec![
        (
            "iccp-bomb.png",
            hostile::iccp_bomb(600, 600, white, 1 << 30),
            "no_qr_found",
        ),
        (
            "tiled-finders.png",
            hostile::tiled_finders(1600, 2),
            "image_too_complex",
        ),
        // 36 million pixels with nothing to find: the detector spends its work limit before it
        // can say "no QR", and that limit is what keeps the answer within bounds.
        (
            "rgba16.png",
            hostile::png16_rgba(6000, 6000, white),
            "image_too_complex",
        ),
        (
            "cmyk.jpg",
            hostile::cmyk_jpeg(6000, 6000, false, white),
            "image_too_large",
        ),
        (
            "progressive.jpg",
            hostile::ycbcr_jpeg(7000, 5500, true, white),
            "image_too_large",
        ),
    ]
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("a VmHWM line")
}

/// The service answers 422 problem+json with the image's kind of refusal, and its peak
/// resident memory stays under 150 MiB while it reads each (it was 1.1 GB for one iCCP bomb).
/// Then four uploads of each at once still get their typed refusal, never a 5xx, and the peak
/// stays under 150 MiB too (with mimalloc's defaults it was 257 MiB: freed memory kept for a
/// second; `serve` sets shorter, see crates/cli/src/main.rs).
#[test]
fn the_service_refuses_hostile_images_within_150_mib() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let url = format!("{}/v1/verify", s.url);
    let images = hostile_images();
    for (name, bytes, kind) in &images {
        let path = w.path(name);
        std::fs::write(&path, bytes).expect("write the image");
        let r = http("POST", &url, w.client(), Body::Image(path));
        assert_eq!(
            r.json()["type"],
            format!("urn:qrid:problem:{kind}"),
            "{name}"
        );
        r.problem(422, kind);
    }
    let hwm = vm_hwm_kib(s.pid());
    assert!(hwm < LIMIT_KIB, "qrid serve peaked at {hwm} KiB");
    for (name, _, kind) in &images {
        let path = w.path(name);
        let answers: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| http("POST", &url, w.client(), Body::Image(path.clone()))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a request"))
                .collect()
        });
        for r in answers {
            assert_eq!(
                r.json()["type"],
                format!("urn:qrid:problem:{kind}"),
                "{name}, four at once"
            );
        }
    }
    let hwm = vm_hwm_kib(s.pid());
    eprintln!("qrid serve peaked at {hwm} KiB with four uploads at once");
    assert!(
        hwm < LIMIT_KIB,
        "qrid serve peaked at {hwm} KiB with four uploads at once"
    );
    assert_eq!(s.stop(), 0);
}

/// Runs `qrid ARGS` under GNU time and returns (exit code, stdout, stderr, the qrid process's
/// peak resident memory in KiB). Not getrusage or wait4 from this process: Linux carries the
/// parent's high-water mark into a child through fork and exec, and this process holds the
/// hostile images themselves; GNU time's child is forked from a small process.
fn measured(args: &[&str]) -> (i32, String, String, u64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("maxrss");
    let out = std::process::Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(qrid_e2e::qrid_bin())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("GNU time (Debian's time package) runs qrid");
    let peak = std::fs::read_to_string(&report)
        .expect("GNU time's report")
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a peak in KiB");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        peak,
    )
}

/// `qrid verify --image` refuses each with the kind in its verdict line and an error exit, and
/// no CLI process peaked over 150 MiB (each one's own rusage).
#[test]
fn the_cli_refuses_hostile_images_within_150_mib() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trust = dir.path().join("jwks.json");
    std::fs::copy(qrid_e2e::repo_root().join("keys-dev/jwks.json"), &trust)
        .expect("copy the development JWKS");
    for (name, bytes, kind) in hostile_images() {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write the image");
        let (code, out, err, peak) = measured(&[
            "verify",
            "--trust",
            &trust.to_string_lossy(),
            "--image",
            &path.to_string_lossy(),
        ]);
        assert_ne!(code, 0, "{name}: {err}");
        assert!(
            out.contains(&format!("\"kind\":\"{kind}\"")),
            "{name}: {out} {err}"
        );
        assert!(
            peak < LIMIT_KIB,
            "{name}: a qrid process peaked at {peak} KiB"
        );
    }
}
