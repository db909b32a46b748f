//! `wharf`: see `wharf --help`.

use clap::Parser;
use server::config::Config;
use tokio_util::sync::CancellationToken;

fn main() -> std::process::ExitCode {
    let config = Config::parse();
    limit_malloc_arenas();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wharf: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

/// glibc gives each thread that allocates its own malloc arena, up to eight per core, and
/// keeps what each arena once held: with the runtime's workers, the blocking pool and one
/// thread per SQLite connection, that was 2 MiB of an idle server's 31 MiB. Four arenas: the
/// two runtime workers and the inbox's writer thread, the threads that allocate under a
/// flood of deliveries, then each find one free. With two, the writer shared a worker's
/// arena and every allocation of either waited on the other's lock (perf: 6 % of a durable
/// delivery's samples waking a thread blocked on it): 6-14 % fewer deliveries a second on
/// an unoptimised-link build, up to 4 % on the release build. An idle server's heap is the
/// same with four. Set before any thread starts.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; no other thread exists yet
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

async fn run(config: Config) -> std::process::ExitCode {
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
