//! Configuration: every setting is a flag and a `WHARF_*` environment variable.

use clap::{Parser, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The site a binary of this profile serves unless told otherwise.
pub const DEFAULT_SITE_ROOT: &str = if cfg!(debug_assertions) {
    "target/site-debug"
} else {
    "target/site-release"
};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object a line, for log collectors.
    Json,
}

/// What a process runs when several share one database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Role {
    /// Pages, API, webhook listeners, and the engine, the inbox's processor and callbacks.
    All,
    /// Pages, API and webhook listeners only: what it accepts, other processes run.
    Web,
    /// The engine, the inbox's processor and callbacks; HTTP serves only /healthz and /readyz.
    Worker,
}

/// Wharf's settings.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "wharf",
    version,
    about = "Wharf: continuous delivery from container registries to Kubernetes"
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "WHARF_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// The URL people and registries use to reach Wharf (used in links and webhook URLs).
    /// Defaults to http://<listen address>. Session cookies are marked Secure when it is https.
    #[arg(long, env = "WHARF_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Directory for the SQLite database and the key file.
    #[arg(long, env = "WHARF_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL: sqlite://FILE (default: <data dir>/wharf.db) or postgres://USER:PASSWORD@HOST/DB.
    #[arg(long, env = "WHARF_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Most database connections kept open.
    #[arg(long, env = "WHARF_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,

    /// The key file that signs session cookies and seals stored secrets (created with mode 0600
    /// when missing; default: <data dir>/wharf.key). Keep it out of database backups.
    #[arg(long, env = "WHARF_KEY_FILE")]
    pub key_file: Option<PathBuf>,

    /// Where the built front end (wasm, js, css) lives: by default the site built with the
    /// same profile as this binary (`target/site-release` or `target/site-debug`).
    #[arg(long, env = "WHARF_SITE_ROOT", default_value = DEFAULT_SITE_ROOT)]
    pub site_root: String,

    /// Log format.
    #[arg(long, env = "WHARF_LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,

    /// Log filter, in tracing's EnvFilter syntax (for example `info,backend=debug`).
    #[arg(long, env = "WHARF_LOG", default_value = "info")]
    pub log: String,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "WHARF_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,

    /// Hours of inactivity after which a session ends.
    #[arg(long, env = "WHARF_SESSION_IDLE_HOURS", default_value_t = 12)]
    pub session_idle_hours: i64,

    /// How many pipeline tasks groups run at once (the engine's worker pool).
    #[arg(long, env = "WHARF_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// Seconds a worker's claim on an execution lasts without a heartbeat; after a crash,
    /// another worker (or a restarted Wharf) takes the execution over after this long.
    #[arg(long, env = "WHARF_LEASE_SECONDS", default_value_t = 30)]
    pub lease_seconds: u64,

    /// Docker Hub's API base URL (webhook sync and Docker Hub endpoint validation).
    #[arg(
        long,
        env = "WHARF_DOCKER_HUB_API",
        default_value = "https://hub.docker.com"
    )]
    pub docker_hub_api: String,

    /// Hosts Docker Hub callbacks may be sent to (comma-separated; https only).
    #[arg(
        long,
        env = "WHARF_CALLBACK_HOSTS",
        value_delimiter = ',',
        default_value = "registry.hub.docker.com,hub.docker.com"
    )]
    pub callback_hosts: Vec<String>,

    /// Outbound connections (tasks, Validate, certificates, Docker Hub, callbacks) may go to
    /// loopback addresses (127.0.0.0/8, ::1).
    #[arg(long, env = "WHARF_OUTBOUND_ALLOW_LOOPBACK", default_value_t = true, action = clap::ArgAction::Set)]
    pub outbound_allow_loopback: bool,

    /// Outbound connections may go to private addresses (10/8, 172.16/12, 192.168/16,
    /// 100.64/10, fc00::/7).
    #[arg(long, env = "WHARF_OUTBOUND_ALLOW_PRIVATE", default_value_t = true, action = clap::ArgAction::Set)]
    pub outbound_allow_private: bool,

    /// Outbound connections may go to link-local addresses (169.254.0.0/16, fe80::/10), where
    /// cloud metadata services answer.
    #[arg(long, env = "WHARF_OUTBOUND_ALLOW_LINK_LOCAL", default_value_t = false, action = clap::ArgAction::Set)]
    pub outbound_allow_link_local: bool,

    /// What this process runs: all (default), web (pages, API, listeners) or worker (engine,
    /// inbox processing, callbacks). Several processes on one PostgreSQL database may run any
    /// mix, as long as some run the worker part.
    #[arg(long, env = "WHARF_ROLE", value_enum, default_value = "all")]
    pub role: Role,

    /// A PEM file of certificate authorities trusted for Docker Hub callbacks besides the
    /// public ones (a registry behind a private CA).
    #[arg(long, env = "WHARF_CALLBACK_CA_FILE")]
    pub callback_ca_file: Option<PathBuf>,

    /// E-mail address of the first administrator, created at start when there are no users
    /// (unattended installs). Needs WHARF_ADMIN_PASSWORD.
    #[arg(long, env = "WHARF_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// Password of that administrator. Prefer the environment variable to the flag, which
    /// other users of the machine can see in the process list.
    #[arg(long, env = "WHARF_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Name shown for that administrator.
    #[arg(long, env = "WHARF_ADMIN_NAME", default_value = "Administrator")]
    pub admin_name: String,
}

impl Config {
    /// The public URL without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("wharf.db").display()))
    }

    /// The key file in force.
    pub fn key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("wharf.key"))
    }

    /// Checks what clap cannot.
    pub fn validate(&self) -> Result<(), String> {
        let url = self.public_url();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "WHARF_PUBLIC_URL must start with http:// or https://, not {url:?}"
            ));
        }
        if self.admin_email.is_some() != self.admin_password.is_some() {
            return Err(
                "WHARF_ADMIN_EMAIL and WHARF_ADMIN_PASSWORD go together: set both or neither"
                    .to_owned(),
            );
        }
        if self.session_idle_hours < 1 {
            return Err("WHARF_SESSION_IDLE_HOURS must be at least 1".to_owned());
        }
        Ok(())
    }

    /// A configuration for tests: loopback on an ephemeral port, everything under `dir`.
    pub fn for_tests(dir: &std::path::Path) -> Self {
        let mut c = Config::parse_from(["wharf"]);
        c.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        c.data_dir = dir.to_path_buf();
        c.database_url = None;
        c.key_file = None;
        c.admin_email = None;
        c.admin_password = None;
        c.public_url = None;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_put_everything_under_the_data_directory() {
        let c = Config::parse_from(["wharf"]);
        assert_eq!(c.database_url(), "sqlite://data/wharf.db");
        assert_eq!(c.key_file(), PathBuf::from("data/wharf.key"));
        assert_eq!(c.public_url(), "http://127.0.0.1:3000");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn flags_override_and_bad_values_are_refused() {
        let c = Config::parse_from([
            "wharf",
            "--public-url",
            "https://wharf.example/",
            "--log-format",
            "json",
        ]);
        assert_eq!(c.public_url(), "https://wharf.example");
        assert_eq!(c.log_format, LogFormat::Json);
        let c = Config::parse_from(["wharf", "--public-url", "wharf.example"]);
        assert!(c.validate().is_err());
        let c = Config::parse_from(["wharf", "--admin-email", "a@b.c"]);
        assert!(c.validate().is_err());
        assert!(Config::try_parse_from(["wharf", "--log-format", "xml"]).is_err());
    }
}
