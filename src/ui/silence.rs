//! Which AWS endpoints keep mraa waiting for an answer. Every call to a
//! (service, Region) is watched from the moment it is sent until an answer
//! arrives; an attempt that ends without one (a timeout, a dropped
//! connection) leaves the endpoint silent until it answers again, across the
//! SDK's retries. A progress row in that Region then says `no answer from
//! cloudformation us-east-1 for 45s` instead of a bare `waiting`.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_cloudformation::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// How long an endpoint may keep a call unanswered before a row says so.
/// `MRAA_NO_ANSWER_AFTER` (whole seconds) sets it, so that a test sees the
/// words without waiting half a minute.
pub const NO_ANSWER_AFTER: Duration = Duration::from_secs(30);

pub fn threshold() -> Duration {
    static THRESHOLD: OnceLock<Duration> = OnceLock::new();
    *THRESHOLD.get_or_init(|| {
        std::env::var("MRAA_NO_ANSWER_AFTER")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map_or(NO_ANSWER_AFTER, Duration::from_secs)
    })
}

/// One endpoint's calls.
#[derive(Debug)]
struct Endpoint {
    service: &'static str,
    region: String,
    in_flight: usize,
    /// An attempt ended without an answer and none came since.
    unanswered: bool,
    /// Since when it has been waited for: its last answer, or the first call
    /// sent while nothing was pending.
    since: Instant,
}

/// Every endpoint this process has called.
#[derive(Debug, Default)]
pub struct Endpoints(Vec<Endpoint>);

/// An endpoint that has kept a call unanswered for `for_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoAnswer {
    pub service: &'static str,
    pub region: String,
    pub for_: Duration,
}

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no answer from {} {} for {}s",
            self.service,
            self.region,
            self.for_.as_secs()
        )
    }
}

impl Endpoints {
    fn entry(&mut self, service: &'static str, region: &str, now: Instant) -> &mut Endpoint {
        let at = match self
            .0
            .iter()
            .position(|e| e.service == service && e.region == region)
        {
            Some(at) => at,
            None => {
                self.0.push(Endpoint {
                    service,
                    region: region.to_string(),
                    in_flight: 0,
                    unanswered: false,
                    since: now,
                });
                self.0.len() - 1
            }
        };
        &mut self.0[at]
    }

    fn sent(&mut self, service: &'static str, region: &str, now: Instant) {
        let endpoint = self.entry(service, region, now);
        if endpoint.in_flight == 0 && !endpoint.unanswered {
            endpoint.since = now;
        }
        endpoint.in_flight += 1;
    }

    fn answered(&mut self, service: &'static str, region: &str, now: Instant) {
        let endpoint = self.entry(service, region, now);
        endpoint.unanswered = false;
        endpoint.since = now;
    }

    fn unanswered(&mut self, service: &'static str, region: &str, now: Instant) {
        self.entry(service, region, now).unanswered = true;
    }

    fn ended(&mut self, service: &'static str, region: &str, now: Instant) {
        let endpoint = self.entry(service, region, now);
        endpoint.in_flight = endpoint.in_flight.saturating_sub(1);
    }

    /// The endpoint in `region` (any, for `None`) silent longest, when that
    /// is at least `after`.
    pub fn silent(&self, region: Option<&str>, after: Duration, now: Instant) -> Option<NoAnswer> {
        self.0
            .iter()
            .filter(|e| region.is_none_or(|r| r == e.region))
            .filter(|e| e.in_flight > 0 || e.unanswered)
            .map(|e| NoAnswer {
                service: e.service,
                region: e.region.clone(),
                for_: now.saturating_duration_since(e.since),
            })
            .filter(|n| n.for_ >= after)
            .max_by_key(|n| n.for_)
    }
}

static ENDPOINTS: Mutex<Endpoints> = Mutex::new(Endpoints(Vec::new()));

fn with(f: impl FnOnce(&mut Endpoints)) {
    if let Ok(mut endpoints) = ENDPOINTS.lock() {
        f(&mut endpoints);
    }
}

/// The endpoint in `region` (any, for `None`) that has kept a call
/// unanswered past the threshold, if one has.
pub fn no_answer(region: Option<&str>) -> Option<NoAnswer> {
    let endpoints = ENDPOINTS.lock().ok()?;
    endpoints.silent(region, threshold(), Instant::now())
}

