//! Every timeout, deadline and retry setting of the provider layer, in one place, validated
//! once at start-up. Backoff is for failures; "not ready yet" is a fixed-interval wait to a
//! deadline.

use std::time::Duration;

/// Exponential backoff with jitter for transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first retry waits about this long.
    pub base: Duration,
    /// No single wait is longer.
    pub max: Duration,
    /// Tries in all, the first included.
    pub attempts: u32,
}

impl Backoff {
    /// The wait before retry number `retry` (0 for the first retry): half of the capped
    /// exponential step plus a random share of the other half ("equal jitter"), so clients
    /// that failed together do not come back together, and every wait still grows.
    pub fn delay(&self, retry: u32) -> Duration {
        let step = self
            .base
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.max);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// The provider layer's timing, from one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Connecting to the API.
    pub connect_timeout: Duration,
    /// Between two reads of an answer.
    pub read_timeout: Duration,
    /// One request from start to last byte.
    pub request_timeout: Duration,
    /// Retries of transient failures.
    pub backoff: Backoff,
    /// The longest a rate limit is waited out before giving up with
    /// [`crate::CloudError::RateLimited`].
    pub max_rate_limit_wait: Duration,
    /// How often a not-yet-finished action or boot is polled.
    pub poll_interval: Duration,
    /// How long an action (create, delete, power) may take.
    pub action_deadline: Duration,
    /// How long a new server may take to run with a public IP.
    pub ready_deadline: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            backoff: Backoff {
                base: Duration::from_millis(500),
                max: Duration::from_secs(16),
                attempts: 5,
            },
            max_rate_limit_wait: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            action_deadline: Duration::from_secs(180),
            ready_deadline: Duration::from_secs(300),
        }
    }
}

/// A timing setting that makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cloud timing: {0}")]
pub struct TimingError(pub String);

impl Timing {
    /// Short intervals for tests against the local fakes.
    pub fn fast() -> Self {
        Self {
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(3),
            backoff: Backoff {
                base: Duration::from_millis(10),
                max: Duration::from_millis(100),
                attempts: 5,
            },
            max_rate_limit_wait: Duration::from_secs(3),
            poll_interval: Duration::from_millis(10),
            action_deadline: Duration::from_secs(5),
            ready_deadline: Duration::from_secs(5),
        }
    }

    /// Checks the settings fit together.
    ///
    /// # Errors
    /// When a timeout is zero, or one that contains another is shorter than it.
    pub fn validate(&self) -> Result<(), TimingError> {
        let nonzero = [
            ("connect timeout", self.connect_timeout),
            ("read timeout", self.read_timeout),
            ("request timeout", self.request_timeout),
            ("poll interval", self.poll_interval),
            ("action deadline", self.action_deadline),
            ("ready deadline", self.ready_deadline),
        ];
        if let Some((name, _)) = nonzero.iter().find(|(_, d)| d.is_zero()) {
            return Err(TimingError(format!("the {name} is zero")));
        }
        if self.backoff.attempts == 0 {
            return Err(TimingError("a request needs at least one attempt".into()));
        }
        if self.request_timeout < self.connect_timeout {
            return Err(TimingError(
                "the request timeout is shorter than the connect timeout".into(),
            ));
        }
        if self.poll_interval > self.action_deadline || self.poll_interval > self.ready_deadline {
            return Err(TimingError(
                "the poll interval is longer than a deadline it polls for".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_fast_are_valid() {
        Timing::default().validate().unwrap();
        Timing::fast().validate().unwrap();
    }

    #[test]
    fn nonsense_is_refused() {
        let t = Timing {
            poll_interval: Duration::ZERO,
            ..Timing::default()
        };
        assert!(t.validate().unwrap_err().0.contains("poll interval"));
        let t = Timing {
            request_timeout: Duration::from_secs(1),
            ..Timing::default()
        };
        assert!(t.validate().is_err());
        let mut t = Timing::default();
        t.backoff.attempts = 0;
        assert!(t.validate().is_err());
    }

    #[test]
    fn backoff_grows_with_jitter_inside_its_bounds() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 5,
        };
        for retry in 0..8 {
            let step = (100u64 << retry).min(1000);
            for _ in 0..50 {
                let d = b.delay(retry).as_millis() as u64;
                assert!(d >= step / 2 && d <= step, "retry {retry}: {d} ms");
            }
        }
        // Jitter: not every draw is the same.
        let draws: std::collections::HashSet<_> = (0..20).map(|_| b.delay(3)).collect();
        assert!(draws.len() > 1);
    }
}
