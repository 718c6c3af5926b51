//! What is generated from the command line's own clap definitions: the shell completion
//! scripts and the manual page. Both come from [`Cli`]'s definitions, so neither can name a
//! command or flag that the parser does not have.

use std::{io::Write, path::Path};

use anyhow::Context;
use clap::CommandFactory;

use crate::Cli;

/// Writes `shell`'s completion script for `hypnos` to standard output.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hypnos", &mut script);
    write_out(&script).context("writing the completion script")
}

/// Writes the manual page, hypnos(1) in roff, to standard output; or, given `dir`, that page
/// and one per subcommand (the pages hypnos(1) refers to) into `dir`.
pub fn man(dir: Option<&Path>) -> anyhow::Result<()> {
    if let Some(dir) = dir {
        return clap_mangen::generate_to(Cli::command(), dir)
            .with_context(|| format!("writing the manual pages into {}", dir.display()));
    }
    let mut page = Vec::new();
    // As `generate_to` does: `help` is no page of its own.
    clap_mangen::Man::new(Cli::command().disable_help_subcommand(true))
        .render(&mut page)
        .context("rendering the manual page")?;
    write_out(&page).context("writing the manual page")
}

/// Writes `bytes` to standard output. A reader that stopped early (`| head`) is not an error.
fn write_out(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written,
    }
}
