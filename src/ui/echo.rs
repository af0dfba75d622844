//! The terminal's echo of Ctrl-C, turned off while progress rows are drawn.
//!
//! indicatif leaves the cursor at the right edge of its last row, so the
//! `^C` the terminal echoes (the termios `ECHOCTL` flag, on by default)
//! wraps onto a line of its own. The display no longer knows where it is:
//! clearing its rows then leaves the first one on screen, and the rows
//! written after the interruption show it twice. Without `ECHOCTL` the
//! terminal echoes the raw control character, which draws nothing
//! (termios(3): "ECHOCTL ... If ECHO is also set, terminal special
//! characters other than TAB, NL, START, and STOP are echoed as ^X").
//! Typed text still echoes; only control characters are quiet.

#[cfg(unix)]
use std::sync::Mutex;

/// The terminal's settings before mraa changed them, to put back.
#[cfg(unix)]
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Turns off the echo of control characters on stderr's terminal, once;
/// [`restore`] puts it back.
#[cfg(unix)]
pub fn quiet_control_chars() {
    let Ok(mut saved) = SAVED.lock() else { return };
    if saved.is_some() {
        return;
    }
    // SAFETY: a zeroed termios is a valid value to be filled by tcgetattr,
    // which reads nothing else; fd 2 stays open for the whole process.
    let mut settings: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(libc::STDERR_FILENO, &mut settings) } != 0 {
        return;
    }
    if settings.c_lflag & libc::ECHOCTL == 0 {
        return;
    }
    let original = settings;
    settings.c_lflag &= !libc::ECHOCTL;
    // SAFETY: settings is the terminal's own, read above, with one flag off.
    if unsafe { libc::tcsetattr(libc::STDERR_FILENO, libc::TCSANOW, &settings) } == 0 {
        *saved = Some(original);
    }
}

/// Puts back the terminal's settings, if mraa changed them.
#[cfg(unix)]
pub fn restore() {
    let Ok(mut saved) = SAVED.lock() else { return };
    if let Some(original) = saved.take() {
        // SAFETY: the settings tcgetattr returned for this terminal.
        unsafe { libc::tcsetattr(libc::STDERR_FILENO, libc::TCSANOW, &original) };
    }
}

#[cfg(not(unix))]
pub fn quiet_control_chars() {}

#[cfg(not(unix))]
pub fn restore() {}
