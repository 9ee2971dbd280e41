//! What the suites' own output says beyond their exit code: the tests that skipped themselves
//! inside a suite that passed (with the reason they printed), and how many tests each test
//! runner counted. `cargo xtask test` lists both in its summary, so a wgpu test that found no
//! adapter or a pytest `skipif` cannot hide behind a suite that says "passed".
//!
//! Every command `status` runs writes its stdout and stderr to one log file under the target
//! dir, which is followed to this process's stderr while the command runs and scanned line by
//! line. A file rather than a pipe: a process a test leaked that still holds the pipe open would
//! keep us waiting after the command itself has exited.
//!
//! Recognised lines (one function each, unit-tested below):
//! - skips: any line that starts with `SKIPPED` once leading `*`, `!` and spaces are dropped
//!   (our Rust tests' `*** SKIPPED: why ***`, pytest's `-rs` lines `SKIPPED [1] file:line: why`),
//!   cargo's `N ignored` and vitest's `N skipped`;
//! - counts: cargo's `test result: ok. N passed; M failed; K ignored`, pytest's closing
//!   `N passed, M failed, K skipped in 1.2s`, vitest's `Tests  N passed | M failed`, and the
//!   Playwright harness's `N passed, M failed, K not selected`.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

/// Everything seen so far in this `cargo xtask` process.
#[derive(Default)]
pub struct Seen {
    /// One line per skipped test or group of tests, with its reason.
    pub skipped: Vec<String>,
    pub passed: u64,
    pub failed: u64,
}

static SEEN: Mutex<Seen> = Mutex::new(Seen { skipped: Vec::new(), passed: 0, failed: 0 });

/// Runs `f` with the totals (poisoning cannot lose counts that matter: we only add).
pub fn with<T>(f: impl FnOnce(&mut Seen) -> T) -> T {
    let mut guard = SEEN.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

/// Records what one line of a suite's output says.
pub fn scan_line(line: &str) {
    let plain = strip_ansi(line);
    let line = plain.as_ref();
    let skip = skip_line(line);
    let counts = counts_line(line);
    if skip.is_none() && counts.is_none() {
        return;
    }
    with(|s| {
        if let Some(why) = skip {
            s.skipped.push(why);
        }
        if let Some(c) = counts {
            s.passed += c.passed;
            s.failed += c.failed;
            if c.skipped > 0 && c.runner_lists_names {
                // pytest lists each skip on its own `SKIPPED [n] …` line (`-rs`): counted there.
            } else if c.skipped > 0 {
                s.skipped.push(format!("{} {} ({})", c.skipped, c.what, line.trim()));
            }
        }
    });
}

/// `line` without terminal escape sequences (vitest colours its summary even into a pipe
/// under `CI`, which hid its counts and skips from the tally).
fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if !line.contains('\x1b') {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        // CSI: ESC [ parameters… final byte in @..~; a charset choice: ESC ( B and the like;
        // any other escape: ESC and one character.
        if chars.next_if_eq(&'[').is_some() {
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) {
                    break;
                }
            }
        } else if matches!(chars.next(), Some('(' | ')' | '*' | '+')) {
            chars.next();
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Scans a whole text (a log written by a command that did not go through [`run_followed`]).
pub fn scan_text(text: &str) {
    text.lines().for_each(scan_line);
}

/// The skip a line reports, cleaned of decoration.
fn skip_line(line: &str) -> Option<String> {
    let t = line.trim_start_matches(|c: char| c == '*' || c == '!' || c.is_whitespace());
    if !t.starts_with("SKIPPED") {
        return None;
    }
    let t = t.trim_end_matches(|c: char| c == '*' || c.is_whitespace());
    Some(t.to_string())
}

/// Test counts one runner's closing line gives.
#[derive(Debug, PartialEq)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
    what: &'static str,
    /// Whether the runner also prints each skipped test on a line of its own.
    runner_lists_names: bool,
}

