//! Plain HTTP beside the rooms: the user's static files (`static_dir`), with
//! content types, caching and no way out of the directory; the development
//! page (`dev_page`), off unless asked for; the built client at
//! `/__stateroom/client.js`.

use stateroom_test_support as support;

use stateroom::{ClientId, MessageRecipient, Server, ServerError, StateroomContext};
use std::path::{Path, PathBuf};
use support::*;

#[derive(Default)]
struct Echo;

#[stateroom::service(no_main)]
impl Echo {
    fn message(&mut self, _client: ClientId, text: &str, ctx: &impl StateroomContext) {
        ctx.send_message(MessageRecipient::Broadcast, text);
    }
}

const SECRET: &str = "the secret outside the root";

/// `root/` with a page, a script, a subdirectory and escape hatches, next to
/// `outside/` with a secret.
fn site(name: &str) -> (PathBuf, PathBuf) {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("files-{name}"));
    let _ = std::fs::remove_dir_all(&base);
    let (root, outside) = (base.join("root"), base.join("outside"));
    for dir in [&root.join("sub"), &root.join("inner"), &outside] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(root.join("index.html"), "<h1>game</h1>").unwrap();
    std::fs::write(root.join("app.js"), "export const x = 1;").unwrap();
    std::fs::write(root.join("style.css"), "h1 { color: red }").unwrap();
    std::fs::write(root.join("inner/data.json"), "{}").unwrap();
    std::fs::write(root.join(".env"), SECRET).unwrap();
    std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
    std::fs::write(outside.join("index.html"), SECRET).unwrap();
    let link = |target: &Path, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
    link(&outside.join("secret.txt"), &root.join("escape.txt"));
    link(&outside, &root.join("link-out"));
    link(&outside.join("index.html"), &root.join("sub/index.html"));
    link(&root.join("inner/data.json"), &root.join("alias.json"));
    (root, outside)
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    extra: &str,
) -> (u16, String, String) {
    http_full(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n"),
    )
    .await
}

#[tokio::test]
async fn files_are_served_with_their_types_and_revalidation() {
    let (root, _) = site("served");
    let server = start::<Echo>(Server::new().static_dir(&root)).await;
    let addr = server.local_addr();
    for (path, content_type, body) in [
        ("/", "text/html", "<h1>game</h1>"),
        ("/index.html", "text/html", "<h1>game</h1>"),
        ("/app.js", "text/javascript", "export const x = 1;"),
        ("/style.css", "text/css", "h1 { color: red }"),
        ("/inner/data.json", "application/json", "{}"),
        // A symlink that stays inside the root is fine.
        ("/alias.json", "application/json", "{}"),
    ] {
        let (status, head, got) = request(addr, "GET", path, "").await;
        assert_eq!((status, got.as_str()), (200, body), "{path}");
        assert!(
            header(&head, "content-type").is_some_and(|t| t.starts_with(content_type)),
            "{path}: {head}"
        );
        assert_eq!(header(&head, "cache-control"), Some("no-cache"), "{path}");
        assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    }
    // Revalidation: unchanged since Last-Modified answers 304, no body.
    let (_, head, _) = request(addr, "GET", "/app.js", "").await;
    let modified = header(&head, "last-modified")
        .expect("Last-Modified")
        .to_owned();
    let (status, _, body) = request(
        addr,
        "GET",
        "/app.js",
        &format!("If-Modified-Since: {modified}\r\n"),
    )
    .await;
    assert_eq!((status, body.as_str()), (304, ""));
    // HEAD: the headers without the body.
    let (status, head, body) = request(addr, "HEAD", "/app.js", "").await;
    assert_eq!((status, body.as_str()), (200, ""));
    assert_eq!(header(&head, "content-length"), Some("19"));
    // Writing is not a thing files do.
    let (status, head, _) = request(addr, "POST", "/app.js", "Content-Length: 0\r\n").await;
    assert_eq!(status, 405);
    assert_eq!(header(&head, "allow"), Some("GET, HEAD"));
    // Missing files, and rooms and endpoints still answer as before.
    assert_eq!(get(addr, "/nope.js").await.0, 404);
    assert_eq!(health(addr).await["status"], "ok");
    let mut ws = join(addr, "beside-files").await;
    send_text(&mut ws, "hi").await;
    assert_eq!(next_text(&mut ws).await, "hi");
    drop(ws);
    server.shutdown().await;
}

