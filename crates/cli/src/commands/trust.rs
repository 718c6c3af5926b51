//! Which public keys the client encrypts project keys to: every teammate's key is checked
//! against the fingerprint pinned on this machine (`pins.json`), the defence the app lacks
//! against a server that hands out another key or another account.
//!
//! A key this machine has never pinned is *new*: the client shows its fingerprint and shares
//! to it only once the user has confirmed it, by `hypnos keys trust EMAIL FINGERPRINT` (after
//! comparing it with the teammate, who runs `hypnos keys fingerprint`), by answering yes when
//! asked on a terminal, or by `--accept-new-key`. A key that differs from the pinned one, or an
//! account whose e-mail differs from the one pinned, is refused the same way.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context as _, bail};
use hypnos_client::crypto::rsa::RsaPublicKey;

use crate::state::{Pin, Pins};

/// The user's answer to a key the pins do not vouch for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum NewKeys {
    /// Refuse unless a terminal is there to ask on.
    Ask,
    /// `--accept-new-key`: pin what the server gives.
    Accept,
}

impl NewKeys {
    /// From the `--accept-new-key` flag.
    pub fn from_flag(accept_new_key: bool) -> Self {
        if accept_new_key {
            Self::Accept
        } else {
            Self::Ask
        }
    }
}

/// Vets the public keys one command encrypts to.
pub struct Vetter {
    /// The pins, changed as keys are accepted (saved by the command once it succeeded).
    pub pins: Pins,
    new_keys: NewKeys,
    /// The caller's own account id and the fingerprint of its key (from its private key, not
    /// from the server).
    me: (String, String),
}

