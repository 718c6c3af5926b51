//! What one server process tells every other (and itself) through the store's notices: an event
//! for the streams it concerns, or streams to end. Small JSON, so that a notice fits in
//! PostgreSQL's NOTIFY payload with room to spare.

use hypnos_crypto::{
    encoding::{from_hex_array, to_hex},
    wire::events::Event,
};
use serde::{Deserialize, Serialize};

use crate::storage::SecretHash;

/// A notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notice", rename_all = "snake_case")]
#[allow(
    clippy::large_enum_variant,
    reason = "a notice lives only while it is sent or delivered, one at a time: boxing saves nothing"
)]
pub enum Notice {
    /// An event: for the streams of its organization, or (an event of no organization) for
    /// those of `account`, except those opened with the session `except_session`.
    Event {
        /// The event, as the app reads it.
        event: Event,
        /// The account of an account's own event.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        account: Option<String>,
        /// A session whose streams the event skips (the one that caused it).
        #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_hash")]
        except_session: Option<SecretHash>,
    },
    /// The account is no longer a member of the organization: its streams of it end.
    MemberLeft {
        /// The organization.
        team: String,
        /// The account.
        account: String,
    },
    /// The organization was deleted: every stream of it ends.
    TeamClosed {
        /// The organization.
        team: String,
    },
    /// The account's last stream of the organization closed in one process, which will take
    /// its place when its grace runs out: a process still holding a stream of the account's
    /// in the organization refreshes the place now, so that it stays.
    Departing {
        /// The organization.
        team: String,
        /// The account.
        account: String,
        /// The departing process takes the place if it expires by then (milliseconds since
        /// the epoch); a refresh sets a later expiry, whatever the refreshing process's clock.
        expiring_by: i64,
    },
    /// Sessions of the account ended (log-out, a new passphrase, a reset, the account deleted):
    /// the streams opened with `session`, or with any of them if `None`, end, except those
    /// opened with `keep` (the session that changed the passphrase lives on).
    SessionsEnded {
        /// The account.
        account: String,
        /// The one session that ended; `None`: all of them.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_hash")]
        session: Option<SecretHash>,
        /// A session that did not end.
        #[serde(default, skip_serializing_if = "Option::is_none", with = "hex_hash")]
        keep: Option<SecretHash>,
    },
}

impl Notice {
    /// An event for its organization's streams.
    pub fn event(event: Event) -> Self {
        Self::Event {
            event,
            account: None,
            except_session: None,
        }
    }
}

/// A session hash as hex in a notice (the hash, never the session id itself: the id is a bearer
/// token, the hash is what the database already holds).
mod hex_hash {
    use super::{SecretHash, from_hex_array, to_hex};
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(
        clippy::ref_option,
        reason = "serde's `with` passes a reference to the field"
    )]
    pub fn serialize<S: Serializer>(
        hash: &Option<SecretHash>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match hash {
            Some(hash) => serializer.serialize_some(&to_hex(hash)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SecretHash>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| {
            from_hex_array::<32>(&text, "session hash").map_err(serde::de::Error::custom)
        })
        .transpose()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may panic")]
mod tests {
    use super::*;
    use hypnos_crypto::wire::events::VaultKeyEvent;

    #[test]
    fn notices_survive_the_trip_through_json() {
        let notices = [
            Notice::Event {
                event: Event::VaultKeyChanged(VaultKeyEvent {
                    topic: "acct_1".into(),
                    session_id: String::new(),
                }),
                account: Some("acct_1".into()),
                except_session: Some([7; 32]),
            },
            Notice::MemberLeft {
                team: "org_1".into(),
                account: "acct_1".into(),
            },
            Notice::TeamClosed {
                team: "org_1".into(),
            },
            Notice::Departing {
                team: "org_1".into(),
                account: "acct_1".into(),
                expiring_by: 1_700_000_000_000,
            },
            Notice::SessionsEnded {
                account: "acct_1".into(),
                session: None,
                keep: Some([9; 32]),
            },
        ];
        for notice in notices {
            let text = serde_json::to_string(&notice).unwrap();
            assert!(text.len() < 1000, "{text}");
            assert_eq!(serde_json::from_str::<Notice>(&text).unwrap(), notice);
        }
    }
}
