//! `wharf`: see `wharf --help`.

use clap::Parser;
use server::config::Config;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    server::telemetry::init(&config);
    let prepared = match server::prepare(&config).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("wharf: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        server::shutdown_signal().await;
        signal.cancel();
    });
    match prepared.serve(shutdown).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("wharf: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
