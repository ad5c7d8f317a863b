//! What an operator watches names what exists: every metric the Grafana
//! dashboard (`deploy/grafana/stateroom.json`) and the alert rules in
//! `docs/production.md` query is exported by a cluster node that has done
//! some work (a join forwarded to the owner, saves, Redis commands), and
//! every `stateroom_*` family a node exports is in the docs' metrics table.

mod common;

use common::*;
use std::collections::BTreeSet;
use support::redis::Redis;
use support::*;

/// Every metric name (`stateroom_…`, `process_…`) in `text`.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = text.as_bytes();
    for prefix in ["stateroom_", "process_"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix) {
            let start = from + at;
            let before = start.checked_sub(1).map(|i| bytes[i]);
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            // Not the tail of a longer identifier (`my_stateroom_x`).
            if !before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
                names.insert(text[start..end].to_owned());
            }
            from = end;
        }
    }
    names
}

/// The sample names of an exposition (`name{labels} value` lines).
fn exported(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .filter_map(|line| line.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// The families of an exposition (`# TYPE name kind`).
fn families(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.split(' ').next())
        .map(str::to_owned)
        .collect()
}

/// The fenced code block of `lang` in `markdown` after the `after` text.
fn block_after<'a>(markdown: &'a str, after: &str, lang: &str) -> &'a str {
    let from = markdown
        .find(after)
        .unwrap_or_else(|| panic!("no {after:?}"));
    let open = format!("```{lang}\n");
    let start = markdown[from..].find(&open).expect("a code block") + from + open.len();
    let end = markdown[start..].find("```").expect("its end") + start;
    &markdown[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_the_alert_rules_query_only_metrics_that_exist() {
    if !redis_here() {
        return;
    }
    let dir = scratch("observability");
    let redis = Redis::start(&dir).await;
    let owner = Node::start(&redis, "o1", free_port(), free_port(), &dir).await;
    let other = Node::start(&redis, "o2", free_port(), free_port(), &dir).await;
    let mut ws = enter(owner.addr(), "watched").await;
    add(&mut ws).await;
    // A join through the other node is forwarded to the owner.
    let mut forwarded = enter(other.addr(), "watched").await;
    assert_eq!(add(&mut forwarded).await, 2);
    drop(forwarded);
    let (status, metrics) = get(owner.addr(), "/metrics").await;
    assert_eq!(status, 200);
    let (_, theirs) = get(other.addr(), "/metrics").await;
    let mut samples = exported(&metrics);
    samples.extend(exported(&theirs));
    assert!(
        theirs.contains("stateroom_cluster_forwarded_joins_total{outcome=\"upgraded\"} 1"),
        "{theirs}"
    );
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(samples.contains(name), "{name} in {metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "stateroom_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("stateroom_redis_command_seconds_count{command=\"save\"}"),
        "{metrics}"
    );

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let dashboard = std::fs::read_to_string(format!("{root}/deploy/grafana/stateroom.json"))
        .expect("the dashboard");
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("valid JSON");
    let mut queries = String::new();
    collect_exprs(&parsed, &mut queries);
    let queried = names_in(&queries);
    assert!(queried.len() >= 25, "{queried:?}");
    let missing: Vec<_> = queried.difference(&samples).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries {missing:?}, which no node exports"
    );

    let production = std::fs::read_to_string(format!("{root}/docs/production.md")).unwrap();
    let rules = block_after(&production, "### Alert rules", "yaml");
    let alerted = names_in(rules);
    assert!(alerted.len() >= 10, "{alerted:?}");
    let missing: Vec<_> = alerted.difference(&samples).collect();
    assert!(
        missing.is_empty(),
        "the alert rules query {missing:?}, which no node exports"
    );

    let mut exported_families = families(&metrics);
    exported_families.extend(families(&theirs));
    let documented = names_in(&production);
    let undocumented: Vec<_> = exported_families
        .iter()
        .filter(|family| family.starts_with("stateroom_"))
        .filter(|family| {
            !documented.contains(*family) && !documented.contains(&format!("{family}_total"))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/production.md: {undocumented:?}"
    );
}

/// Appends every `expr` string under `value`.
fn collect_exprs(value: &serde_json::Value, into: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("expr", serde_json::Value::String(expr)) => {
                        into.push_str(expr);
                        into.push('\n');
                    }
                    _ => collect_exprs(value, into),
                }
            }
        }
        serde_json::Value::Array(values) => values.iter().for_each(|v| collect_exprs(v, into)),
        _ => {}
    }
}
