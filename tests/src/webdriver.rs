//! A small W3C WebDriver client for the browser tests: chromedriver on a free port, Chromium
//! sessions with the flags that work on this machine, and the few commands the tests use
//! (navigate, find, click, type, read, run a script, screenshot, print to PDF), spoken over
//! HTTP with a few lines of JSON.
//!
//! Both programs come from Debian (`chromium`, `chromium-driver`), which `.ci/run` installs;
//! without them a test fails and says so. Every process started here ends when its handle is
//! dropped, also when a test fails: a [`Session`] closes its browser, and a [`Driver`] ends
//! chromedriver and every process it started (its process group).

use base64::Engine;
use reqwest::blocking::Client as HttpClient;
use serde_json::{json, Value};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The key under which WebDriver names an element (W3C WebDriver, "web element identifier").
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The Chromium flags every session gets: headless, no sandbox (tests may run as root), and
/// nothing that reaches out to the network or writes outside the session's profile.
pub const BASE_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

// ----- the programs -----

/// A program on PATH, or a failure that says which Debian package to install.
pub fn required(program: &str, package: &str) -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| {
            panic!(
                "`{program}` is not installed and this test needs it. Install it with \
                 `apt-get install {package}` (Debian's {package}; .ci/run does)"
            )
        })
}

/// The browser (Debian's `chromium`).
pub fn chromium() -> PathBuf {
    required("chromium", "chromium")
}

/// Its WebDriver (Debian's `chromium-driver`).
pub fn chromedriver() -> PathBuf {
    required("chromedriver", "chromium-driver")
}

/// Calls `probe` until it returns `Some`, at most for `bound` (a bound only a hang exceeds,
/// not a measure of speed); then fails, naming `what` was awaited.
pub fn wait_until<T>(what: &str, bound: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            start.elapsed() < bound,
            "waited {} s for {what}, in vain",
            bound.as_secs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ----- chromedriver -----

/// A running chromedriver, ended when dropped (with every browser it started).
pub struct Driver {
    child: Child,
    base: String,
    http: HttpClient,
}

/// A WebDriver error answer: the HTTP status and the `value` (`error`, `message`).
#[derive(Debug, Clone)]
pub struct WebDriverError {
    /// The HTTP status.
    pub status: u16,
    /// The answer's `value`.
    pub value: Value,
}

impl WebDriverError {
    /// The W3C error code (`no such element`, `stale element reference`, …).
    pub fn code(&self) -> &str {
        self.value["error"].as_str().unwrap_or_default()
    }
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it says which. It runs in a process
    /// group of its own, so that dropping the driver ends the browsers it started too.
    pub fn start(chromedriver: &Path) -> Driver {
        let mut child = Command::new(chromedriver)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let mut stdout = child.stdout.take().expect("chromedriver stdout");
        let said = Arc::new(Mutex::new(String::new()));
        let sink = said.clone();
        // Read for the process's whole life: its output may not end in a newline, and a full
        // pipe would stall it.
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            let text = said.lock().map(|s| s.clone()).unwrap_or_default();
            let marker = "started successfully on port ";
            if let Some(i) = text.find(marker) {
                let digits: String = text[i + marker.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(p) = digits.parse::<u16>() {
                    if text[i + marker.len() + digits.len()..].starts_with('.') {
                        break p;
                    }
                }
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromedriver did not start in 20 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: HttpClient::builder()
                .timeout(Duration::from_secs(90))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// One WebDriver command: its `value`, or the driver's error answer.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .body(body.unwrap_or_else(|| json!({})).to_string()),
        };
        let r = req
            .send()
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text}"));
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(WebDriverError {
                status,
                value: v["value"].clone(),
            })
        }
    }

    /// One WebDriver command; returns its `value`, or panics with the driver's error.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {} {}", e.status, e.value))
    }

    /// Ends chromedriver and the browsers it started (what dropping it does).
    pub fn stop(self) {
        drop(self);
    }

    /// Ends chromedriver and every process of its group (the browsers it started), now.
    fn end(&mut self) {
        let group = format!("-{}", self.child.id());
        // The browsers first, gently (they may still be closing), then everything left.
        for signal in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
            if signal == "-TERM" {
                std::thread::sleep(Duration::from_millis(300));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.end();
    }
}

