//! Counters from a Stateroom server's `/metrics`, read around a run to show
//! the mechanism behind its figures (how many frames each socket write
//! carried, and each wake-up of a client's writer). Other servers have no
//! such endpoint: their reading is `None`.

use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The counters a run reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// `stateroom_messages_out_total`: frames queued for clients.
    pub frames_out: f64,
    /// `stateroom_socket_writes_total`: write calls to clients' sockets.
    pub socket_writes: f64,
    /// `stateroom_writer_wakeups_total`: frames that woke a client's
    /// writer (`None` from a build without the counter).
    pub writer_wakeups: Option<f64>,
    /// `stateroom_messages_in_total`: messages from clients.
    pub messages_in: Option<f64>,
    /// `stateroom_connection_turns_total`: of those, the ones handled in
    /// their connection's task (`None` from a build without the counter).
    pub connection_turns: Option<f64>,
}

/// Reads `target`'s `/metrics` (one plain HTTP/1.1 GET, bounded by a
/// second); `None` if it does not answer 200 with both counters.
pub async fn counters(target: &str) -> Option<Counters> {
    let read = async {
        let mut tcp = tokio::net::TcpStream::connect(target).await.ok()?;
        let request =
            format!("GET /metrics HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut response = Vec::new();
        tcp.read_to_end(&mut response).await.ok()?;
        parse(&String::from_utf8_lossy(&response))
    };
    tokio::time::timeout(Duration::from_secs(1), read)
        .await
        .ok()
        .flatten()
}

/// The counters in an HTTP response carrying Prometheus text.
fn parse(response: &str) -> Option<Counters> {
    if !response.starts_with("HTTP/1.1 200") {
        return None;
    }
    let value = |name: &str| {
        response.lines().find_map(|line| {
            let (metric, value) = line.split_once(' ')?;
            (metric == name).then(|| value.trim().parse::<f64>().ok())?
        })
    };
    Some(Counters {
        frames_out: value("stateroom_messages_out_total")?,
        socket_writes: value("stateroom_socket_writes_total")?,
        writer_wakeups: value("stateroom_writer_wakeups_total"),
        messages_in: value("stateroom_messages_in_total"),
        connection_turns: value("stateroom_connection_turns_total"),
    })
}

/// Frames per write between two readings, if any write happened.
#[must_use]
pub fn frames_per_write(before: Counters, after: Counters) -> Option<f64> {
    let writes = after.socket_writes - before.socket_writes;
    (writes > 0.0).then(|| (after.frames_out - before.frames_out) / writes)
}

/// The share of messages from clients handled in their connection's task
/// (their room idle on the same shard) between two readings, if any came.
#[must_use]
pub fn connection_turn_share(before: Counters, after: Counters) -> Option<f64> {
    let messages = after.messages_in? - before.messages_in?;
    let turns = after.connection_turns? - before.connection_turns?;
    (messages > 0.0).then(|| turns / messages)
}

/// Frames per wake-up of a client's writer between two readings, if any
/// wake-up happened.
#[must_use]
pub fn frames_per_wakeup(before: Counters, after: Counters) -> Option<f64> {
    let wakeups = after.writer_wakeups? - before.writer_wakeups?;
    (wakeups > 0.0).then(|| (after.frames_out - before.frames_out) / wakeups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_counters_and_divides_their_growth() {
        let text = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n\
                    # HELP stateroom_messages_out_total Frames.\n\
                    stateroom_messages_out_total 1200\n\
                    stateroom_kind_messages_out_total{kind=\"a\"} 5\n\
                    stateroom_socket_writes_total 400\n\
                    stateroom_writer_wakeups_total 600\n\
                    stateroom_messages_in_total 90\n\
                    stateroom_connection_turns_total 60\n";
        let after = parse(text).unwrap();
        assert_eq!(
            after,
            Counters {
                frames_out: 1200.0,
                socket_writes: 400.0,
                writer_wakeups: Some(600.0),
                messages_in: Some(90.0),
                connection_turns: Some(60.0),
            }
        );
        let before = Counters {
            frames_out: 200.0,
            socket_writes: 150.0,
            writer_wakeups: Some(100.0),
            messages_in: Some(10.0),
            connection_turns: Some(0.0),
        };
        assert_eq!(connection_turn_share(before, after), Some(0.75));
        assert_eq!(connection_turn_share(after, after), None);
        assert_eq!(frames_per_write(before, after), Some(4.0));
        assert_eq!(frames_per_write(after, after), None);
        assert_eq!(frames_per_wakeup(before, after), Some(2.0));
        assert_eq!(frames_per_wakeup(after, after), None);
        // A build without the wake-up counter: frames per write only.
        let older = Counters {
            writer_wakeups: None,
            connection_turns: None,
            ..after
        };
        assert_eq!(frames_per_wakeup(before, older), None);
        assert_eq!(connection_turn_share(before, older), None);
    }

    #[test]
    fn a_server_without_the_counters_reads_as_none() {
        assert_eq!(parse("HTTP/1.1 404 Not Found\r\n\r\n"), None);
        assert_eq!(parse("HTTP/1.1 200 OK\r\n\r\nother_total 1\n"), None);
    }
}
