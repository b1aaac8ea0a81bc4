//! Issue 15 item 6, end to end: hostile images (an iCCP bomb, tiled finder patterns, a 16-bit
//! PNG and CMYK and progressive JPEGs near the pixel limit) sent to the real service and given
//! to the real CLI get a typed 4xx problem or refusal, and no process goes past 150 MiB.

use qrid_e2e::service::{http, Body, World};
use qrid_e2e::{parts, qrid};
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
        (
            "rgba16.png",
            hostile::png16_rgba(6000, 6000, white),
            "no_qr_found",
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

/// The service answers 422 problem+json with the image's kind of refusal, four uploads of each
/// at once, and its peak resident memory stays under 150 MiB (it was 1.1 GB for one iCCP bomb,
/// 3.4 GB for four).
#[test]
fn the_service_refuses_hostile_images_within_150_mib() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let url = format!("{}/v1/verify", s.url);
    for (name, bytes, kind) in hostile_images() {
        let path = w.path(name);
        std::fs::write(&path, &bytes).expect("write the image");
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
            r.problem(422, kind);
        }
    }
    let hwm = vm_hwm_kib(s.pid());
    assert!(hwm < LIMIT_KIB, "qrid serve peaked at {hwm} KiB");
    assert_eq!(s.stop(), 0);
}

/// `qrid verify --image` refuses each with the kind in its verdict line and an error exit, and
/// no CLI process this test ran peaked over 150 MiB (getrusage of the waited-for children).
#[test]
fn the_cli_refuses_hostile_images_within_150_mib() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let trust = dir.path().join("jwks.json");
    std::fs::copy(qrid_e2e::repo_root().join("keys-dev/jwks.json"), &trust)
        .expect("copy the development JWKS");
    for (name, bytes, kind) in hostile_images() {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write the image");
        let (code, out, err) = parts(&qrid(
            &[
                "verify",
                "--trust",
                &trust.to_string_lossy(),
                "--image",
                &path.to_string_lossy(),
            ],
            None,
        ));
        assert_ne!(code, 0, "{name}: {err}");
        assert!(
            out.contains(&format!("\"kind\":\"{kind}\"")),
            "{name}: {out} {err}"
        );
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole rusage into the buffer it is given.
        let usage = unsafe {
            assert_eq!(
                libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()),
                0
            );
            usage.assume_init()
        };
        let peak = usage.ru_maxrss as u64;
        assert!(
            peak < LIMIT_KIB,
            "{name}: a qrid process peaked at {peak} KiB"
        );
    }
}
