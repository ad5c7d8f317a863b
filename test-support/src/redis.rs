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
    /// Its TCP port on 127.0.0.1, if it has one (0: none).
    port: u16,
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
            port: 0,
        };
        redis.restart().await;
        redis
    }

    /// Starts one (AOF `always`) that also listens on 127.0.0.1:`port`,
    /// with `more` options (`--replicaof 127.0.0.1 PORT` for a replica).
    pub async fn start_tcp(dir: &Path, port: u16, more: &[&str]) -> Redis {
        std::fs::create_dir_all(dir).expect("the Redis directory");
        let mut options = vec!["--appendonly", "yes", "--appendfsync", "always"];
        options.extend_from_slice(more);
        let mut redis = Redis {
            process: None,
            dir: dir.to_owned(),
            durability: options.iter().map(|s| (*s).to_owned()).collect(),
            port,
        };
        redis.restart().await;
        redis
    }

    /// A handle on a server started elsewhere (by Sentinel's choice, a
    /// replica promoted), on 127.0.0.1:`port`, for `cli` only.
    #[must_use]
    pub fn attach_tcp(port: u16) -> Redis {
        Redis {
            process: None,
            dir: PathBuf::new(),
            durability: Vec::new(),
            port,
        }
    }

    /// Its TCP port (0 when it has none).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills it (`kill -9`): what it had not written to its AOF is lost.
    pub fn kill9(&mut self) {
        // `Running`'s drop sends SIGKILL and reaps it.
        drop(self.process.take());
    }

    /// Starts it again (after `stop`), with the same AOF.
    pub async fn restart(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--unixsocket")
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
        let mut cli = Command::new("redis-cli");
        if self.port == 0 {
            cli.arg("-s").arg(self.socket());
        } else {
            cli.args(["-p", &self.port.to_string()]);
        }
        cli.args(args)
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

/// A `redis-sentinel` of the test's own on 127.0.0.1:`port`, watching
/// master `rooms` (quorum 2, down after 1 s, failover timeout 3 s).
pub struct Sentinel {
    _process: Running,
    port: u16,
}

impl Sentinel {
    /// The master's name the sentinels watch.
    pub const MASTER: &'static str = "rooms";

    /// Starts one in `dir` watching the primary on `primary_port`.
    pub async fn start(dir: &Path, port: u16, primary_port: u16) -> Sentinel {
        std::fs::create_dir_all(dir).expect("the sentinel's directory");
        let config = dir.join("sentinel.conf");
        let master = Self::MASTER;
        std::fs::write(
            &config,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\n\
                 sentinel monitor {master} 127.0.0.1 {primary_port} 2\n\
                 sentinel down-after-milliseconds {master} 1000\n\
                 sentinel failover-timeout {master} 3000\n\
                 sentinel parallel-syncs {master} 1\n",
                dir.display()
            ),
        )
        .expect("the sentinel's config");
        let child = Command::new("redis-sentinel")
            .arg(&config)
            .stdout(std::fs::File::create(dir.join("sentinel.log")).expect("a log"))
            .spawn()
            .expect("redis-sentinel starts");
        let sentinel = Sentinel {
            _process: Running(child),
            port,
        };
        let deadline = Instant::now() + WAIT;
        while sentinel.primary().is_none() {
            assert!(Instant::now() < deadline, "redis-sentinel never answered");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sentinel
    }

    /// Its port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The primary's port, as this sentinel names it now.
    #[must_use]
    pub fn primary(&self) -> Option<u16> {
        let out = Command::new("redis-cli")
            .args([
                "-p",
                &self.port.to_string(),
                "SENTINEL",
                "get-master-addr-by-name",
            ])
            .arg(Self::MASTER)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().nth(1)?.trim().parse().ok()
    }

    /// How many replicas this sentinel knows for the master.
    #[must_use]
    pub fn replicas(&self) -> usize {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "SENTINEL", "replicas"])
            .arg(Self::MASTER)
            .output()
            .map(|out| {
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter(|line| line.trim() == "name")
                    .count()
            })
            .unwrap_or(0)
    }
}

/// Whether Debian's `redis-sentinel` is here.
#[must_use]
pub fn sentinel_installed() -> bool {
    installed() && crate::node::installed("redis-sentinel")
}

/// Whether the tests that need Redis can run here (Debian's `redis-server`
/// and `redis-cli`; under CI their absence fails the test).
#[must_use]
pub fn installed() -> bool {
    crate::node::installed("redis-server") && crate::node::installed("redis-cli")
}
