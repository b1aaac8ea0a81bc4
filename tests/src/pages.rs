//! What every browser test's screens get: a Chromium of a given viewport (with a fake
//! camera), axe-core run in each screen (no serious or critical violation), and a screenshot
//! into `$QRID_SCREENSHOTS` when that names a directory.

use crate::repo_root;
use crate::webdriver::{Driver, Session};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One axe-core violation: the rule, its impact, and the elements (CSS selectors).
pub struct Violation {
    /// The rule.
    pub id: String,
    /// `minor`, `moderate`, `serious` or `critical`.
    pub impact: String,
    /// What the rule asks.
    pub help: String,
    /// The elements (CSS selectors).
    pub targets: Vec<String>,
}

/// The accessibility and screenshot checks of every screen, and what they found.
pub struct Screens {
    /// Which run (the backend), in what is printed.
    label: String,
    axe: String,
    /// Whether axe-core was seen to find a planted violation (once a run).
    proved: bool,
    /// Where screenshots go (`$QRID_SCREENSHOTS`), if anywhere.
    pub shots: Option<PathBuf>,
    /// Each screen's violations, in the order seen.
    found: Vec<(String, Vec<Violation>)>,
}

impl Screens {
    /// A checker whose output names the run `label`.
    pub fn new(label: &str) -> Screens {
        let path = repo_root().join("crates/web/node_modules/axe-core/axe.min.js");
        let axe = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core is not installed ({}: {e}): run `npm ci` in crates/web \
                 (it installs the version pinned in crates/web/package-lock.json; .ci/run does)",
                path.display()
            )
        });
        let shots = std::env::var_os("QRID_SCREENSHOTS")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir)
                .unwrap_or_else(|e| panic!("QRID_SCREENSHOTS={}: {e}", dir.display()));
        }
        Screens {
            label: label.to_owned(),
            axe,
            proved: false,
            shots,
            found: Vec::new(),
        }
    }

    /// Runs axe-core in the page `b` shows and records its violations as `screen`'s; saves a
    /// screenshot as `file` when screenshots are asked for.
    pub fn check(&mut self, b: &Session, screen: &str, file: &str) {
        self.inject(b, screen);
        if !self.proved {
            // That a clean result means something: axe-core, run like this, reports an image
            // without a text alternative planted in the page (then removed).
            let planted = b.execute(
                "const i = document.createElement('img'); i.id = 'axe-canary'; i.src = 'data:,';                  document.body.appendChild(i); return true;",
                &[],
            );
            assert_eq!(planted, json!(true));
            let found = self.run(b, screen, json!({ "include": [["#axe-canary"]] }));
            b.execute("document.getElementById('axe-canary').remove();", &[]);
            assert!(
                found
                    .iter()
                    .any(|v| v.id == "image-alt" && v.impact == "critical"),
                "axe-core did not report the planted image without alt: {}",
                describe(&found)
            );
            self.proved = true;
        }
        let violations = self.run(b, screen, json!("document"));
        eprintln!(
            "[{}] axe {screen}: {}",
            self.label,
            if violations.is_empty() {
                "no violation".to_owned()
            } else {
                describe(&violations)
            }
        );
        self.found.push((screen.to_owned(), violations));
        self.shot(b, file);
    }

    /// Loads axe-core into the page unless it is there.
    fn inject(&self, b: &Session, screen: &str) {
        // Injected by WebDriver, which the page's CSP does not govern (the page itself may
        // run no inline script); the check that it loaded is the check that this works.
        let version = b.execute(
            &format!(
                "if (typeof window.axe === 'undefined') {{\n{}\n}}\n\
                 return typeof window.axe === 'object' ? window.axe.version : null;",
                self.axe
            ),
            &[],
        );
        assert!(
            version.is_string(),
            "axe-core did not load in the {screen} page: {version}"
        );
    }

    /// axe-core's violations in `context` (`"document"`, or an include/exclude object).
    fn run(&self, b: &Session, screen: &str, context: Value) -> Vec<Violation> {
        let v = b.execute_async(
            "const done = arguments[arguments.length - 1];\n\
             const context = arguments[0] === 'document' ? document : arguments[0];\n\
             window.axe.run(context, { resultTypes: ['violations'] })\n\
               .then(r => done({ ok: r.violations.map(v => ({ id: v.id, impact: v.impact || '', \
                 help: v.help, targets: v.nodes.map(n => n.target.join(' ')) })) }))\n\
               .catch(e => done({ error: String(e) }));",
            &[context],
        );
        let list = v["ok"]
            .as_array()
            .unwrap_or_else(|| panic!("axe.run failed in the {screen} page: {v}"));
        list.iter()
            .map(|x| Violation {
                id: x["id"].as_str().unwrap_or_default().to_owned(),
                impact: x["impact"].as_str().unwrap_or_default().to_owned(),
                help: x["help"].as_str().unwrap_or_default().to_owned(),
                targets: x["targets"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .map(|s| s.as_str().unwrap_or_default().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// A screenshot of the page as `file` in `$QRID_SCREENSHOTS`, if set.
    pub fn shot(&self, b: &Session, file: &str) {
        if let Some(dir) = &self.shots {
            let path = dir.join(file);
            std::fs::write(&path, b.screenshot())
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }

    /// Fails, listing them, if any screen had a serious or critical violation.
    pub fn assert_no_serious(&self) {
        let bad: Vec<String> = self
            .found
            .iter()
            .filter_map(|(screen, vs)| {
                let serious: Vec<&Violation> = vs
                    .iter()
                    .filter(|v| matches!(v.impact.as_str(), "serious" | "critical"))
                    .collect();
                (!serious.is_empty()).then(|| {
                    format!(
                        "{screen}: {}",
                        serious
                            .iter()
                            .map(|v| format!(
                                "{} ({}: {}) at {:?}",
                                v.id, v.impact, v.help, v.targets
                            ))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )
                })
            })
            .collect();
        assert!(
            bad.is_empty(),
            "axe-core found serious or critical violations:\n{}",
            bad.join("\n")
        );
    }
}

fn describe(vs: &[Violation]) -> String {
    vs.iter()
        .map(|v| format!("{} [{}] at {:?}", v.id, v.impact, v.targets))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A Chromium whose page is `viewport` (width, height) in CSS pixels, with a fake camera
/// playing `video` if given, and `script` as the bound of its scripts.
pub fn browser<'a>(
    driver: &'a Driver,
    chromium: &Path,
    profile: &Path,
    video: Option<&Path>,
    viewport: (u32, u32),
    script: Duration,
) -> Session<'a> {
    // In the en-US locale, whatever the machine's: the date field's typing order depends on it.
    let mut args = vec![
        format!("--window-size={},{}", viewport.0, viewport.1),
        "--lang=en-US".to_owned(),
    ];
    if let Some(v) = video {
        args.extend([
            "--use-fake-device-for-media-stream".to_owned(),
            "--use-fake-ui-for-media-stream".to_owned(),
            format!("--use-file-for-fake-video-capture={}", v.display()),
        ]);
    }
    let b = Session::new(driver, chromium, profile, &args);
    b.set_script_timeout(script);
    // The window's frame takes some of its height: grow it until the page itself (what a
    // screenshot shows) is the viewport's size.
    let inner = |b: &Session| {
        let v = b.execute("return [window.innerWidth, window.innerHeight];", &[]);
        (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0))
    };
    let (w, h) = inner(&b);
    let (vw, vh) = viewport;
    if (w, h) != (u64::from(vw), u64::from(vh)) {
        let rect = b.call("GET", "/window/rect", None);
        let grow = |outer: &Value, inner: u64, want: u32| {
            let outer = outer.as_u64().unwrap_or(0);
            u32::try_from(outer.saturating_sub(inner)).unwrap_or(0) + want
        };
        b.set_window_size(grow(&rect["width"], w, vw), grow(&rect["height"], h, vh));
        assert_eq!(
            inner(&b),
            (u64::from(vw), u64::from(vh)),
            "the page's viewport is not {vw}×{vh}"
        );
    }
    b
}