/// The number written right before `word` in `text` (`"3 passed"` → 3).
fn number_before(text: &str, word: &str) -> Option<u64> {
    let words: Vec<&str> = text.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '|').collect();
    let words: Vec<&str> = words.into_iter().filter(|w| !w.is_empty()).collect();
    words.windows(2).find(|w| w[1].trim_end_matches('.') == word).and_then(|w| w[0].parse().ok())
}

fn counts_line(line: &str) -> Option<Counts> {
    let t = line.trim();
    // cargo test: `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; …`
    if let Some(rest) = t.strip_prefix("test result: ") {
        return Some(Counts {
            passed: number_before(rest, "passed")?,
            failed: number_before(rest, "failed")?,
            skipped: number_before(rest, "ignored").unwrap_or(0),
            what: "Rust tests #[ignore]d",
            runner_lists_names: false,
        });
    }
    // vitest: ` Tests  126 passed (126)` or ` Tests  1 failed | 2 skipped | 123 passed (126)`
    if let Some(rest) = t.strip_prefix("Tests ")
        && (rest.contains(" passed") || rest.contains(" failed"))
    {
        return Some(Counts {
            passed: number_before(rest, "passed").unwrap_or(0),
            failed: number_before(rest, "failed").unwrap_or(0),
            skipped: number_before(rest, "skipped").unwrap_or(0) + number_before(rest, "todo").unwrap_or(0),
            what: "vitest tests skipped",
            runner_lists_names: false,
        });
    }
    // The Playwright harness (ui/e2e/harness.mjs): `18 passed, 0 failed, 0 not selected (E2E_ONLY)…`
    if t.contains(" not selected") && t.contains(" passed,") {
        return Some(Counts {
            passed: number_before(t, "passed")?,
            failed: number_before(t, "failed")?,
            skipped: 0,
            what: "browser tests",
            runner_lists_names: false,
        });
    }
    // pytest's closing line: `45 passed, 2 skipped in 3.21s` (also `1 failed, …`, `… error …`),
    // sometimes framed as `==== … ====`.
    let p = t.trim_matches(|c: char| c == '=' || c.is_whitespace());
    let first = p.split_whitespace().next()?;
    let secs_at_end = p.rsplit_once(" in ").is_some_and(|(_, secs)| {
        secs.strip_suffix('s').is_some_and(|n| n.parse::<f64>().is_ok() || n.ends_with("min")) || secs.contains("s (")
    });
    let closing = first.parse::<u64>().is_ok()
        && secs_at_end
        && ["passed", "failed", "error", "errors", "skipped"].iter().any(|w| number_before(p, w).is_some());
    if closing {
        return Some(Counts {
            passed: number_before(p, "passed").unwrap_or(0),
            failed: number_before(p, "failed").unwrap_or(0)
                + number_before(p, "error").unwrap_or(0)
                + number_before(p, "errors").unwrap_or(0),
            skipped: number_before(p, "skipped").unwrap_or(0),
            what: "pytest tests skipped",
            runner_lists_names: true,
        });
    }
    None
}

