//! When to reconnect: exponential backoff with jitter, after the close
//! codes that say the server went away or the network dropped (the same
//! rule as `@stateroom/client`'s `retriedCloseCode`).

use std::time::Duration;

/// Whether, and when, to open a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconnect {
    /// Open one after this long.
    After(Duration),
    /// Stop: the close was final (a normal close, a kick, a protocol
    /// error), or the attempts ran out.
    Stop,
}

/// The backoff's settings: the `n`th retry waits
/// `min(max, initial × factor^(n−1))`, less up to `jitter` of it at random.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first retry's delay. Default 250 ms.
    pub initial: Duration,
    /// The longest delay. Default 10 s.
    pub max: Duration,
    /// Growth per attempt. Default 2.
    pub factor: f64,
    /// The part of each delay taken off at random (0 to 1). Default 0.5.
    pub jitter: f64,
    /// Give up after this many attempts in a row. Default: never.
    pub max_attempts: Option<u32>,
    /// `false`: never reconnect.
    pub enabled: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(10),
            factor: 2.0,
            jitter: 0.5,
            max_attempts: None,
            enabled: true,
        }
    }
}

/// Whether a close with `code` is retried: the server went away or
/// restarted (1001, 1012), the connection dropped (1005, 1006), the room
/// failed (1011), or the server is busy (1013, 1014). A normal close, a
/// protocol error, a kick (1008, 3000–4999) or a message too big (1009) is
/// final.
#[must_use]
pub fn retried_close_code(code: u16) -> bool {
    matches!(code, 1001 | 1005 | 1006 | 1011 | 1012 | 1013 | 1014)
}

impl Backoff {
    /// The decision after the `attempt`th close in a row (from 1) with
    /// `code`; `random` is in [0, 1).
    #[must_use]
    pub fn after(&self, code: u16, attempt: u32, random: f64) -> Reconnect {
        let out_of_attempts = self.max_attempts.is_some_and(|max| attempt > max);
        if !self.enabled || !retried_close_code(code) || out_of_attempts {
            return Reconnect::Stop;
        }
        // A restarting server (1012) is ready for its clients at once.
        if code == 1012 && attempt == 1 {
            return Reconnect::After(Duration::ZERO);
        }
        let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
        let base = self
            .initial
            .mul_f64(self.factor.powi(exponent).min(1e9))
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        Reconnect::After(base.mul_f64(1.0 - jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_jitters() {
        let backoff = Backoff::default();
        let ms = |attempt, random| match backoff.after(1006, attempt, random) {
            Reconnect::After(delay) => delay.as_millis(),
            Reconnect::Stop => panic!("stopped"),
        };
        assert_eq!((ms(1, 0.0), ms(2, 0.0), ms(3, 0.0)), (250, 500, 1000));
        assert_eq!(ms(30, 0.0), 10_000);
        assert_eq!(ms(2, 1.0), 250, "at most half taken off");
        assert_eq!(
            backoff.after(1012, 1, 0.3),
            Reconnect::After(Duration::ZERO)
        );
    }

    #[test]
    fn final_codes_and_limits_stop() {
        let backoff = Backoff::default();
        for code in [1000, 1002, 1008, 1009, 4000] {
            assert_eq!(backoff.after(code, 1, 0.0), Reconnect::Stop, "{code}");
        }
        let limited = Backoff {
            max_attempts: Some(2),
            ..Backoff::default()
        };
        assert!(matches!(limited.after(1006, 2, 0.0), Reconnect::After(_)));
        assert_eq!(limited.after(1006, 3, 0.0), Reconnect::Stop);
    }
}