// ----- a browser -----

/// A browser session (one Chromium), closed when dropped.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl<'a> Session<'a> {
    /// Starts a Chromium with [`BASE_ARGS`], the profile directory `profile` (a fresh one per
    /// session), and `extra` flags (a window size, a fake camera…). Its browser log (the
    /// console) is kept for [`Session::browser_log`].
    pub fn new(
        driver: &'a Driver,
        chromium: &Path,
        profile: &Path,
        extra: &[String],
    ) -> Session<'a> {
        let mut args: Vec<String> = BASE_ARGS.iter().map(|a| (*a).to_owned()).collect();
        args.extend(extra.iter().cloned());
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium.to_string_lossy(),
                        "args": args,
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "timeouts": {"pageLoad": 30_000, "script": 10_000},
                }
            }
        });
        let v = driver.call("POST", "/session", Some(caps));
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_owned();
        Session { driver, id }
    }

    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    /// A command of this session; panics with the driver's error.
    pub fn call(&self, method: &str, rest: &str, body: Option<Value>) -> Value {
        self.driver.call(method, &self.path(rest), body)
    }

    /// A command of this session: its value or the driver's error.
    pub fn try_call(
        &self,
        method: &str,
        rest: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        self.driver.try_call(method, &self.path(rest), body)
    }

    /// Sets the script timeout (for [`Session::execute_async`]).
    pub fn set_script_timeout(&self, bound: Duration) {
        let ms = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
        self.call("POST", "/timeouts", Some(json!({ "script": ms })));
    }

    /// Sets the window's outer size.
    pub fn set_window_size(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// Opens `url` and waits for the page to load.
    pub fn navigate(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// The address of the page shown.
    pub fn current_url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's markup as it is now.
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's title.
    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The first element matching the CSS selector, if there is one.
    pub fn try_find(&self, css: &str) -> Option<Element<'_, 'a>> {
        match self.try_call(
            "POST",
            "/element",
            Some(json!({ "using": "css selector", "value": css })),
        ) {
            Ok(v) => Some(self.element(&v)),
            Err(e) if e.code() == "no such element" => None,
            Err(e) => panic!("find {css:?}: {} {}", e.status, e.value),
        }
    }

    /// The first element matching the CSS selector; panics if there is none.
    pub fn find(&self, css: &str) -> Element<'_, 'a> {
        self.try_find(css).unwrap_or_else(|| {
            panic!(
                "no element {css:?} in {} ({:?})",
                self.current_url(),
                self.title()
            )
        })
    }

    /// Every element matching the CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_, 'a>> {
        let v = self.call(
            "POST",
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        );
        v.as_array()
            .map(|a| a.iter().map(|e| self.element(e)).collect())
            .unwrap_or_default()
    }

    /// Waits until an element matches the CSS selector and returns it.
    pub fn wait_for(&self, css: &str, bound: Duration) -> Element<'_, 'a> {
        wait_until(&format!("an element {css:?}"), bound, || self.try_find(css))
    }

    /// Waits until an element matching the CSS selector is displayed and returns it.
    pub fn wait_displayed(&self, css: &str, bound: Duration) -> Element<'_, 'a> {
        wait_until(&format!("{css:?} to be displayed"), bound, || {
            self.try_find(css).filter(Element::is_displayed)
        })
    }

    /// Waits until the page's address satisfies `ok`; returns it. A failure names the page
    /// shown instead, with its text.
    pub fn wait_url(&self, what: &str, bound: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let url = self.current_url();
            if ok(&url) {
                return url;
            }
            if start.elapsed() >= bound {
                let text = self.try_find("body").map(|b| b.text()).unwrap_or_default();
                panic!(
                    "waited {} s for {what}, in vain: the browser shows {url}\n{text}",
                    bound.as_secs()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn element(&self, v: &Value) -> Element<'_, 'a> {
        let id = v[ELEMENT_KEY]
            .as_str()
            .unwrap_or_else(|| panic!("not an element: {v}"))
            .to_owned();
        Element { session: self, id }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs `script` (a function body whose last argument is the callback to call with the
    /// result) and returns what it passed to the callback.
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Value {
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", "/screenshot", None);
        let b64 = v.as_str().unwrap_or_else(|| panic!("no screenshot: {v}"));
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("the screenshot is base64")
    }

    /// The page printed to PDF (W3C "Print Page"); `options` as the command takes them
    /// (`page`: `width`/`height` in cm, `margin`, `background`, `shrinkToFit`, …).
    pub fn print_pdf(&self, options: Value) -> Vec<u8> {
        let v = self.call("POST", "/print", Some(options));
        let b64 = v.as_str().unwrap_or_else(|| panic!("no PDF: {v}"));
        let pdf = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("the PDF is base64");
        assert!(pdf.starts_with(b"%PDF-"), "the print is not a PDF");
        pdf
    }

    /// The browser's log (the console, failed loads, CSP reports) since the last call: each
    /// entry's `level` and `message`. Chromedriver's own extension of the protocol.
    pub fn browser_log(&self) -> Vec<(String, String)> {
        let v = self.call("POST", "/se/log", Some(json!({ "type": "browser" })));
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["level"].as_str().unwrap_or_default().to_owned(),
                            e["message"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .http
            .delete(format!("{}/session/{}", self.driver.base, self.id))
            .send();
    }
}

// ----- an element -----

/// An element of a session's page.
pub struct Element<'s, 'a> {
    session: &'s Session<'a>,
    id: String,
}

impl Element<'_, '_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Its reference as a script argument.
    pub fn arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    /// A PNG of the element alone (W3C "Take Element Screenshot"): what a camera held close to
    /// it sees.
    pub fn screenshot(&self) -> Vec<u8> {
        let v = self.session.call("GET", &self.path("/screenshot"), None);
        let b64 = v
            .as_str()
            .unwrap_or_else(|| panic!("no element screenshot: {v}"));
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .expect("the screenshot is base64")
    }

    /// Clicks it (scrolled into view first).
    pub fn click(&self) {
        self.session
            .call("POST", &self.path("/click"), Some(json!({})));
    }

    /// Types `text` into it (for a file input: the file's path).
    pub fn send_keys(&self, text: &str) {
        self.session
            .call("POST", &self.path("/value"), Some(json!({ "text": text })));
    }

    /// Empties an input or a text area.
    pub fn clear(&self) {
        self.session
            .call("POST", &self.path("/clear"), Some(json!({})));
    }

    /// Its rendered text.
    pub fn text(&self) -> String {
        self.session
            .call("GET", &self.path("/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An attribute's value, if it has it.
    pub fn attribute(&self, name: &str) -> Option<String> {
        self.session
            .call("GET", &self.path(&format!("/attribute/{name}")), None)
            .as_str()
            .map(str::to_owned)
    }

    /// A DOM property's value (`value`, `naturalWidth`, `checked`…).
    pub fn property(&self, name: &str) -> Value {
        self.session
            .call("GET", &self.path(&format!("/property/{name}")), None)
    }

    /// Whether it is shown (WebDriver's "element displayedness"); false once it has left
    /// the page.
    pub fn is_displayed(&self) -> bool {
        match self.session.try_call("GET", &self.path("/displayed"), None) {
            Ok(v) => v.as_bool().unwrap_or(false),
            Err(e) if e.code() == "stale element reference" => false,
            Err(e) => panic!("displayed: {} {}", e.status, e.value),
        }
    }
}