/// Runs `c` with stdout and stderr into `log`, copying the log to `echo` (stderr, in `status`) as
/// it grows and scanning each line. After the command exits the rest of the log is read once
/// more; nothing waits for other processes that might still hold the file.
pub fn run_followed(mut c: Command, log: &Path, echo: &mut dyn Write) -> std::io::Result<ExitStatus> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::File::create(log)?;
    c.stdout(Stdio::from(file.try_clone()?)).stderr(Stdio::from(file)).stdin(Stdio::null());
    let mut child = c.spawn()?;
    let mut reader = std::fs::File::open(log)?;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut pump = |reader: &mut std::fs::File, pending: &mut Vec<u8>, last: bool| -> std::io::Result<()> {
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            echo.write_all(&buf[..n])?;
            echo.flush()?;
            pending.extend_from_slice(&buf[..n]);
            while let Some(i) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=i).collect();
                scan_line(&String::from_utf8_lossy(&line));
            }
        }
        if last && !pending.is_empty() {
            scan_line(&String::from_utf8_lossy(pending));
            pending.clear();
        }
        Ok(())
    };
    let status = loop {
        pump(&mut reader, &mut pending, false)?;
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    reader.stream_position()?;
    pump(&mut reader, &mut pending, true)?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_skip(line: &str, expect: Option<&str>) {
        assert_eq!(skip_line(line).as_deref(), expect, "{line:?}");
    }

    #[test]
    fn skip_lines() {
        check_skip("*** SKIPPED: no wgpu adapter ***", Some("SKIPPED: no wgpu adapter"));
        check_skip(
            "SKIPPED [1] tests/test_integrations.py:65: Lightning is not installed",
            Some("SKIPPED [1] tests/test_integrations.py:65: Lightning is not installed"),
        );
        check_skip("!!! SKIPPED: desktop smoke: no Xvfb", Some("SKIPPED: desktop smoke: no Xvfb"));
        check_skip("test skipped_runs_are_listed ... ok", None);
        check_skip("tests skipped: SKIPPED", None);
    }

    fn check_counts(line: &str, passed: u64, failed: u64, skipped: u64) {
        let c = counts_line(line).unwrap_or_else(|| panic!("no counts in {line:?}"));
        assert_eq!((c.passed, c.failed, c.skipped), (passed, failed, skipped), "{line:?}");
    }

    #[test]
    fn runner_closing_lines() {
        check_counts(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.52s",
            12,
            0,
            1,
        );
        check_counts("test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out", 3, 2, 0);
        check_counts("45 passed, 2 skipped in 3.21s", 45, 0, 2);
        check_counts("======= 1 failed, 44 passed, 1 error in 12.00s =======", 44, 2, 0);
        check_counts("      Tests  126 passed (126)", 126, 0, 0);
        check_counts("      Tests  1 failed | 2 skipped | 123 passed (126)", 123, 1, 2);
        check_counts("18 passed, 0 failed, 0 not selected (E2E_ONLY)", 18, 0, 0);
        // vitest colours its summary under CI.
        let coloured = "\x1b[2m      Tests \x1b[22m \x1b[1m\x1b[32m139 passed\x1b[39m\x1b[22m\x1b[90m (139)\x1b[39m";
        let c = counts_line(&strip_ansi(coloured)).expect("counts in a coloured line");
        assert_eq!((c.passed, c.failed, c.skipped), (139, 0, 0));
        assert_eq!(strip_ansi("plain"), "plain");
        assert_eq!(strip_ansi("\x1b[1m\x1b[33mSKIPPED\x1b[39m: why\x1b(B"), "SKIPPED: why");
        assert_eq!(counts_line("running 12 tests"), None);
        assert_eq!(counts_line("Compiling trackbench-store v0.0.0 (/work/main/crates/trackbench-store)"), None);
        assert_eq!(counts_line("3 runs in 2 projects"), None);
    }

    #[test]
    fn a_followed_command_is_copied_and_scanned() {
        let dir = std::env::temp_dir().join(format!("xtask-tally-{}", std::process::id()));
        let log = dir.join("cmd.log");
        let mut c = Command::new("sh");
        c.args([
            "-c",
            "echo '*** SKIPPED: nothing to drive here ***'; echo 'test result: ok. 2 passed; 0 failed; 0 ignored' >&2",
        ]);
        let before = with(|s| (s.skipped.len(), s.passed));
        let mut echoed = Vec::new();
        let status = run_followed(c, &log, &mut echoed).unwrap();
        assert!(status.success());
        assert_eq!(echoed, std::fs::read(&log).unwrap(), "the whole log is echoed");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("SKIPPED: nothing") && text.contains("2 passed"), "{text}");
        with(|s| {
            assert!(s.skipped[before.0..].iter().any(|l| l == "SKIPPED: nothing to drive here"), "{:?}", s.skipped);
            assert!(s.passed >= before.1 + 2);
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}
