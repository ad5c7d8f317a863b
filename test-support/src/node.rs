//! Programs the tests start: whether they are installed, and the JavaScript
//! client's tests (`clients/js`, Node's own test runner) run from `cargo
//! test` against a server binary cargo built for the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `clients/js` in this repository.
pub fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|dir| dir.join("clients/js"))
        .find(|dir| dir.join("package.json").is_file())
        .expect("clients/js is in the repository")
}

/// Whether `program` is installed; if not, fails under CI (`.ci/run`
/// installs it) and skips elsewhere.
pub fn installed(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is not installed; .ci/run installs it"
        );
        eprintln!("skipped: {program} is not installed (.ci/run installs it)");
    }
    found
}

/// Installs the client's pinned dev dependencies (`npm ci`) unless they are.
pub fn npm_ci(dir: &Path) {
    // Tests of one binary run in parallel threads: install once.
    static ONCE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = ONCE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let ready = [
        "typescript",
        "playwright-core",
        "fast-json-patch",
        "yjs",
        "y-websocket",
        "esbuild",
    ]
    .iter()
    .all(|module| dir.join("node_modules").join(module).is_dir());
    if ready {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// Runs `node --test` on `files` in `clients/js` with `env`; fails the Rust
/// test with Node's report when a JavaScript test fails.
pub fn node_test(files: &[&str], env: &[(&str, &Path)]) {
    // Tests of one binary run in parallel threads, and each rebuilds dist/:
    // one at a time, so none reads a file another is writing.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = client_dir();
    npm_ci(&dir);
    // dist/ is built, not committed: build it from src/ first.
    let built = Command::new("node")
        .args(["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"])
        .current_dir(&dir)
        .status()
        .expect("node runs");
    assert!(built.success(), "tsc failed in {}", dir.display());
    let mut command = Command::new("node");
    command
        .args([
            "--experimental-websocket",
            "--test",
            "--test-concurrency=1",
            "--test-timeout=60000",
            "--test-reporter=spec",
        ])
        .args(files)
        .current_dir(&dir);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("node runs");
    let report = String::from_utf8_lossy(&output.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "JavaScript tests failed:\n{report}"
    );
}
