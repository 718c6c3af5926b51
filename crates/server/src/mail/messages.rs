//! One function per message the server sends: short plain text that names the server, says
//! what happened and what to do. Text a user chose (names, organization names) is made one
//! line without control characters ([`one_line`]) before it goes anywhere near a header or the
//! body, so that it cannot add headers or forge lines. No message holds a session id, a key or
//! a ciphertext; only the operator's reset-token message holds a secret, the token it exists to
//! deliver.

use std::{
    net::IpAddr,
    time::{Duration, UNIX_EPOCH},
};

use super::{Letter, ServerIdentity};

/// The longest piece of user text a message quotes, in characters.
const MAX_QUOTED_CHARS: usize = 100;

/// `text` as one line: every control character (line breaks, tabs, escapes) becomes a space,
/// runs of spaces become one, and the result is trimmed and cut to [`MAX_QUOTED_CHARS`].
pub fn one_line(text: &str) -> String {
    let spaced: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let joined = spaced.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() > MAX_QUOTED_CHARS {
        let cut: String = joined.chars().take(MAX_QUOTED_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        joined
    }
}

/// A person as the messages name them: "First Last <email>", or the e-mail alone.
fn person(first: &str, last: &str, email: &str) -> String {
    let name = one_line(&format!("{first} {last}"));
    let email = one_line(email);
    if name.is_empty() {
        email
    } else {
        format!("{name} <{email}>")
    }
}

/// A moment (unix ms) in UTC, to the second: `2026-11-29 17:30:00 UTC`.
fn utc(ms: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let text = humantime::format_rfc3339_seconds(time).to_string();
    format!("{} UTC", text.trim_end_matches('Z').replace('T', " "))
}

/// The closing lines of every message.
fn signature(server: &ServerIdentity) -> String {
    format!(
        "\n-- \n{} ({})\nThis message was sent by the server; do not reply to it.\n",
        server.name, server.url
    )
}

/// What [`invitation`] tells.
pub struct InvitationFacts<'a> {
    /// The invitation's id (`hypnos invites accept ID`).
    pub id: &'a str,
    /// The organization's name.
    pub organization: &'a str,
    /// The role offered (`member`, `admin`, …).
    pub role: &'a str,
    /// The inviter's first name, last name and e-mail.
    pub inviter: (&'a str, &'a str, &'a str),
    /// The invitee's e-mail: the recipient.
    pub invitee_email: &'a str,
    /// When the invitation expires (unix ms).
    pub expires_at: i64,
}

/// To the invitee: who invited them to which organization, and how to accept.
pub fn invitation(server: &ServerIdentity, facts: &InvitationFacts<'_>) -> Letter {
    let (first, last, email) = facts.inviter;
    let inviter = person(first, last, email);
    let organization = one_line(facts.organization);
    let role = one_line(facts.role);
    let body = format!(
        "Hello,\n\
         \n\
         {inviter} invited you to join the organization \"{organization}\" on {name} as {role}.\n\
         \n\
         To accept, open the Insomnia app connected to {url}, log in as {invitee}, and accept\n\
         the invitation. Or with the command line:\n\
         \n\
         \x20   hypnos --server {url} invites\n\
         \x20   hypnos --server {url} invites accept {id}\n\
         \n\
         The invitation expires on {expires}. If you did not expect it, decline it or let it\n\
         expire.\n",
        name = server.name,
        url = server.url,
        invitee = one_line(facts.invitee_email),
        id = one_line(facts.id),
        expires = utc(facts.expires_at),
    );
    Letter {
        kind: "invitation",
        to: facts.invitee_email.to_owned(),
        // Each part is one line already; the whole is not cut.
        subject: format!("{inviter} invited you to {organization} on {}", server.name),
        body: body + &signature(server),
    }
}

/// To the account whose passphrase changed: when, from which address, and what to do if it was
/// not its owner. `new_email` is the account's e-mail after the change when it changed too.
pub fn passphrase_changed(
    server: &ServerIdentity,
    email: &str,
    new_email: Option<&str>,
    at: i64,
    client: IpAddr,
) -> Letter {
    let moved = match new_email {
        Some(new_email) => format!(
            "The account's e-mail was changed too, to {}.\n\n",
            one_line(new_email)
        ),
        None => String::new(),
    };
    let body = format!(
        "Hello,\n\
         \n\
         The passphrase of your account {account} on {name} ({url}) was changed on {when},\n\
         from the address {client}. Your other sessions were logged out.\n\
         \n\
         {moved}\
         If this was you, there is nothing to do. If this was not you, tell your operator (the\n\
         person who runs {name}) at once: someone who knows your passphrase may hold your\n\
         account.\n",
        account = one_line(email),
        name = server.name,
        url = server.url,
        when = utc(at),
    );
    Letter {
        kind: "passphrase-changed",
        to: email.to_owned(),
        subject: format!("Your passphrase on {} was changed", server.name),
        body: body + &signature(server),
    }
}

/// To an account's owner, from the operator: the one-time token that resets a lost passphrase.
pub fn reset_token(server: &ServerIdentity, email: &str, token: &str, expires_at: i64) -> Letter {
    let account = one_line(email);
    let body = format!(
        "Hello,\n\
         \n\
         The operator of {name} ({url}) made a one-time token with which you can set a new\n\
         passphrase for your account {account}. It works once, until {expires}:\n\
         \n\
         \x20   {token}\n\
         \n\
         With the command line:\n\
         \n\
         \x20   hypnos --server {url} account reset --email {account} --token {token}\n\
         \n\
         A reset makes new keys: your teammates then share their projects with you again\n\
         (hypnos share). If you did not ask for this, tell your operator; the token expires\n\
         by itself.\n",
        name = server.name,
        url = server.url,
        expires = utc(expires_at),
    );
    Letter {
        kind: "reset-token",
        to: email.to_owned(),
        subject: format!("Reset your passphrase on {}", server.name),
        body: body + &signature(server),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_removes_line_breaks_and_controls() {
        assert_eq!(
            one_line("Acme\r\nBcc: x@evil.example"),
            "Acme Bcc: x@evil.example"
        );
        assert_eq!(one_line("  a\u{1b}[31m\tb  "), "a [31m b");
        assert_eq!(one_line(&"x".repeat(500)).chars().count(), MAX_QUOTED_CHARS);
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    }
}
