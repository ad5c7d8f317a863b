//! The process's own metrics, in the names every Prometheus client library
//! uses (`process_cpu_seconds_total`, `process_resident_memory_bytes`, …),
//! read from `/proc/self` at each scrape; on a system without `/proc`
//! there are none. And `stateroom_build_info`, the running version.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second of `/proc/self/stat`'s times (`USER_HZ`, 100 on
/// every Linux architecture Stateroom builds for).
const TICKS: f64 = 100.0;

/// The `process_*` collector.
#[derive(Debug, Default)]
pub(crate) struct Process;

/// What one scrape reads.
struct Sample {
    cpu_seconds: f64,
    resident_bytes: i64,
    virtual_bytes: i64,
    start_time_seconds: f64,
    threads: i64,
    open_fds: Option<i64>,
    max_fds: Option<i64>,
}

/// Parses `/proc/self/stat` (after the command name, which may hold
/// spaces) with the system's boot time (`/proc/stat`'s `btime`).
fn parse(stat: &str, boot_time: f64, page_size: i64) -> Option<Sample> {
    let rest = stat.rsplit_once(')')?.1;
    // Fields from the third (state) on: index 0 is field 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(Sample {
        cpu_seconds: (field(14)? + field(15)?) / TICKS,
        threads: field(20)? as i64,
        start_time_seconds: boot_time + field(22)? / TICKS,
        virtual_bytes: field(23)? as i64,
        resident_bytes: field(24)? as i64 * page_size,
        open_fds: None,
        max_fds: None,
    })
}

/// The soft "Max open files" of `/proc/self/limits`.
fn max_fds(limits: &str) -> Option<i64> {
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn sample() -> Option<Sample> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime ")?.trim().parse::<f64>().ok())?;
    let mut sample = parse(&stat, boot_time, 4096)?;
    // Exact whatever the page size: VmRSS is in kB.
    if let Some(kib) = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
            line["VmRSS:".len()..]
                .split_whitespace()
                .next()?
                .parse::<i64>()
                .ok()
        })
    {
        sample.resident_bytes = kib * 1024;
    }
    sample.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count() as i64);
    sample.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(max_fds);
    Some(sample)
}

fn emit(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: &impl EncodeMetric,
) -> Result<(), std::fmt::Error> {
    let metric_encoder = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
    metric.encode(metric_encoder)
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(sample) = sample() else {
            return Ok(());
        };
        emit(
            &mut encoder,
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds",
            &ConstCounter::new(sample.cpu_seconds),
        )?;
        emit(
            &mut encoder,
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            &ConstGauge::new(sample.resident_bytes),
        )?;
        emit(
            &mut encoder,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes",
            &ConstGauge::new(sample.virtual_bytes),
        )?;
        emit(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds",
            &ConstGauge::new(sample.start_time_seconds),
        )?;
        emit(
            &mut encoder,
            "process_threads",
            "Number of OS threads in the process",
            &ConstGauge::new(sample.threads),
        )?;
        if let Some(open) = sample.open_fds {
            emit(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors",
                &ConstGauge::new(open),
            )?;
        }
        if let Some(max) = sample.max_fds {
            emit(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                &ConstGauge::new(max),
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_stat_line_with_spaces_in_the_name_parses() {
        // pid (comm) state ppid … utime(14)=250 stime(15)=50 … threads(20)=7
        // … starttime(22)=1000 vsize(23)=8192000 rss(24)=300
        let stat = "42 (my rooms) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 1000 8192000 300 18446744073709551615";
        let sample = parse(stat, 1_700_000_000.0, 4096).unwrap();
        assert!((sample.cpu_seconds - 3.0).abs() < 1e-9);
        assert_eq!(sample.threads, 7);
        assert!((sample.start_time_seconds - 1_700_000_010.0).abs() < 1e-9);
        assert_eq!(sample.virtual_bytes, 8_192_000);
        assert_eq!(sample.resident_bytes, 300 * 4096);
        assert!(parse("garbage", 0.0, 4096).is_none());
    }

    #[test]
    fn the_soft_descriptor_limit_is_read() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            20000                20000                files\n";
        assert_eq!(max_fds(limits), Some(20_000));
    }
}