#[tokio::test]
async fn nothing_outside_the_root_is_served() {
    let (root, _) = site("escape");
    let server = start::<Echo>(Server::new().static_dir(&root)).await;
    let addr = server.local_addr();
    for path in [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E%2Foutside%2Fsecret.txt",
        "/inner/..%2F..%2Foutside/secret.txt",
        "/inner/%2e%2e/%2e%2e/outside/secret.txt",
        "//etc/passwd",
        "/%2Fetc%2Fpasswd",
        "/..%5C..%5Coutside%5Csecret.txt",
        "/escape.txt",
        "/link-out/secret.txt",
        "/link-out/",
        "/sub/",
        "/sub/index.html",
        "/.env",
        "/%2eenv",
        "/app.js%00.png",
    ] {
        let (status, _, body) = request(addr, "GET", path, "").await;
        assert_eq!(status, 404, "{path} must not be served: {body}");
        assert!(!body.contains(SECRET), "{path} leaked the secret");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_missing_static_dir_stops_the_start_with_its_reason() {
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("files-not-there");
    let error = Server::new()
        .port(0)
        .static_dir(&missing)
        .start::<Echo>()
        .await
        .expect_err("a missing directory is an error");
    assert!(matches!(error, ServerError::StaticDir { .. }), "{error}");
    assert!(error.to_string().contains("files-not-there"), "{error}");
}

#[tokio::test]
async fn the_dev_page_is_off_unless_asked_for() {
    let server = start::<Echo>(Server::new()).await;
    let addr = server.local_addr();
    for path in [
        "/",
        "/__stateroom/dev/",
        "/__stateroom/dev/dev.js",
        "/__stateroom/dev/info.json",
    ] {
        assert_eq!(get(addr, path).await.0, 404, "{path} without dev_page");
    }
    // The client library is always there, for pages without a bundler.
    let (status, head, body) = request(addr, "GET", "/__stateroom/client.js", "").await;
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").is_some_and(|t| t.starts_with("text/javascript")));
    assert!(body.contains("export function connect("), "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn the_dev_page_serves_itself_and_the_types() {
    let types = "export type EchoIn = string;\n";
    let server = start::<Echo>(Server::new().dev_page(true).client_types(types)).await;
    let addr = server.local_addr();
    let (status, head, page) = request(addr, "GET", "/", "").await;
    assert_eq!(status, 200);
    assert!(header(&head, "content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(page.contains("/__stateroom/dev/dev.js"), "{page}");
    assert_eq!(get(addr, "/__stateroom/dev/").await.1, page);
    let (status, script) = get(addr, "/__stateroom/dev/dev.js").await;
    assert!(
        status == 200 && script.contains("new WebSocket("),
        "{script}"
    );
    let (status, info) = get(addr, "/__stateroom/dev/info.json").await;
    assert_eq!(status, 200);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["types"], types);
    assert_eq!(info["wsPrefix"], "/ws/");
    assert_eq!(get(addr, "/__stateroom/dev/nope").await.0, 404);
    let (status, head, _) = request(addr, "GET", "/__stateroom/dev", "").await;
    assert_eq!(status, 308);
    assert_eq!(header(&head, "location"), Some("/__stateroom/dev/"));
    server.shutdown().await;
}

#[tokio::test]
async fn with_static_files_the_dev_page_moves_aside() {
    let (root, _) = site("dev-and-files");
    let server = start::<Echo>(Server::new().dev_page(true).static_dir(&root)).await;
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").await.1, "<h1>game</h1>");
    let (status, page) = get(addr, "/__stateroom/dev/").await;
    assert!(status == 200 && page.contains("development page"), "{page}");
    server.shutdown().await;
}
