//! Progress bars for long pushes and pulls (indicatif), on stderr. Drawn only for people: not
//! with `--json`, not when stderr is no terminal, not for a handful of blobs.
//! `HYPNOS_PROGRESS=always` draws them anyway (on a terminal-less stderr too) and
//! `HYPNOS_PROGRESS=never` never does.

use std::sync::Mutex;

use hypnos_client::sync::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Steps of fewer blobs than this finish too soon for a bar to help.
const SMALL: u64 = 20;

/// When bars are drawn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum When {
    Auto,
    Always,
    Never,
}

/// The command line's [`Progress`]: one bar a step.
pub struct Bars {
    when: When,
    bar: Mutex<Option<ProgressBar>>,
}

impl Bars {
    /// Bars as `HYPNOS_PROGRESS` and `--json` say.
    pub fn new(json_output: bool) -> anyhow::Result<Self> {
        let when = match std::env::var("HYPNOS_PROGRESS").as_deref() {
            Err(_) | Ok("auto") => When::Auto,
            Ok("always") => When::Always,
            Ok("never") => When::Never,
            Ok(other) => {
                anyhow::bail!("HYPNOS_PROGRESS={other} is not one of auto, always, never");
            }
        };
        Ok(Self {
            when: if json_output { When::Never } else { when },
            bar: Mutex::new(None),
        })
    }

    fn target(&self) -> Option<ProgressDrawTarget> {
        match self.when {
            When::Never => None,
            // indicatif hides itself when stderr is no terminal; this is what `auto` wants.
            When::Auto => Some(ProgressDrawTarget::stderr()),
            When::Always => Some(ProgressDrawTarget::term_like(Box::new(
                console::Term::stderr(),
            ))),
        }
    }
}

impl Progress for Bars {
    fn begin(&self, step: &str, total: u64) {
        let Some(target) = self.target().filter(|_| total >= SMALL) else {
            return;
        };
        let bar = ProgressBar::with_draw_target(Some(total), target).with_style(
            ProgressStyle::with_template("{msg:>11} [{bar:32}] {pos}/{len} blobs ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(step.to_owned());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }

    fn advance(&self, units: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(units);
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish();
        }
    }
}
