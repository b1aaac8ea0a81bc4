//! Helpers shared by more than one end-to-end test file (each includes this as `mod common`).

/// Runs one statement on the SQLite test database behind the service's back: how a test makes
/// the database refuse a write (a trigger) to see the service fail closed.
pub fn execute(database_url: &str, sql: &str) {
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
