//! `hypnos admin migrate --from sqlite://… --to postgres://…`: the move to PostgreSQL, done by
//! `hypnos_server::storage::transfer`; here only its progress on stderr and its report on
//! stdout (a table, or with `--json` one JSON object). A table that does not match is a
//! failure (exit 1); database URLs are never printed (they may hold a password).

use std::time::{Duration, Instant};

use anyhow::Context;
use hypnos_server::storage::transfer::{self, Progress, Report};

use crate::MigrateArgs;

/// Runs the migration (or, with `--verify-only`, the comparison alone) and reports it.
pub async fn migrate(json: bool, args: MigrateArgs) -> anyhow::Result<()> {
    let mut printer = ProgressPrinter::default();
    let mut show = |progress: Progress<'_>| printer.show(progress);
    let report = if args.verify_only {
        transfer::verify(&args.from, &args.to, &mut show).await
    } else {
        transfer::migrate(&args.from, &args.to, &mut show).await
    }
    .context("hypnos admin migrate")?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
    }
    let differing: Vec<&str> = report
        .tables
        .iter()
        .filter(|table| !table.matches)
        .map(|table| table.table.as_str())
        .collect();
    if !differing.is_empty() {
        anyhow::bail!(
            "hypnos admin migrate: the row counts or checksums of {} differ between the two \
             databases{}",
            differing.join(", "),
            if args.verify_only {
                ""
            } else {
                "; nothing was written to the target (the copy was rolled back)"
            }
        );
    }
    if !json {
        println!(
            "{}",
            if args.verify_only {
                "Every copied table matches."
            } else {
                "Every table matches; the copy is committed. Start the server with \
                 --database set to the PostgreSQL URL."
            }
        );
    }
    Ok(())
}

/// The report as a text table.
fn table(report: &Report) -> String {
    let mut out = format!(
        "{:<20} {:>10} {:>10}  {}\n",
        "table", "source", "target", "checksum"
    );
    for table in &report.tables {
        let target = table
            .target_rows
            .map_or_else(|| "-".to_owned(), |rows| rows.to_string());
        let verdict = match (&table.skipped_because, &table.source_checksum) {
            (Some(reason), _) => format!("skipped: {reason}"),
            (None, Some(checksum)) if table.matches => {
                format!("match (sha256 {})", &checksum[..16.min(checksum.len())])
            }
            (None, _) => "MISMATCH".to_owned(),
        };
        out.push_str(&format!(
            "{:<20} {:>10} {:>10}  {verdict}\n",
            table.table, table.source_rows, target
        ));
    }
    out
}

/// Progress on stderr: per table, a line when it starts and ends, and between them at most
/// one a second.
#[derive(Default)]
struct ProgressPrinter {
    last: Option<Instant>,
}

impl ProgressPrinter {
    fn show(&mut self, progress: Progress<'_>) {
        match progress {
            Progress::Copying {
                table,
                copied,
                total,
            } => {
                let edge = copied == 0 || copied >= total;
                let due = self
                    .last
                    .is_none_or(|last| last.elapsed() >= Duration::from_secs(1));
                if edge || due {
                    eprintln!("copying {table}: {copied}/{total} rows");
                    self.last = Some(Instant::now());
                }
            }
            Progress::Skipped {
                table,
                rows,
                reason,
            } => eprintln!("skipping {table} ({rows} rows): {reason}"),
            Progress::Verifying { table } => eprintln!("verifying {table}"),
        }
    }
}
