//! The background sender: a bounded queue and one task that sends its letters one by one.
//! A request only puts a letter in the queue, without waiting; when the queue is full (the
//! SMTP server has been failing or slow for a long while) the letter is dropped and logged.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Letter, MailError, ServerIdentity, SmtpSender};
use crate::config::MailConfig;

/// Letters waiting to be sent at most; more are dropped (and logged).
pub const QUEUE_CAPACITY: usize = 256;

/// The server's mail: where handlers leave letters. Exists only when `--smtp-host` is set.
#[derive(Clone)]
pub struct Mailer {
    queue: mpsc::Sender<Letter>,
    server: Arc<ServerIdentity>,
}

impl Mailer {
    /// The mailer of `config` with its sending task, or `None` without `--smtp-host`. Fails
    /// when the settings are unusable or the password file cannot be read. Must run inside
    /// the tokio runtime; the task ends when the last clone of the mailer is dropped.
    pub fn start(config: &MailConfig, server: ServerIdentity) -> Result<Option<Self>, MailError> {
        let Some(sender) = SmtpSender::new(config)? else {
            return Ok(None);
        };
        let (queue, letters) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(deliver(letters, sender));
        Ok(Some(Self {
            queue,
            server: Arc::new(server),
        }))
    }

    /// How messages name this server.
    pub fn server(&self) -> &ServerIdentity {
        &self.server
    }

    /// Queues `letter` and returns at once.
    pub fn send_later(&self, letter: Letter) {
        let (kind, to) = (letter.kind, letter.to.clone());
        match self.queue.try_send(letter) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!(kind, %to, "mail dropped: the mail queue is full (is the SMTP server down?)");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!(kind, %to, "mail dropped: the mail task has stopped");
            }
        }
    }
}

/// Sends the queued letters one at a time until every [`Mailer`] is gone. A failure is
/// logged with the letter's kind and recipient and the SMTP error, never the letter's text.
async fn deliver(mut letters: mpsc::Receiver<Letter>, sender: SmtpSender) {
    while let Some(letter) = letters.recv().await {
        let (kind, to) = (letter.kind, letter.to.clone());
        match sender.send(letter).await {
            Ok(()) => tracing::info!(kind, %to, "mail sent"),
            Err(error @ (MailError::Smtp(_) | MailError::Timeout(_))) => {
                tracing::warn!(kind, %to, %error, "mail could not be sent");
            }
            Err(error) => tracing::warn!(kind, %to, %error, "mail could not be made"),
        }
    }
}
