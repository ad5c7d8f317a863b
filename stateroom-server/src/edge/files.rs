//! Pages and files served over plain HTTP: the development page (`--dev`)
//! and a directory of the user's own files (`--static-dir`). Both answer only
//! paths that no room or endpoint uses; everything else stays a `404`.

use crate::edge::Edge;
use crate::edge::answer::{HttpResponse, ResponseBody, not_found, refuse, respond};
use hyper::header::{self, HeaderValue};
use hyper::{HeaderMap, Method, Request, StatusCode, Uri};
use std::path::{Path, PathBuf};
use tower_http::services::ServeDir;

/// Where the development page lives (it is also at `/` without a static
/// directory).
pub(crate) const DEV_PREFIX: &str = "/__stateroom/dev/";

const DEV_HTML: &str = include_str!("../../assets/dev/index.html");
const DEV_JS: &str = include_str!("../../assets/dev/dev.js");
const DEV_CSS: &str = include_str!("../../assets/dev/dev.css");

/// Where the built `@stateroom/client` is served, for pages without a
/// bundler: `import { connect } from "/__stateroom/client.js"`.
pub(crate) const CLIENT_JS_PATH: &str = "/__stateroom/client.js";
const CLIENT_JS: &str = include_str!("../../assets/client.js");
/// The client's state sync, which `client.js` imports (`./sync.js`).
const SYNC_JS_PATH: &str = "/__stateroom/sync.js";
const SYNC_JS: &str = include_str!("../../assets/sync.js");
/// The client's directory, lobby and matchmaking, which `client.js` imports.
const DIRECTORY_JS_PATH: &str = "/__stateroom/directory.js";
const DIRECTORY_JS: &str = include_str!("../../assets/directory.js");

/// A directory served as it is, resolved once at startup.
#[derive(Debug, Clone)]
pub(crate) struct StaticDir {
    /// Canonical: every file served must resolve under it.
    root: PathBuf,
}

impl StaticDir {
    /// Checks that `dir` is a readable directory.
    pub(crate) fn open(dir: &Path) -> std::io::Result<StaticDir> {
        let root = dir.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(StaticDir { root })
    }

    /// The file `path` (a request path) names, if it is inside the root
    /// once every symlink is followed. `None` for `..`, a hidden name
    /// (`.env`, `.git`; `.well-known` is allowed), a backslash or a NUL,
    /// before or after percent-decoding.
    fn contains(&self, path: &str) -> bool {
        let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
            return false;
        };
        let mut file = self.root.clone();
        for segment in decoded.split('/') {
            match segment {
                "" | "." => {}
                ".well-known" => file.push(segment),
                _ if segment.starts_with('.')
                    || segment.contains(['\\', '\0'])
                    || Path::new(segment).is_absolute() =>
                {
                    return false;
                }
                _ => file.push(segment),
            }
        }
        // A directory is served through its index.html: check that too.
        let index = file.join("index.html");
        let inside = |file: &Path| match file.canonicalize() {
            Ok(real) => real.starts_with(&self.root),
            // Missing: ServeDir answers 404 itself.
            Err(_) => true,
        };
        inside(&file) && (!file.is_dir() || inside(&index))
    }
}

/// Answers a request that no room or endpoint took.
pub(crate) async fn answer(
    edge: &Edge,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> HttpResponse {
    let config = &edge.engine.config;
    let path = uri.path();
    let client = match path {
        CLIENT_JS_PATH => Some(CLIENT_JS),
        SYNC_JS_PATH => Some(SYNC_JS),
        DIRECTORY_JS_PATH => Some(DIRECTORY_JS),
        _ => None,
    };
    if let Some(body) = client
        && (method == Method::GET || method == Method::HEAD)
    {
        let mut response = respond(StatusCode::OK, "text/javascript; charset=utf-8", body);
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return response;
    }
    if config.dev_page {
        let dev_path = path
            .strip_prefix(DEV_PREFIX)
            .or_else(|| (path == "/" && edge.static_dir.is_none()).then_some(""));
        if let Some(asset) = dev_path {
            return dev_asset(edge, method, asset);
        }
        if path == DEV_PREFIX.trim_end_matches('/') {
            let mut response = respond(StatusCode::PERMANENT_REDIRECT, "text/plain", "");
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static(DEV_PREFIX));
            return response;
        }
    }
    match &edge.static_dir {
        Some(dir) => static_file(dir, method, uri, headers).await,
        None => not_found(),
    }
}

fn dev_asset(edge: &Edge, method: &Method, asset: &str) -> HttpResponse {
    if method != Method::GET && method != Method::HEAD {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let mut response = match asset {
        "" | "index.html" => respond(StatusCode::OK, "text/html; charset=utf-8", DEV_HTML),
        "dev.js" => respond(StatusCode::OK, "text/javascript; charset=utf-8", DEV_JS),
        "dev.css" => respond(StatusCode::OK, "text/css; charset=utf-8", DEV_CSS),
        "info.json" => {
            let info = serde_json::json!({
                "wsPrefix": edge.engine.config.ws_prefix,
                "types": edge.engine.config.client_types.as_deref(),
            });
            respond(StatusCode::OK, "application/json", info.to_string())
        }
        _ => return not_found(),
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn static_file(
    dir: &StaticDir,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> HttpResponse {
    if method != Method::GET && method != Method::HEAD {
        let mut response = refuse(StatusCode::METHOD_NOT_ALLOWED, "files are read with GET");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    if !dir.contains(uri.path()) {
        return not_found();
    }
    // ServeDir does the rest: content types, ranges, conditional requests,
    // index.html, streaming from disk.
    let mut forwarded = Request::new(());
    *forwarded.method_mut() = method.clone();
    *forwarded.uri_mut() = uri.clone();
    *forwarded.headers_mut() = headers.clone();
    let answer = ServeDir::new(&dir.root).try_call(forwarded).await;
    let mut response = match answer {
        Ok(response) if response.status() == StatusCode::NOT_FOUND => return not_found(),
        Ok(response) => response.map(ResponseBody::file),
        Err(error) => {
            tracing::warn!(%error, path = uri.path(), "static file failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the file could not be read",
            );
        }
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn containment_refuses_escapes_and_hidden_names() {
        let root = std::env::temp_dir().join(format!("stateroom-files-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/a.js"), "a").unwrap();
        let dir = StaticDir::open(&root).unwrap();
        assert!(dir.contains("/sub/a.js"));
        assert!(dir.contains("/missing.js"));
        for bad in [
            "/../x",
            "/sub/../../x",
            "/%2e%2e/x",
            "/%2E%2E%2Fx",
            "/.env",
            "/sub/%2e%65nv",
            "/a%5cb",
            "/a%00b",
        ] {
            assert!(!dir.contains(bad), "{bad}");
        }
        assert!(dir.contains("/.well-known/x"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