/// A fingerprint as people type it: lower case, groups of four hex digits split by spaces.
pub fn normalize_fingerprint(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex.as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Vetter {
    /// A vetter for the caller (`me`: its account id and own public key).
    pub fn new(pins: Pins, new_keys: NewKeys, me: (&str, &RsaPublicKey)) -> Self {
        Self {
            pins,
            new_keys,
            me: (me.0.to_owned(), me.1.fingerprint()),
        }
    }

    /// Checks the key the server gives for `account_id` (whose e-mail the server says is
    /// `email`, when known) before anything is encrypted to it.
    pub fn vet(
        &mut self,
        account_id: &str,
        email: Option<&str>,
        public_key: &RsaPublicKey,
    ) -> anyhow::Result<()> {
        let print = public_key.fingerprint();
        let email = email.map(|email| email.trim().to_lowercase());
        let who = email.clone().unwrap_or_else(|| account_id.to_owned());
        if account_id == self.me.0 {
            // Our own key: the one our private key belongs to, whatever the server says.
            if print != self.me.1 {
                bail!(
                    "the server gives your own account a public key that is not yours ({print}, \
                     yours is {}): nothing was shared",
                    self.me.1
                );
            }
            return Ok(());
        }
        let accept = self.new_keys == NewKeys::Accept;
        if let Some(email) = &email
            && let Some((other, _)) = self
                .pins
                .iter()
                .find(|(id, pin)| *id != account_id && pin.email.as_deref() == Some(email))
            && !accept
        {
            bail!(
                "{email} was pinned here as account {other}, but the server now says it is \
                 account {account_id}: nothing was shared. If they made a new account, compare \
                 fingerprints with them (they run: hypnos keys fingerprint) and run \
                 hypnos keys trust {email} FINGERPRINT, or run again with --accept-new-key."
            );
        }
        match self.pins.get(account_id) {
            Some(pin) if pin.fingerprint != print => {
                if !accept {
                    bail!(
                        "{who}'s public key changed since you pinned it (pinned {}, now {print}). \
                         Nothing was shared. If they reset their account, compare fingerprints \
                         with them (they run: hypnos keys fingerprint) and run again with \
                         --accept-new-key (or hypnos keys trust {who} '{print}').",
                        pin.fingerprint
                    );
                }
            }
            Some(Pin {
                email: Some(pinned),
                ..
            }) if email.as_ref().is_some_and(|email| email != pinned) && !accept => {
                bail!(
                    "account {account_id} was pinned here as {pinned}, but the server now says it \
                     is {who}: nothing was shared (run again with --accept-new-key if they \
                     changed their e-mail)."
                );
            }
            Some(_) => {}
            None if accept => {}
            None if confirm_on_terminal(&who, account_id, &print)? => {}
            None => {
                bail!(
                    "{who}'s public key is new to this machine (account {account_id}, fingerprint \
                     {print}). Nothing was shared. Compare the fingerprint with them (they run: \
                     hypnos keys fingerprint), then trust it: hypnos keys trust {who} '{print}' \
                     (or run again with --accept-new-key; on a terminal you are asked instead)."
                );
            }
        }
        let email = email.or_else(|| self.pins.get(account_id).and_then(|pin| pin.email.clone()));
        self.pins.insert(
            account_id.to_owned(),
            Pin {
                fingerprint: print,
                email,
            },
        );
        Ok(())
    }
}

/// Asks on the terminal whether to trust a new key; `false` without a terminal.
fn confirm_on_terminal(who: &str, account_id: &str, print: &str) -> anyhow::Result<bool> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(false);
    }
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "{who}'s public key is new to this machine (account {account_id}).\n  fingerprint: \
         {print}\nCompare it with them (they run: hypnos keys fingerprint). Is it theirs? [y/N] "
    );
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may panic")]

    use super::*;

    use hypnos_client::crypto::rsa::RsaPrivateKey;

    fn key() -> RsaPublicKey {
        RsaPrivateKey::generate().unwrap().public_key().unwrap()
    }

    /// New keys need the user's word; pinned ones pass; a changed key, an e-mail now naming
    /// another account, or an account now under another e-mail are refused; the caller's own
    /// account must carry its own key.
    #[test]
    fn keys_are_vetted_against_the_pins() {
        let (mine, bob, bob_again, mallory) = (key(), key(), key(), key());
        let mut vetter = Vetter::new(Pins::new(), NewKeys::Ask, ("acct_me", &mine));
        vetter.vet("acct_me", None, &mine).unwrap();
        let refused = vetter.vet("acct_me", None, &bob).unwrap_err().to_string();
        assert!(refused.contains("not yours"), "{refused}");

        let refused = vetter
            .vet("acct_bob", Some("bob@example.com"), &bob)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("new to this machine"), "{refused}");
        assert!(refused.contains(&bob.fingerprint()), "{refused}");
        assert!(vetter.pins.is_empty());

        let mut accepting = Vetter::new(Pins::new(), NewKeys::Accept, ("acct_me", &mine));
        accepting
            .vet("acct_bob", Some("bob@example.com"), &bob)
            .unwrap();
        let mut vetter = Vetter::new(accepting.pins, NewKeys::Ask, ("acct_me", &mine));
        vetter
            .vet("acct_bob", Some("bob@example.com"), &bob)
            .unwrap();
        vetter.vet("acct_bob", None, &bob).unwrap();
        let refused = vetter
            .vet("acct_bob", Some("bob@example.com"), &bob_again)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("changed since you pinned it"), "{refused}");
        let refused = vetter
            .vet("acct_mallory", Some("bob@example.com"), &mallory)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("was pinned here as account acct_bob"),
            "{refused}"
        );
        let refused = vetter
            .vet("acct_bob", Some("mallory@example.com"), &bob)
            .unwrap_err()
            .to_string();
        assert!(
            refused.contains("was pinned here as bob@example.com"),
            "{refused}"
        );
        assert_eq!(vetter.pins["acct_bob"].fingerprint, bob.fingerprint());
    }

    #[test]
    fn fingerprints_are_normalized() {
        assert_eq!(
            normalize_fingerprint("ABCD-ef01:2345 6789"),
            "abcd ef01 2345 6789"
        );
    }
}
