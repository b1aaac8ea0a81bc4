//! Helpers shared by more than one end-to-end test file (each includes this as `mod common`).

/// Makes the SQLite test database refuse every audit entry of `action` (a trigger), so a test
/// sees the service fail closed; [`allow_audit`] lifts it.
#[allow(dead_code)] // Shared by the test files that include this module; not all use it.
pub fn refuse_audit(database_url: &str, action: &str) {
    execute(
        database_url,
        &format!(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'audit refused'); END"
        ),
    );
}

/// Lifts [`refuse_audit`].
#[allow(dead_code)] // As above.
pub fn allow_audit(database_url: &str) {
    execute(database_url, "DROP TRIGGER refuse_audit");
}

/// Runs one statement on the test database (SQLite or PostgreSQL) behind the service's back.
pub fn execute(database_url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        if database_url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        } else {
            let mut c = sqlx::PgConnection::connect(database_url).await.unwrap();
            sqlx::query(sql).execute(&mut c).await.unwrap();
            c.close().await.unwrap();
        }
    });
}

/// The office over HTTP as a browser speaks it: cookies kept, redirects not followed.
#[allow(dead_code)] // Not every test file that shares this module signs in to the office.
pub mod office {
    use qrid_e2e::service::{Service, PASSWORD};
    use reqwest::blocking::{Client, Response};
    use reqwest::redirect::Policy;
    use serde_json::{json, Value};

    /// A browser: cookies kept, redirects not followed (the tests look at each 303).
    pub fn browser() -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("an HTTP client")
    }

    /// The value of the first `<input name=NAME value=…>` of a page.
    pub fn input_value(html: &str, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name} in the page:\n{html}"));
        let rest = &html[at + marker.len()..];
        rest[..rest.find('"').expect("a closing quote")].to_owned()
    }

    /// Status and body text.
    pub fn text(r: Response) -> (u16, String) {
        let status = r.status().as_u16();
        (status, r.text().expect("a body"))
    }

    /// Signs in through the form (password [`PASSWORD`]); returns the session's anti-forgery
    /// token (read off the home page's sign-out form).
    pub fn sign_in(b: &Client, s: &Service, user: &str) -> String {
        let (status, page) = text(
            b.get(format!("{}/office/sign-in", s.url))
                .send()
                .expect("GET"),
        );
        assert_eq!(status, 200, "{page}");
        let pre = input_value(&page, "pre");
        let r = b
            .post(format!("{}/office/sign-in", s.url))
            .form(&[
                ("username", user),
                ("password", PASSWORD),
                ("pre", &pre),
                ("next", "/office/"),
            ])
            .send()
            .expect("POST sign-in");
        assert_eq!(
            r.status().as_u16(),
            303,
            "sign-in of {user}: {:?}",
            r.text()
        );
        let (status, home) = text(b.get(format!("{}/office/", s.url)).send().expect("GET"));
        assert_eq!(status, 200, "{home}");
        input_value(&home, "csrf")
    }

    /// One of the counter page's calls (`check` or `face`) with a scanned text.
    pub fn counter(b: &Client, s: &Service, csrf: &str, path: &str, text: &str) -> Response {
        b.post(format!("{}/office/counter/{path}", s.url))
            .header("x-csrf-token", csrf)
            .json(&json!({ "text": text }))
            .send()
            .expect("POST counter")
    }

    /// The counter's verdict on a scanned text (200, never cached).
    pub fn check(b: &Client, s: &Service, csrf: &str, text: &str) -> Value {
        let r = counter(b, s, csrf, "check", text);
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store, max-age=0")
        );
        r.json().expect("a JSON verdict")
    }
}
