//! A `redis-server` of a test's own (Debian's), on a unix socket in a
//! scratch directory, never the system's 6379: started, restarted with the
//! same AOF, stopped, and asked with `redis-cli`.

use crate::{Running, WAIT};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// A redis-server of the test's own, on a unix socket in `dir`.
pub struct Redis {
    process: Option<Running>,
    dir: PathBuf,
    durability: Vec<String>,
}

impl Redis {
    /// Its unix socket.
    #[must_use]
    pub fn socket(&self) -> PathBuf {
        self.dir.join("redis.sock")
    }

    /// Its URL, as `--cluster` takes it.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket().display())
    }

    /// Starts (or restarts, with the same AOF) the server.
    pub async fn start(dir: &Path) -> Redis {
        Self::start_with(dir, &["--appendonly", "yes", "--appendfsync", "always"]).await
    }

    /// Starts one with these durability options.
    pub async fn start_with(dir: &Path, durability: &[&str]) -> Redis {
        let mut redis = Redis {
            process: None,
            dir: dir.to_owned(),
            durability: durability.iter().map(|s| (*s).to_owned()).collect(),
        };
        redis.restart().await;
        redis
    }

    /// Starts it again (after `stop`), with the same AOF.
    pub async fn restart(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(self.socket())
            .args(["--unixsocketperm", "700", "--save", ""])
            .args(&self.durability)
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.process = Some(Running(child));
        let deadline = Instant::now() + WAIT;
        while self.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it (SIGTERM: the AOF is complete).
    pub async fn stop(&mut self) {
        if let Some(process) = self.process.take() {
            assert!(process.terminate().await.success());
        }
    }

    /// Sends the server `signal` (`-STOP` hangs it: connections stay open
    /// and nothing answers; `-CONT` resumes it).
    pub fn signal(&self, signal: &str) {
        let pid = self.process.as_ref().expect("running").0.id().to_string();
        let sent = Command::new("kill").args([signal, &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill {signal} {pid}");
    }

    /// One redis-cli command's output, trimmed ("" if it failed).
    pub fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .arg("-s")
            .arg(self.socket())
            .args(args)
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

/// Whether the tests that need Redis can run here (Debian's `redis-server`
/// and `redis-cli`; under CI their absence fails the test).
#[must_use]
pub fn installed() -> bool {
    crate::node::installed("redis-server") && crate::node::installed("redis-cli")
}
