//! The proxy configs in `docs/production.md`, started for real (nginx,
//! HAProxy and Caddy from Debian's packages, installed by `.ci/run`) in front
//! of a server: a WebSocket client talks through each, and the server sees
//! the client's address in `X-Forwarded-For`. Each config is read from the
//! document itself, with only its ports swapped, so the document cannot rot.
//!
//! Where a proxy is not installed, its test says so and passes, except under
//! CI (`CI` set), where a missing proxy fails it.

use stateroom_test_support as support;
use stateroom_test_support::gate;
use stateroom_test_support::node;

use gate::{Gate, enter, say};
use node::installed;
use stateroom::Server;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::*;

/// The first ```` ```tag ```` block of `docs/production.md`.
fn documented(tag: &str) -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/production.md"
    ))
    .expect("docs/production.md");
    let start = doc
        .find(&format!("```{tag}\n"))
        .unwrap_or_else(|| panic!("no ```{tag} block in docs/production.md"))
        + tag.len()
        + 4;
    let end = start + doc[start..].find("```").expect("the block ends");
    doc[start..end].to_owned()
}

/// A scratch directory under `target/`, fresh for each test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("proxy-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A proxy process, stopped when dropped.
struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Through the proxy at `proxy`: a client joins, is seen as coming through a
/// proxy, and chats with a second client.
async fn talk_through(proxy: SocketAddr, server: SocketAddr) {
    // Wait for the proxy to listen and to see the server as up.
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(proxy).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the proxy never listened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        // With the Host a browser sends (Caddy routes by it).
        let probe = format!("GET /ws/probe HTTP/1.1\r\nHost: {proxy}\r\nConnection: close\r\n\r\n");
        let (status, _) = http(proxy, &probe).await;
        // 426: the request reached Stateroom (a plain GET on a room).
        if status == 426 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "proxy never forwarded (last status {status})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let room = format!("proxied{}", proxy.port());
    // From 127.0.0.2 (the proxy reaches the server from 127.0.0.1, the one
    // trusted proxy), with a forged X-Forwarded-For in front.
    let mut ada = gate::open_from(
        proxy,
        &format!("{room}?token=ada-token"),
        &[("x-forwarded-for", "6.6.6.6")],
        Some([127, 0, 0, 2].into()),
    )
    .await
    .expect("a socket through the proxy");
    let hello = next_json(&mut ada).await;
    assert_eq!(hello["name"], "ada");
    // (HAProxy adds its own X-Forwarded-For line after the forged one;
    // nginx appends to it; Caddy replaces it: each ends in 127.0.0.2.)
    assert_eq!(
        hello["client_ip"], "127.0.0.2",
        "client_ip is the right-most untrusted address, not the forged one: {hello}"
    );
    let (mut bob, _) = enter(server, &room, "bob-token").await;
    send_text(&mut bob, &say("through the proxy?").to_string()).await;
    assert_eq!(next_json(&mut ada).await["text"], "through the proxy?");
    send_text(&mut ada, &say("yes").to_string()).await;
    assert_eq!(next_json(&mut bob).await["text"], "through the proxy?");
    assert_eq!(next_json(&mut bob).await["text"], "yes");
    // A refused join's status comes through too.
    assert_eq!(
        gate::open(proxy, &room, &[]).await.err().map(|e| e.0),
        Some(401)
    );
}

async fn start_server() -> (stateroom::ServerHandle, SocketAddr) {
    let server = start::<Gate>(Server::new().trusted_proxies(["127.0.0.1".parse().unwrap()])).await;
    let addr = server.local_addr();
    (server, addr)
}

#[tokio::test]
async fn nginx_as_documented() {
    if !installed("nginx") {
        return;
    }
    let (_server, addr) = start_server().await;
    let port = free_port();
    let dir = scratch("nginx");
    let snippet = documented("nginx")
        .replace("127.0.0.1:8080", &addr.to_string())
        .replace("listen 80;", &format!("listen 127.0.0.1:{port};"));
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{}}\nhttp {{\naccess_log off;\nclient_body_temp_path {d}/body;\n\
         proxy_temp_path {d}/proxy;\nfastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\n\
         scgi_temp_path {d}/scgi;\n{snippet}\n}}\n"
    );
    // One process (no master), so that the kill on drop leaves no orphaned
    // worker behind.
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c"])
        .arg(dir.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("nginx starts");
    let _proxy = Proxy(child);
    talk_through(([127, 0, 0, 1], port).into(), addr).await;
}

#[tokio::test]
async fn haproxy_as_documented() {
    if !installed("haproxy") {
        return;
    }
    // With the admin listener, as the systemd unit runs it: the health
    // check reads /readyz there (`check port 9090`).
    let server = start::<Gate>(
        Server::new()
            .admin_port(0)
            .trusted_proxies(["127.0.0.1".parse().unwrap()]),
    )
    .await;
    let addr = server.local_addr();
    let admin = server.admin_addr().expect("an admin listener").port();
    let port = free_port();
    let dir = scratch("haproxy");
    // As printed, ports aside (maxconn included: it starts under this
    // machine's 20,000-descriptor limit).
    let conf = documented("haproxy")
        .replace("127.0.0.1:8080", &addr.to_string())
        .replace("port 9090", &format!("port {admin}"))
        .replace("bind :80", &format!("bind 127.0.0.1:{port}"));
    std::fs::write(dir.join("haproxy.cfg"), conf).unwrap();
    let child = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(dir.join("haproxy.cfg"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("haproxy starts");
    let _proxy = Proxy(child);
    let front: SocketAddr = ([127, 0, 0, 1], port).into();
    talk_through(front, addr).await;
    // HAProxy starts a server as up: past `inter × fall` (4 s) the checks
    // have had their say, and a check on the wrong port would have taken
    // the server down (503).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let probe = format!("GET /ws/probe HTTP/1.1\r\nHost: {front}\r\nConnection: close\r\n\r\n");
    assert_eq!(
        http(front, &probe).await.0,
        426,
        "the health check took the server down"
    );
    drop(server);
}

#[tokio::test]
async fn caddy_as_documented() {
    if !installed("caddy") {
        return;
    }
    let (_server, addr) = start_server().await;
    let port = free_port();
    let dir = scratch("caddy");
    // Plain HTTP on a local port instead of a certificate for the domain.
    let site = documented("caddyfile")
        .replace("127.0.0.1:8080", &addr.to_string())
        .replace("game.example.com", &format!("http://127.0.0.1:{port}"));
    let conf = format!("{{\n    admin off\n}}\n\n{site}");
    std::fs::write(dir.join("Caddyfile"), conf).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .env("XDG_DATA_HOME", &dir)
        .env("XDG_CONFIG_HOME", &dir)
        .env("HOME", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("caddy starts");
    let _proxy = Proxy(child);
    talk_through(([127, 0, 0, 1], port).into(), addr).await;
}
