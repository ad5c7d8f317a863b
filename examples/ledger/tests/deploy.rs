//! The deployment recipes as printed: `deploy/Dockerfile` passes hadolint,
//! the Kubernetes manifest (`deploy/k8s/stateroom.yaml`) passes strict
//! schema validation (`kubernetes-validate`), every variable the manifest
//! sets is one the server reads, and the image's final stage, rebuilt as a
//! directory tree (its `ENV`, `WORKDIR`, `VOLUME` and `USER`; Docker does
//! not run here), runs the persisted ledger as that user and keeps its
//! rooms in the volume across a restart. `.ci/run` installs the two
//! linters (from PyPI) into `target/ci-tools`.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;
use tokio::time::Instant;

fn repo(path: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join(path)
}

/// A linter from `target/ci-tools` or the `PATH`; `None` (skipped; under CI
/// a failure) when neither has it.
fn linter(name: &str) -> Option<PathBuf> {
    let local = repo("target/ci-tools/bin").join(name);
    if local.exists() {
        return Some(local);
    }
    stateroom_test_support::node::installed(name).then(|| PathBuf::from(name))
}

#[test]
fn the_dockerfile_passes_hadolint() {
    let Some(hadolint) = linter("hadolint") else {
        return;
    };
    let out = Command::new(hadolint)
        .args(["--failure-threshold", "info"])
        .arg(repo("deploy/Dockerfile"))
        .output()
        .expect("hadolint runs");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_kubernetes_manifest_passes_strict_schema_validation() {
    let Some(validate) = linter("kubernetes-validate") else {
        return;
    };
    let out = Command::new(validate)
        .arg("--strict")
        .arg(repo("deploy/k8s/stateroom.yaml"))
        .output()
        .expect("kubernetes-validate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    for kind in [
        "statefulset/stateroom",
        "service/stateroom-nodes",
        "poddisruptionbudget",
    ] {
        assert!(text.contains(kind), "{kind} validated: {text}");
    }
}

#[test]
fn the_manifest_sets_only_variables_the_server_reads_and_probes_the_right_ports() {
    let manifest = std::fs::read_to_string(repo("deploy/k8s/stateroom.yaml")).unwrap();
    let help = Command::new(LEDGER).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let names: Vec<&str> = manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- name: STATEROOM_"))
        .collect();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let var = format!("STATEROOM_{name}");
        assert!(
            help.contains(&format!("[env: {var}")),
            "--help reads no {var}"
        );
    }
    // Readiness on the admin port, where /readyz is served once it is set.
    let readiness = manifest.split("readinessProbe:").nth(1).unwrap();
    assert!(readiness.contains("path: /readyz") && readiness.contains("port: admin"));
    assert!(manifest.contains("name: admin\n              containerPort: 9090"));
    let dockerfile = std::fs::read_to_string(repo("deploy/Dockerfile")).unwrap();
    assert!(dockerfile.contains("STATEROOM_ADMIN_PORT=9090"));
    // The pod's name is the node id (stable across restarts).
    assert!(manifest.contains("- name: STATEROOM_NODE_ID\n              value: \"$(POD_NAME)\""));
}

/// The final stage of a Dockerfile: its `ENV`s, `WORKDIR`, `VOLUME`s and
/// `USER`.
struct Stage {
    env: BTreeMap<String, String>,
    workdir: String,
    volumes: Vec<String>,
    user: (u32, u32),
}

