//! The database a test runs on: a SQLite file in the test's directory by default, or, when
//! `WHARF_TEST_POSTGRES` names a PostgreSQL server (`postgres://postgres@127.0.0.1:PORT`, as
//! `scripts/postgres.sh` starts one), a database of its own on that server. The same directory
//! always gives the same database, so a test that restarts Wharf on its data finds it again.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

/// The variable that switches the tests to PostgreSQL.
pub const POSTGRES_VAR: &str = "WHARF_TEST_POSTGRES";

/// Whether the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(POSTGRES_VAR).is_ok_and(|v| !v.is_empty())
}

/// The URL of the database for the test whose files live in `dir` (created when missing).
pub fn url(dir: &Path) -> String {
    let Some(server) = std::env::var(POSTGRES_VAR).ok().filter(|v| !v.is_empty()) else {
        return format!("sqlite://{}/wharf.db", dir.display());
    };
    let digest = Sha256::digest(dir.display().to_string().as_bytes());
    let name = format!("wharf_{}", hex::encode(&digest[..8]));
    let server = server.trim_end_matches('/');
    let exists = psql(
        server,
        &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
    );
    if exists.trim() != "1" {
        psql(server, &format!("CREATE DATABASE {name}"));
    }
    format!("{server}/{name}")
}

/// On PostgreSQL, makes the test's database unreachable (`cut`: no new connections, and every
/// open one ended, as when the database's host goes away) or reachable again.
pub fn cut_off(dir: &Path, cut: bool) {
    let Some(server) = std::env::var(POSTGRES_VAR).ok().filter(|v| !v.is_empty()) else {
        panic!("cut_off needs PostgreSQL ({POSTGRES_VAR})");
    };
    let server = server.trim_end_matches('/');
    let url = url(dir);
    let name = url.rsplit('/').next().unwrap_or_default();
    psql(
        server,
        &format!("ALTER DATABASE {name} ALLOW_CONNECTIONS {}", !cut),
    );
    if cut {
        psql(
            server,
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            ),
        );
    }
}

/// Runs one statement with Debian's `psql` against the server's `postgres` database.
fn psql(server: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(format!("{server}/postgres"))
        .args(["-c", sql])
        .output()
        .unwrap_or_else(|e| panic!("psql cannot start ({e}): install postgresql-client"));
    assert!(
        out.status.success(),
        "psql -c {sql:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything the test's database holds on disk, to search for what must never be stored in
/// the clear: the SQLite file and its write-ahead log, or a `pg_dump` of the test's database.
pub fn stored_bytes(dir: &Path) -> Vec<u8> {
    if !on_postgres() {
        let mut bytes = std::fs::read(dir.join("wharf.db")).unwrap_or_default();
        bytes.extend(std::fs::read(dir.join("wharf.db-wal")).unwrap_or_default());
        assert!(!bytes.is_empty(), "no database file in {}", dir.display());
        return bytes;
    }
    let out = Command::new("pg_dump")
        .args(["--no-owner", "--data-only", "-d"])
        .arg(url(dir))
        .output()
        .unwrap_or_else(|e| panic!("pg_dump cannot start ({e}): install postgresql-client"));
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
