//! The progress bar on stderr: bytes read of the total (compressed bytes for
//! archives), throughput, ETA and the file being read. Shown only when stderr
//! is a terminal and `--quiet` is not given, so pipes, cron and CI never see
//! it.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use logburst::{Progress, ProgressHook};

#[derive(Debug)]
struct Bar(ProgressBar);

/// The hook for this run, or `None` when nothing should be drawn.
pub fn hook(quiet: bool) -> Option<ProgressHook> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
    Some(ProgressHook(Arc::new(Bar(bar))))
}

impl Progress for Bar {
    fn begin(&self, total_bytes: Option<u64>) {
        let template = match total_bytes {
            Some(_) => "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {wide_msg}",
            None => "{spinner} {bytes} {binary_bytes_per_sec} {wide_msg}",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.0.set_style(style.progress_chars("=> "));
        }
        if let Some(total) = total_bytes {
            self.0.set_length(total);
        }
        // Redraw even while one slow block is being decompressed.
        self.0.enable_steady_tick(Duration::from_millis(200));
    }

    fn reading(&self, display: &str) {
        self.0.set_message(logburst::escape_terminal(display));
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn end(&self) {
        self.0.finish_and_clear();
    }
}
