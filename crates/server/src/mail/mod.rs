//! Mail (issue 16): when `--smtp-host` is set, an invitation mails the invitee, a passphrase
//! change mails a notice to the account, and `hypnos admin reset-token --mail` mails the token
//! to the account's owner. Without `--smtp-host` no [`Mailer`] exists and none of this runs.
//!
//! `transport.rs` holds the SMTP connection settings (lettre on tokio and rustls with
//! aws-lc-rs), `messages.rs` one function per message, `queue.rs` the background sender.
//! Handlers hand a [`Letter`] to [`Mailer::send_later`] after their change has committed: it
//! never waits, so a slow or dead SMTP server cannot fail, slow or block a request. Only the
//! operator's command sends in the foreground ([`send_now`]), to say where the mail went.

pub mod messages;
mod queue;
mod transport;

use std::{path::PathBuf, time::Duration};

pub use queue::Mailer;
pub use transport::SmtpSender;

use crate::config::MailConfig;

/// One message to send: plain text to one recipient. Built by [`messages`]; what it says is
/// never logged (only its kind and recipient are).
#[derive(Clone)]
pub struct Letter {
    /// What the message is, for the log (`invitation`, `passphrase-changed`, `reset-token`).
    pub kind: &'static str,
    /// The recipient's e-mail address.
    pub to: String,
    /// The subject line, one line without control characters.
    pub subject: String,
    /// The text/plain body.
    pub body: String,
}

impl std::fmt::Debug for Letter {
    /// The kind and recipient only: a body may hold a reset token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Letter")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// How the messages name the server: `--server-name` (else the public URL's host) and the URL
/// users reach it at.
#[derive(Debug, Clone)]
pub struct ServerIdentity {
    /// The name shown.
    pub name: String,
    /// The public URL, without a trailing slash.
    pub url: String,
}

/// What can go wrong with mail. No variant holds a message's body.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `--smtp-host` is not set.
    #[error(
        "mail is not configured: set --smtp-host and --smtp-from (or HYPNOS_SMTP_HOST and HYPNOS_SMTP_FROM)"
    )]
    NotConfigured,
    /// The password file could not be read.
    #[error("cannot read the SMTP password file {}: {source}", path.display())]
    PasswordFile {
        /// The file named by `--smtp-password-file`.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A setting lettre refuses (a sender that does not parse, TLS parameters).
    #[error("invalid mail setting: {0}")]
    Setting(String),
    /// The recipient is not an address a message can go to.
    #[error("{0:?} is not an e-mail address mail can be sent to")]
    Recipient(String),
    /// The message could not be put together.
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    /// The SMTP server refused, failed or could not be reached.
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The SMTP exchange took longer than this.
    #[error("the SMTP server did not finish within {0:?}")]
    Timeout(Duration),
}

/// Sends `letter` now and waits for the SMTP server's answer (`hypnos admin reset-token
/// --mail`, where the operator must learn whether the mail left).
pub async fn send_now(config: &MailConfig, letter: Letter) -> Result<(), MailError> {
    let sender = SmtpSender::new(config)?.ok_or(MailError::NotConfigured)?;
    sender.send(letter).await
}
