//! The SMTP connection: lettre's tokio transport over rustls (aws-lc-rs), built once from the
//! `--smtp-…` settings, one connection per message (mail here is rare: no pool to keep alive).

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Tls, TlsParameters},
    },
};

use super::{Letter, MailError};
use crate::config::{MailConfig, SmtpTls};

/// Each step of the SMTP exchange (connecting, each command) must answer within this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// A whole message, connection to QUIT, must be through within this long.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// The configured SMTP server and sender.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    /// The sender of `config`, or `None` without `--smtp-host`. Reads the password file now:
    /// a file that cannot be read is an error, so that the server refuses to start rather than
    /// fail at its first mail.
    pub fn new(config: &MailConfig) -> Result<Option<Self>, MailError> {
        let Some(host) = &config.smtp_host else {
            return Ok(None);
        };
        config.validate().map_err(MailError::Setting)?;
        let from = config
            .smtp_from
            .as_deref()
            .unwrap_or_default()
            .parse::<Mailbox>()
            .map_err(|err| MailError::Setting(format!("--smtp-from: {err}")))?;
        let tls = match config.smtp_tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.port())
            .tls(tls)
            .timeout(Some(STEP_TIMEOUT));
        if let (Some(user), Some(path)) = (&config.smtp_user, &config.smtp_password_file) {
            let password = read_password(path)?;
            builder = builder.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Some(Self {
            transport: builder.build(),
            from,
        }))
    }

    /// Sends one letter, within [`SEND_TIMEOUT`].
    pub async fn send(&self, letter: Letter) -> Result<(), MailError> {
        let to = letter
            .to
            .parse::<lettre::Address>()
            .map_err(|_| MailError::Recipient(letter.to.clone()))?;
        // The subject is made one line by `messages`; lettre encodes what is not ASCII.
        let message = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(letter.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(letter.body)?;
        tokio::time::timeout(SEND_TIMEOUT, self.transport.send(message))
            .await
            .map_err(|_| MailError::Timeout(SEND_TIMEOUT))??;
        Ok(())
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_owned()).map_err(|err| MailError::Setting(format!("TLS: {err}")))
}

/// The password file's content without one final newline (`\n` or `\r\n`), as `echo` or an
/// editor leaves it.
fn read_password(path: &std::path::Path) -> Result<String, MailError> {
    let mut password = std::fs::read_to_string(path).map_err(|source| MailError::PasswordFile {
        path: path.to_owned(),
        source,
    })?;
    if password.ends_with('\n') {
        password.pop();
        if password.ends_with('\r') {
            password.pop();
        }
    }
    Ok(password)
}
