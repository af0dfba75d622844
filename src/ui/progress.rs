//! Live progress of a long operation. On a terminal: one spinner line per
//! (step, region). Without one (CI): a plain timestamped line per event on
//! stderr, as it happens. With `--output json`: one JSON object per event on
//! stdout. Every event is also kept for the final summary.

use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::config::OutputFormat;
use crate::config::{Settings, Verbosity};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Started,
    Waiting,
    Created,
    Updated,
    Unchanged,
    Ok,
    Unverified,
    Failed,
}

impl Status {
    fn is_final(self) -> bool {
        !matches!(self, Status::Started | Status::Waiting)
    }

    fn label(self) -> &'static str {
        match self {
            Status::Started => "started",
            Status::Waiting => "waiting",
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Ok => "ok",
            Status::Unverified => "unverified",
            Status::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// `event` for JSON consumers telling events from the summary.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Wall-clock time, RFC 3339 in UTC (`2026-11-23T02:44:37.834Z`).
    pub time: String,
    pub elapsed_s: f64,
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// This process's terminal rows, whatever reporter drew them: one terminal,
/// so one list. An interruption ends them all, then speaks below them.
static ROWS: Mutex<Vec<ProgressBar>> = Mutex::new(Vec::new());
/// The displays those rows are drawn in.
static DISPLAYS: Mutex<Vec<MultiProgress>> = Mutex::new(Vec::new());
/// Set once the rows are ended for good: nothing is drawn after that (work
/// still winding down must not redraw over the last words).
static ENDED: AtomicBool = AtomicBool::new(false);

/// Ends every row still moving on this process's terminal, with `why` in
/// front of its last words, and stops all drawing: for Ctrl-C, before the
/// message that follows the rows.
pub fn end_all_rows(why: &str) {
    // Under the rows' lock: no row is made or drawn while they end.
    let Ok(rows) = ROWS.lock() else { return };
    ENDED.store(true, Ordering::SeqCst);
    let lines: Vec<String> = rows
        .iter()
        .map(|bar| {
            let message = match bar.is_finished() {
                true => bar.message(),
                false => format!("{why} — {}", bar.message()),
            };
            let elapsed = format!("{}s", bar.elapsed().as_secs());
            format!("  {:<38} {elapsed:>4} {message}", bar.prefix())
        })
        .collect();
    // The display is taken down and the rows written once, as plain lines:
    // no ticker or late event can redraw over what follows them.
    if let Ok(displays) = DISPLAYS.lock() {
        for multi in displays.iter() {
            let _ = multi.clear();
            multi.set_draw_target(ProgressDrawTarget::hidden());
        }
    }
    let width = terminal_width();
    for line in lines {
        eprintln!("{}", line.chars().take(width).collect::<String>());
    }
    super::echo::restore();
}

enum Mode {
    Tty {
        multi: MultiProgress,
        bars: Mutex<HashMap<String, ProgressBar>>,
    },
    Plain,
    Json(Mutex<Box<dyn Write + Send>>),
    Silent,
}

/// A row still moving: its step and Region, and how many whole thresholds
/// of silence it has already been told about.
struct Open {
    step: String,
    region: Option<String>,
    told: u32,
}

/// The reporter's state, shared with its silence watch.
pub struct Inner {
    mode: Mode,
    start: Instant,
    events: Mutex<Vec<Event>>,
    open: Mutex<BTreeMap<String, Open>>,
}

pub struct Reporter {
    inner: Arc<Inner>,
    /// Dropped with the reporter: the silence watch then stops.
    _watch: Option<Sender<()>>,
}

impl std::ops::Deref for Reporter {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl Reporter {
    /// `json_out` receives the JSON event stream (stdout in the binary).
    pub fn new(settings: &Settings, json_out: Box<dyn Write + Send>) -> Reporter {
        let mode = if settings.output == OutputFormat::Json {
            Mode::Json(Mutex::new(json_out))
        } else if settings.verbosity == Verbosity::Quiet {
            Mode::Silent
        } else if std::io::stderr().is_terminal() {
            // A `^C` echoed under the rows would shift them (see `echo`).
            super::echo::quiet_control_chars();
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            if let Ok(mut displays) = DISPLAYS.lock() {
                displays.push(multi.clone());
            }
            Mode::Tty {
                multi,
                bars: Mutex::new(HashMap::new()),
            }
        } else {
            Mode::Plain
        };
        let watched = matches!(mode, Mode::Plain | Mode::Json(_));
        let inner = Arc::new(Inner::new(mode));
        let watch = watched.then(|| watch_silence(Arc::downgrade(&inner)));
        Reporter {
            inner,
            _watch: watch,
        }
    }

    /// Records events without showing them (library use, tests).
    pub fn silent() -> Reporter {
        Reporter {
            inner: Arc::new(Inner::new(Mode::Silent)),
            _watch: None,
        }
    }
}

impl Inner {
    fn new(mode: Mode) -> Inner {
        Inner {
            mode,
            start: Instant::now(),
            events: Mutex::new(Vec::new()),
            open: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// A line for the human reader only (not an event): stderr, or nothing
    /// when quiet or in JSON mode.
    pub fn note(&self, line: &str) {
        match &self.mode {
            Mode::Tty { multi, .. } => {
                if !ENDED.load(Ordering::SeqCst) {
                    // A line the terminal would wrap counts as one for the
                    // redraw, which then repeats the row above it: folded
                    // here to the terminal's width instead.
                    // One column short: a line of exactly the width leaves
                    // some terminals' cursor pending a wrap.
                    for part in fold(line, terminal_width() - 1) {
                        let _ = multi.println(part);
                    }
                }
            }
            Mode::Plain => eprintln!("{line}"),
            Mode::Json(_) | Mode::Silent => {}
        }
    }

    pub fn event(&self, step: &str, region: Option<&str>, status: Status, detail: Option<String>) {
        let key = format!("{step}/{}", region.unwrap_or("-"));
        if let Ok(mut open) = self.open.lock() {
            if status.is_final() {
                open.remove(&key);
            } else {
                open.entry(key).or_insert_with(|| Open {
                    step: step.to_string(),
                    region: region.map(str::to_string),
                    told: 0,
                });
            }
        }
        self.show(self.stamped(step.to_string(), region.map(str::to_string), status, detail));
    }

    fn stamped(
        &self,
        step: String,
        region: Option<String>,
        status: Status,
        detail: Option<String>,
    ) -> Event {
        Event {
            kind: "event",
            time: rfc3339_now(),
            elapsed_s: (self.start.elapsed().as_millis() as f64) / 1000.0,
            step,
            region,
            status,
            detail,
        }
    }

    /// Shows one event and keeps it for the summary.
    fn show(&self, event: Event) {
        match &self.mode {
            Mode::Tty { multi, bars } => self.draw(multi, bars, &event),
            Mode::Plain => eprintln!("{}", plain_line(&event)),
            Mode::Json(out) => {
                if let (Ok(mut out), Ok(line)) = (out.lock(), serde_json::to_string(&event)) {
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
            }
            Mode::Silent => {}
        }
        if let Ok(mut events) = self.events.lock() {
            events.push(event);
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Writes the final JSON summary object on the event stream.
    pub fn json_summary(&self, summary: &impl Serialize) -> bool {
        if let Mode::Json(out) = &self.mode {
            if let (Ok(mut out), Ok(line)) = (out.lock(), serde_json::to_string(summary)) {
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            return true;
        }
        false
    }

    /// Ends every row still moving, keeping its last words: after a failure
    /// or an interruption no spinner is left turning for work that nothing
    /// watches any more. Finished rows are left as they are.
    pub fn stop_open_rows(&self, why: &str) {
        let Mode::Tty { bars, .. } = &self.mode else {
            return;
        };
        let Ok(bars) = bars.lock() else { return };
        for bar in bars.values().filter(|b| !b.is_finished()) {
            let last = bar.message();
            bar.finish_with_message(format!("{why} — {last}"));
        }
    }

    fn draw(
        &self,
        multi: &MultiProgress,
        bars: &Mutex<HashMap<String, ProgressBar>>,
        event: &Event,
    ) {
        let Ok(mut rows) = ROWS.lock() else { return };
        if ENDED.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut bars) = bars.lock() else { return };
        let key = format!("{}/{}", event.step, event.region.as_deref().unwrap_or("-"));
        let bar = bars.entry(key).or_insert_with(|| {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_style(
                // `wide_msg` takes the rest of the line and is cut to the
                // terminal's width: a long detail never wraps and breaks the
                // redraw of the lines below.
                ProgressStyle::with_template(
                    "{spinner} {prefix:<38} {elapsed:>4} {no_answer}{wide_msg}",
                )
                .map(|style| style.with_key("no_answer", no_answer_key(event.region.clone())))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(format!(
                "{:<20} {}",
                event.step,
                event.region.as_deref().unwrap_or("")
            ));
            bar.enable_steady_tick(Duration::from_millis(120));
            rows.push(bar.clone());
            bar
        });
        let message = match &event.detail {
            Some(detail) => format!("{} — {detail}", event.status.label()),
            None => event.status.label().to_string(),
        };
        if event.status.is_final() {
            bar.finish_with_message(message);
        } else {
            bar.set_message(message);
        }
    }
}

/// The words a moving row shows while an endpoint in its Region keeps a call
/// unanswered, redrawn with the spinner.
fn no_answer_key(
    region: Option<String>,
) -> impl Fn(&indicatif::ProgressState, &mut dyn std::fmt::Write) + Send + Sync + Clone + 'static {
    move |state, out| {
        if state.is_finished() {
            return;
        }
        if let Some(silent) = super::silence::no_answer(region.as_deref()) {
            let _ = write!(out, "{silent} — ");
        }
    }
}

/// Without a terminal, a line (or a JSON event) for each moving row whose
/// Region has an endpoint silent past the threshold, then again at each
/// further threshold; stops when the reporter is dropped.
fn watch_silence(inner: std::sync::Weak<Inner>) -> Sender<()> {
    let (stop, stopped) = channel::<()>();
    std::thread::spawn(move || {
        let threshold = super::silence::threshold().max(Duration::from_secs(1));
        // A tick, not a wait for AWS: the silence is read from the watch.
        while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(Duration::from_secs(1)) {
            let Some(inner) = inner.upgrade() else { return };
            inner.tell_silences(threshold);
        }
    });
    stop
}

impl Inner {
    fn tell_silences(&self, threshold: Duration) {
        let mut due = Vec::new();
        if let Ok(mut open) = self.open.lock() {
            for row in open.values_mut() {
                let Some(silent) = super::silence::no_answer(row.region.as_deref()) else {
                    // Answered again: a later silence is told afresh.
                    row.told = 0;
                    continue;
                };
                let thresholds = (silent.for_.as_secs() / threshold.as_secs().max(1)) as u32;
                if thresholds > row.told {
                    row.told = thresholds;
                    due.push((row.step.clone(), row.region.clone(), silent.to_string()));
                }
            }
        }
        for (step, region, detail) in due {
            self.show(self.stamped(step, region, Status::Waiting, Some(detail)));
        }
    }
}

impl Drop for Reporter {
    /// However a run ends (its future dropped on Ctrl-C included), the
    /// terminal is left with no spinner.
    fn drop(&mut self) {
        self.stop_open_rows("stopped");
        super::echo::restore();
    }
}

/// stderr's width in columns, when it can be read.
fn terminal_width() -> usize {
    console::Term::stderr()
        .size_checked()
        .map_or(100, |(_, columns)| usize::from(columns))
        .max(20)
}

/// `line` in pieces of at most `width` characters.
fn fold(line: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

fn plain_line(event: &Event) -> String {
    let mut line = format!("{} {:<20}", event.time, event.step);
    if let Some(region) = &event.region {
        line.push_str(&format!(" {region:<15}"));
    }
    line.push(' ');
    line.push_str(event.status.label());
    if let Some(detail) = &event.detail {
        line.push_str(": ");
        line.push_str(detail);
    }
    line
}

/// Now, as RFC 3339 with its zone (UTC, `Z`), to the millisecond: the form
/// AWS's own timestamps take in JSON.
fn rfc3339_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339_millis(now)
}

/// Always three digits of milliseconds, so that plain lines stay aligned:
/// the SDK drops a fraction's trailing zeros (`34.11Z`).
fn rfc3339_millis(since_epoch: Duration) -> String {
    use aws_sdk_cloudformation::primitives::{DateTime, DateTimeFormat};
    let seconds = DateTime::from_secs(since_epoch.as_secs() as i64);
    match seconds.fmt(DateTimeFormat::DateTime) {
        Ok(text) => format!(
            "{}.{:03}Z",
            text.trim_end_matches('Z'),
            since_epoch.subsec_millis()
        ),
        Err(_) => "unknown".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_keep_three_digits_of_milliseconds() {
        let at = Duration::from_millis(1_796_681_794_110);
        assert_eq!(rfc3339_millis(at), "2026-12-07T22:16:34.110Z");
        assert_eq!(
            rfc3339_millis(Duration::from_secs(1_796_681_794)),
            "2026-12-07T22:16:34.000Z"
        );
    }

    #[test]
    fn long_notes_are_folded_to_the_width() {
        assert_eq!(fold("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(fold("", 3), vec![""]);
    }

    #[test]
    fn plain_lines_carry_time_step_region_and_status() {
        let event = Event {
            kind: "event",
            time: "2026-11-23T12:00:01.250Z".into(),
            elapsed_s: 1.0,
            step: "routing".into(),
            region: Some("eu-west-1".into()),
            status: Status::Unverified,
            detail: Some("endpoint reports no replica status".into()),
        };
        assert_eq!(
            plain_line(&event),
            "2026-11-23T12:00:01.250Z routing              eu-west-1       unverified: endpoint reports no replica status"
        );
    }
}
