//! Polling with exponential backoff, bounded: no fixed sleeps, no waiting
//! forever.

use std::time::{Duration, Instant};

/// Backoff for polling an operation's status: starts short (most emulator and
/// small operations finish quickly), doubles up to a ceiling that keeps API
/// calls per minute low on long AWS operations, and gives up at a deadline.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
    deadline: Instant,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration, limit: Duration) -> Backoff {
        Backoff {
            next: first,
            max,
            deadline: Instant::now() + limit,
        }
    }

    /// For CloudFormation and other control-plane operations. A poll should
    /// be a small fraction of the operation it waits for: on AWS, 2 s up to
    /// 15 s against operations of a minute or more; a custom endpoint (an
    /// emulator) may run AWS's clock scaled down, so its bounds are AWS's
    /// scaled the same way (15 s / 60 = 250 ms), never a second per poll.
    pub fn for_operation(custom_endpoint: bool, limit: Duration) -> Backoff {
        if custom_endpoint {
            Backoff::new(Duration::from_millis(50), Duration::from_millis(250), limit)
        } else {
            Backoff::new(Duration::from_secs(2), Duration::from_secs(15), limit)
        }
    }

    /// Sleeps before the next poll; `false` once the deadline has passed.
    pub async fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        let pause = self.next.min(self.deadline - now);
        tokio::time::sleep(pause).await;
        self.next = (self.next * 2).min(self.max);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn backoff_doubles_to_its_ceiling_then_stops_at_the_deadline() {
        let start = tokio::time::Instant::now();
        let mut backoff = Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(4),
            Duration::from_secs(3600),
        );
        for _ in 0..4 {
            assert!(backoff.wait().await);
        }
        // 1 + 2 + 4 + 4
        assert_eq!(start.elapsed(), Duration::from_secs(11));

        let mut short = Backoff::new(
            Duration::from_secs(1),
            Duration::from_secs(1),
            Duration::ZERO,
        );
        assert!(!short.wait().await);
    }
}
