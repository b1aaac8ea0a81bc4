//! Helpers shared by more than one end-to-end test file (each includes this as `mod common`).

/// Makes the SQLite test database refuse every audit entry of `action` (a trigger), so a test
/// sees the service fail closed; [`allow_audit`] lifts it.
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
pub fn allow_audit(database_url: &str) {
    execute(database_url, "DROP TRIGGER refuse_audit");
}

/// Runs one statement on the SQLite test database behind the service's back.
fn execute(database_url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    });
}
