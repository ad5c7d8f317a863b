//! HAProxy (Debian's) in front of a cluster's nodes, with the config that
//! `docs/scale-out.md` prints, ports aside.

use crate::{Running, WAIT, free_port, wait_health};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::time::Instant;

/// The HAProxy config of docs/scale-out.md.
#[must_use]
pub fn documented() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/scale-out.md"))
        .expect("docs/scale-out.md");
    let start = doc.find("```haproxy\n").expect("a ```haproxy block") + "```haproxy\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    doc[start..end].to_owned()
}

/// Starts HAProxy with the documented config in front of the nodes on
/// `ports` (the config's three servers, in order), its files in `dir`;
/// returns it and its front address once it answers `/healthz`.
pub async fn start_documented(dir: &Path, ports: &[u16]) -> (Running, SocketAddr) {
    let front = free_port();
    let mut config = documented().replace("127.0.0.1:8080", &format!("127.0.0.1:{front}"));
    for (i, port) in ports.iter().enumerate() {
        config = config.replace(
            &format!("127.0.0.1:900{}", i + 1),
            &format!("127.0.0.1:{port}"),
        );
    }
    let config = format!(
        "global\n    pidfile {}/haproxy.pid\n{config}",
        dir.display()
    );
    std::fs::write(dir.join("haproxy.cfg"), &config).expect("the config is written");
    let haproxy = Running(
        Command::new("haproxy")
            .arg("-f")
            .arg(dir.join("haproxy.cfg"))
            .arg("-db")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts"),
    );
    let front: SocketAddr = ([127, 0, 0, 1], front).into();
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(front).await.is_err() {
        assert!(Instant::now() < deadline, "haproxy never listened");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    wait_health(front, |h| h["status"] == "ok").await;
    (haproxy, front)
}
