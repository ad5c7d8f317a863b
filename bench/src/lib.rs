//! Benchmarks for Stateroom: the `stateroom-load` load generator, the servers
//! it is pointed at (ours, and a raw hyper-tungstenite floor), and the wire
//! formats they share. `bench/run.sh` runs them side by side with the Node
//! peers and writes `docs/benchmarks.md`.

pub mod colyseus;
pub mod load;
pub mod payload;
pub mod presence_storm;
pub mod procfs;
pub mod scrape;
pub mod servers;
pub mod sync_load;
pub mod wire;
pub mod yjs_load;

/// The `main` of a benchmark client whose report is JSON: runs `work` on a
/// multi-threaded runtime, prints the report, and writes it to `json` too.
pub fn report_main<R, F>(json: Option<std::path::PathBuf>, work: F) -> std::process::ExitCode
where
    R: serde::Serialize,
    F: std::future::Future<Output = Result<R, String>>,
{
    use std::process::ExitCode;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(report) => {
            let text = serde_json::to_string_pretty(&report).unwrap_or_default();
            println!("{text}");
            if let Some(path) = json
                && let Err(error) = std::fs::write(&path, text)
            {
                eprintln!("error: {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
