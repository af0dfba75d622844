//! A yes/no question on the terminal, read from an injected reader so that
//! a test can answer it. Only `y` or `yes` (any case) approves; an empty or
//! unreadable answer is no. Whether to ask at all (a terminal, `--yes`) is
//! each command's decision.

use std::io::{BufRead, IsTerminal, Write};

/// Both ends of a question are a terminal: stdin to answer, stderr to ask.
pub fn terminal() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Writes `question` on `messages` and reads the answer from `reader`.
pub fn ask(question: &str, reader: &mut dyn BufRead, messages: &mut dyn Write) -> bool {
    let _ = write!(messages, "{question}");
    let _ = messages.flush();
    let mut answer = String::new();
    if reader.read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_approves_and_the_question_is_asked() {
        for (typed, approved) in [
            ("y\n", true),
            ("YES\n", true),
            (" yes \n", true),
            ("\n", false),
            ("no\n", false),
            ("yess\n", false),
            ("", false),
        ] {
            let mut said = Vec::new();
            assert_eq!(
                ask("Go? [y/N] ", &mut typed.as_bytes(), &mut said),
                approved,
                "{typed:?}"
            );
            assert_eq!(String::from_utf8_lossy(&said), "Go? [y/N] ");
        }
    }
}