fn final_stage(dockerfile: &str) -> Stage {
    // Join continued lines, then keep what follows the last FROM.
    let joined = dockerfile.replace("\\\n", " ");
    let lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect();
    let last_from = lines.iter().rposition(|l| l.starts_with("FROM ")).unwrap();
    let mut stage = Stage {
        env: BTreeMap::new(),
        workdir: "/".into(),
        volumes: Vec::new(),
        user: (0, 0),
    };
    for line in &lines[last_from..] {
        let (instruction, rest) = line.split_once(' ').unwrap_or((line, ""));
        match instruction {
            "ENV" => {
                for pair in rest.split_whitespace() {
                    let (key, value) = pair.split_once('=').expect("ENV key=value");
                    stage.env.insert(key.into(), value.into());
                }
            }
            "WORKDIR" => stage.workdir = rest.trim().into(),
            "VOLUME" => {
                let list: Vec<String> = serde_json::from_str(rest.trim()).expect("VOLUME [..]");
                stage.volumes.extend(list);
            }
            "USER" => {
                let (uid, gid) = rest.trim().split_once(':').expect("USER uid:gid");
                stage.user = (uid.parse().unwrap(), gid.parse().unwrap());
            }
            _ => {}
        }
    }
    stage
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_layout_runs_a_persisted_service_as_its_user_and_keeps_rooms_in_the_volume() {
    let dockerfile = std::fs::read_to_string(repo("deploy/Dockerfile")).unwrap();
    let stage = final_stage(&dockerfile);
    let (uid, gid) = stage.user;
    assert!(uid != 0 && gid != 0, "the image runs unprivileged");
    let data = stage
        .env
        .get("STATEROOM_DATA_DIR")
        .expect("a data directory")
        .clone();
    assert!(
        stage
            .volumes
            .iter()
            .any(|volume| data.starts_with(volume.as_str())),
        "the data directory {data} is in a volume {:?}",
        stage.volumes
    );
    assert!(stage.workdir.starts_with('/') && stage.workdir != "/");
    assert!(
        dockerfile.contains(&format!("chown -R {uid}:{gid} ")),
        "the image gives its user the volume"
    );

    // The tree: under /tmp (every user may traverse it), the binary where
    // the image puts it, the volume's directories owned by the image's user.
    let root = std::env::temp_dir().join(format!("stateroom-image-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let inside = |path: &str| root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(inside("/usr/local/bin")).unwrap();
    let server = inside("/usr/local/bin/server");
    std::fs::copy(LEDGER, &server).unwrap();
    std::fs::create_dir_all(inside(&data)).unwrap();
    std::fs::create_dir_all(inside(&stage.workdir)).unwrap();
    let as_root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if as_root {
        for volume in &stage.volumes {
            chown_tree(&inside(volume), uid, gid);
        }
    }
    let (port, admin) = (free_port(), free_port());
    let start = || {
        let mut command = Command::new(&server);
        command
            .env_clear()
            .current_dir(inside(&stage.workdir))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("server.log")).unwrap());
        for (key, value) in &stage.env {
            let value = match key.as_str() {
                "STATEROOM_PORT" => port.to_string(),
                "STATEROOM_ADMIN_PORT" => admin.to_string(),
                "STATEROOM_HOST" | "STATEROOM_ADMIN_HOST" => "127.0.0.1".into(),
                _ if value.starts_with('/') => inside(value).display().to_string(),
                _ => value.clone(),
            };
            command.env(key, value);
        }
        if as_root {
            use std::os::unix::process::CommandExt;
            command.uid(uid).gid(gid);
        }
        Running(command.spawn().expect("the image's server starts"))
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let server_process = start();
    wait_listening(addr, &root).await;
    let mut ws = enter(addr, "kept").await;
    for _ in 0..3 {
        add(&mut ws).await;
    }
    drop(ws);
    assert!(server_process.terminate().await.success());
    let stored: Vec<_> = std::fs::read_dir(inside(&data))
        .unwrap()
        .flatten()
        .collect();
    assert!(!stored.is_empty(), "the store is in the volume");
    if as_root {
        for entry in &stored {
            assert_eq!(entry.metadata().unwrap().uid(), uid, "{:?}", entry.path());
        }
    }
    let _again = start();
    wait_listening(addr, &root).await;
    let mut ws = enter(addr, "kept").await;
    assert_eq!(
        entries(&mut ws).await,
        3,
        "the room came back from the volume"
    );
    let _ = std::fs::remove_dir_all(&root);
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap().flatten() {
            chown_tree(&entry.path(), uid, gid);
        }
    }
}

async fn wait_listening(addr: std::net::SocketAddr, root: &Path) {
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        let log = std::fs::read_to_string(root.join("server.log")).unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "the server never listened: {log}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}