/// The SDK interceptor that watches one client's calls.
#[derive(Debug, Clone)]
pub struct Watch {
    service: &'static str,
    region: String,
}

impl Watch {
    pub fn new(service: &'static str, region: &str) -> Watch {
        Watch {
            service,
            region: region.to_string(),
        }
    }
}

/// One attempt on its way, kept in the call's own configuration: however
/// the attempt ends (an answer, a timeout, the call dropped on Ctrl-C or by
/// a failing sibling), dropping it ends the count.
#[derive(Debug)]
struct Pending {
    service: &'static str,
    region: String,
}

impl Storable for Pending {
    type Storer = StoreReplace<Pending>;
}

impl Drop for Pending {
    fn drop(&mut self) {
        with(|e| e.ended(self.service, &self.region, Instant::now()));
    }
}

impl Intercept for Watch {
    fn name(&self) -> &'static str {
        "mraa::ui::silence::Watch"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_cloudformation::error::BoxError> {
        with(|e| e.sent(self.service, &self.region, Instant::now()));
        if self.service == "cloudformation"
            && let Some(body) = context.request().body().bytes()
        {
            super::in_flight::note_request(&self.region, body);
        }
        cfg.interceptor_state().store_put(Pending {
            service: self.service,
            region: self.region.clone(),
        });
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_cloudformation::error::BoxError> {
        // Any answer, an error included: the endpoint is there.
        with(|e| e.answered(self.service, &self.region, Instant::now()));
        cfg.interceptor_state().unset::<Pending>();
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_cloudformation::error::BoxError> {
        if cfg.load::<Pending>().is_some() {
            with(|e| e.unanswered(self.service, &self.region, Instant::now()));
            cfg.interceptor_state().unset::<Pending>();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_call_unanswered_past_the_threshold_is_named_with_its_service_and_region() {
        let t0 = Instant::now();
        let mut endpoints = Endpoints::default();
        endpoints.sent("cloudformation", "us-east-1", t0);
        assert_eq!(
            endpoints.silent(Some("us-east-1"), 30 * S, t0 + 29 * S),
            None
        );
        let silent = endpoints.silent(Some("us-east-1"), 30 * S, t0 + 45 * S);
        assert_eq!(
            silent.map(|n| n.to_string()).as_deref(),
            Some("no answer from cloudformation us-east-1 for 45s")
        );
        // Another Region's rows are not concerned; a row without a Region is.
        assert_eq!(
            endpoints.silent(Some("eu-west-1"), 30 * S, t0 + 45 * S),
            None
        );
        assert!(endpoints.silent(None, 30 * S, t0 + 45 * S).is_some());
    }

    #[test]
    fn silence_lasts_across_retries_and_ends_with_an_answer() {
        let t0 = Instant::now();
        let mut endpoints = Endpoints::default();
        endpoints.sent("cloudformation", "us-east-1", t0);
        // The attempt times out and is retried: still no answer since t0.
        endpoints.unanswered("cloudformation", "us-east-1", t0 + 30 * S);
        endpoints.ended("cloudformation", "us-east-1", t0 + 30 * S);
        endpoints.sent("cloudformation", "us-east-1", t0 + 31 * S);
        let silent = endpoints.silent(None, 30 * S, t0 + 50 * S);
        assert_eq!(silent.map(|n| n.for_), Some(50 * S));
        // An answer ends it, and a later call after a quiet pause starts
        // counting afresh.
        endpoints.answered("cloudformation", "us-east-1", t0 + 51 * S);
        endpoints.ended("cloudformation", "us-east-1", t0 + 51 * S);
        assert_eq!(endpoints.silent(None, Duration::ZERO, t0 + 90 * S), None);
        endpoints.sent("cloudformation", "us-east-1", t0 + 100 * S);
        assert_eq!(endpoints.silent(None, 30 * S, t0 + 110 * S), None);
    }

    #[test]
    fn a_call_dropped_before_its_answer_leaves_no_silence() {
        let t0 = Instant::now();
        let mut endpoints = Endpoints::default();
        endpoints.sent("s3", "eu-west-1", t0);
        endpoints.ended("s3", "eu-west-1", t0 + S);
        assert_eq!(endpoints.silent(None, Duration::ZERO, t0 + 60 * S), None);
    }
}
