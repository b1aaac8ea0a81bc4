//! Fresh, throw-away databases for tests: every test gets its own SQLite file or PostgreSQL
//! database and drops it afterwards, so no test depends on what another left behind.

use crate::{Backend, Store, StoreError};
use sqlx::Connection;

/// Where tests find PostgreSQL: `QRID_TEST_POSTGRES_URL`, else the local server on
/// 127.0.0.1:5432 (user postgres, database test). There is no silent skip: if the server is
/// not there, PostgreSQL tests fail.
pub fn postgres_admin_url() -> String {
    std::env::var("QRID_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A database that exists for one test.
pub struct TestDatabase {
    /// URL to connect to it.
    pub url: String,
    backend: Backend,
    name: String,
    _dir: Option<std::path::PathBuf>,
}

fn unique_name() -> String {
    let mut b = [0u8; 6];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    format!("qrid_test_{}", hex::encode(b))
}

impl TestDatabase {
    /// Creates an empty database.
    pub async fn create(backend: Backend) -> Result<TestDatabase, StoreError> {
        let name = unique_name();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).map_err(|e| StoreError::Rejected(e.to_string()))?;
                let url = format!("sqlite:{}", dir.join("qrid.db").display());
                Ok(TestDatabase {
                    url,
                    backend,
                    name,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.map_err(|e| {
                    StoreError::Rejected(format!(
                        "PostgreSQL is required for this test and is not reachable at {admin}: {e}"
                    ))
                })?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                let base = admin
                    .rsplit_once('/')
                    .map_or(admin.as_str(), |(b, _)| b)
                    .to_owned();
                Ok(TestDatabase {
                    url: format!("{base}/{name}"),
                    backend,
                    name,
                    _dir: None,
                })
            }
        }
    }

    /// Connects a store to it (and migrates).
    pub async fn store(&self) -> Result<Store, StoreError> {
        Store::connect(&self.url).await
    }

    /// Removes it.
    pub async fn drop_database(self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                if let Some(dir) = &self._dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Ok(())
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(&postgres_admin_url()).await?;
                sqlx::query(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut conn)
                .await?;
                Ok(())
            }
        }
    }
}
