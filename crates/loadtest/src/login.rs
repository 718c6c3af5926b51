//! One complete log-in as the app makes it (insomnia-wire.md §2.4): `login-s`, `login-a`,
//! `login-m1` with the server's M2 checked, then `whoami` with the new session.
//!
//! The client's SRP work on B (`ClientHandshake::process`, a 2048-bit exponentiation with a
//! 513-bit exponent) runs on tokio's blocking pool so the runtime keeps driving the other
//! workers' requests.

use hypnos_crypto::{
    encoding::{from_hex, to_hex},
    srp::ClientHandshake,
    wire::auth::{
        LoginARequest, LoginAResponse, LoginM1Request, LoginM1Response, LoginSRequest,
        LoginSResponse, WhoamiResponse,
    },
};
use serde::{Serialize, de::DeserializeOwned};
use std::time::{Duration, Instant};

use crate::account::LoadAccount;

/// The steps of a log-in, named as in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    /// `POST /auth/login-s`.
    LoginS,
    /// `POST /auth/login-a`.
    LoginA,
    /// `POST /auth/login-m1`.
    LoginM1,
    /// `GET /auth/whoami`.
    Whoami,
}

impl Step {
    /// Every step, in the order a log-in makes them (the order of [`RequestTimes`]).
    pub const ALL: [Self; 4] = [Self::LoginS, Self::LoginA, Self::LoginM1, Self::Whoami];

    /// The endpoint's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginS => "login-s",
            Self::LoginA => "login-a",
            Self::LoginM1 => "login-m1",
            Self::Whoami => "whoami",
        }
    }
}

/// Why a log-in did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered a status other than 200.
    Status {
        /// Where.
        step: Step,
        /// The HTTP status code.
        status: u16,
    },
    /// No answer: connecting, sending or reading failed (or timed out).
    Transport {
        /// Where.
        step: Step,
    },
    /// A 200 answer that is wrong: unparsable, other salts, a bad B, a wrong M2, another account.
    Protocol {
        /// Where.
        step: Step,
        /// What was wrong.
        what: &'static str,
    },
}

impl Failure {
    /// The key the report counts this failure under, e.g. `HTTP 429 at login-a`.
    pub fn key(&self) -> String {
        match self {
            Self::Status { step, status } => format!("HTTP {status} at {}", step.name()),
            Self::Transport { step } => format!("transport error at {}", step.name()),
            Self::Protocol { step, what } => format!("{what} at {}", step.name()),
        }
    }
}

/// How long each request of a successful log-in took, from sending to the whole answer read, in
/// [`Step::ALL`] order. The client's own SRP work between the requests is not in them.
pub type RequestTimes = [Duration; 4];

async fn post<Q: Serialize, A: DeserializeOwned>(
    http: &reqwest::Client,
    url: String,
    step: Step,
    body: &Q,
) -> Result<A, Failure> {
    let response = http
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|_| Failure::Transport { step })?;
    answer(response, step).await
}

async fn answer<A: DeserializeOwned>(
    response: reqwest::Response,
    step: Step,
) -> Result<A, Failure> {
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        // Read the body so the connection goes back to the pool.
        let _ = response.bytes().await;
        return Err(Failure::Status {
            step,
            status: status.as_u16(),
        });
    }
    let body = response
        .bytes()
        .await
        .map_err(|_| Failure::Transport { step })?;
    serde_json::from_slice(&body).map_err(|_| Failure::Protocol {
        step,
        what: "unparsable answer",
    })
}

/// A completed log-in: how long its requests took, and the session id it got.
pub struct LoggedIn {
    /// Per request, in [`Step::ALL`] order.
    pub times: RequestTimes,
    /// The session id (hex K), for requests that follow.
    pub session: String,
}

/// Logs in to `account` on the server at `base` and loads the account with the new session.
/// `Ok` only when every step succeeded and the server proved it knows the verifier.
pub async fn log_in(
    http: &reqwest::Client,
    base: &str,
    account: &LoadAccount,
) -> Result<LoggedIn, Failure> {
    let mut times = RequestTimes::default();
    let email = account.email();
    let sent = Instant::now();
    let salts: LoginSResponse = post(
        http,
        format!("{base}/auth/login-s"),
        Step::LoginS,
        &LoginSRequest {
            email: email.to_owned(),
        },
    )
    .await?;
    times[0] = sent.elapsed();
    if !account.salts_match(&salts.salt_key, &salts.salt_auth) {
        return Err(Failure::Protocol {
            step: Step::LoginS,
            what: "other salts than signed up with",
        });
    }

    // g^a on the fixed-base table: about 0.1 ms, cheap enough for the runtime thread.
    let handshake =
        ClientHandshake::begin(account.secret().clone()).map_err(|_| Failure::Protocol {
            step: Step::LoginA,
            what: "no random a",
        })?;
    let sent = Instant::now();
    let started: LoginAResponse = post(
        http,
        format!("{base}/auth/login-a"),
        Step::LoginA,
        &LoginARequest {
            srp_a: to_hex(handshake.a_pub()),
            email: email.to_owned(),
        },
    )
    .await?;
    times[1] = sent.elapsed();
    let b_pub = from_hex(&started.srp_b, "B").map_err(|_| Failure::Protocol {
        step: Step::LoginA,
        what: "B is not hex",
    })?;
    let proof = tokio::task::spawn_blocking(move || handshake.process(&b_pub))
        .await
        .map_err(|_| Failure::Protocol {
            step: Step::LoginA,
            what: "client SRP task failed",
        })?
        .map_err(|_| Failure::Protocol {
            step: Step::LoginA,
            what: "invalid B",
        })?;

    let sent = Instant::now();
    let done: LoginM1Response = post(
        http,
        format!("{base}/auth/login-m1"),
        Step::LoginM1,
        &LoginM1Request {
            srp_m1: to_hex(proof.m1()),
            session_starter_id: started.session_starter_id,
            use_cookies: false,
        },
    )
    .await?;
    times[2] = sent.elapsed();
    let wrong_m2 = Failure::Protocol {
        step: Step::LoginM1,
        what: "wrong M2",
    };
    let m2 = from_hex(&done.srp_m2, "M2").map_err(|_| wrong_m2.clone())?;
    let session = to_hex(proof.verify_server(&m2).map_err(|_| wrong_m2)?.as_ref());

    let sent = Instant::now();
    let response = http
        .get(format!("{base}/auth/whoami"))
        .header("X-Session-Id", &session)
        .send()
        .await
        .map_err(|_| Failure::Transport { step: Step::Whoami })?;
    let me: WhoamiResponse = answer(response, Step::Whoami).await?;
    times[3] = sent.elapsed();
    if me.email != email {
        return Err(Failure::Protocol {
            step: Step::Whoami,
            what: "another account's session",
        });
    }
    Ok(LoggedIn { times, session })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_keys_name_status_and_step() {
        let status = Failure::Status {
            step: Step::LoginA,
            status: 429,
        };
        assert_eq!(status.key(), "HTTP 429 at login-a");
        assert_eq!(
            Failure::Transport { step: Step::Whoami }.key(),
            "transport error at whoami"
        );
    }
}
