//! HTTP to the server: JSON bodies, the session in `X-Session-Id`, and the server's refusals
//! (an HTTP status with an `{error, message}` body, or a GraphQL error) sorted into
//! [`ClientError`]'s variants by what the caller can do about them, in one place
//! ([`ClientError::refused`]).

use hypnos_crypto::wire::ErrorBody;
use serde::{Serialize, de::DeserializeOwned};

/// The code a GraphQL error without `extensions.code` carries: a refusal of the sync API
/// itself rather than of the REST layer in front of it.
pub const GRAPHQL_CODE: &str = "GRAPHQL";

/// What the server said when it refused a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status (200 for a GraphQL error, 401 for one with code `UNAUTHORIZED`).
    pub status: u16,
    /// The server's code, e.g. `UNAUTHORIZED`, `EMAIL_TAKEN`; [`GRAPHQL_CODE`] for a GraphQL
    /// error without one.
    pub code: String,
    /// The server's sentence.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {})", self.message, self.status, self.code)
    }
}

/// Why the server could not serve a call for now.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// It answered that it is busy or failing (408, 429, 5xx).
    #[error("{0}")]
    Busy(Refusal),
    /// It could not be reached.
    #[error("cannot talk to the server: {0}")]
    Unreachable(reqwest::Error),
    /// It sent nothing for this long on a call that waits for it (an event stream, whose
    /// server sends a comment every 20 s): the connection is taken as lost.
    #[error("the server sent nothing for {} s", .0.as_secs())]
    Silent(std::time::Duration),
}

/// What a client call can fail with, by what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Wrong credentials, or the session ended (401, a GraphQL error with code
    /// `UNAUTHORIZED`): log in again.
    #[error("{0}")]
    Unauthorized(Refusal),
    /// Not the caller's to see or do (403, 404, the sync API's "invalid access"): not a member,
    /// no key, no such thing, or a role that may not.
    #[error("{0}")]
    NoAccess(Refusal),
    /// The server's state moved on (409, the sync API's "not a fast-forward"): read it again
    /// before trying again.
    #[error("{0}")]
    Conflict(Refusal),
    /// The request itself is refused (400, 413, 422 and other 4xx, the sync API's other
    /// errors): sending it again as it is will not help.
    #[error("{0}")]
    InvalidInput(Refusal),
    /// The server is busy, failing or out of reach: try again later.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The server's answer broke the protocol (a wrong SRP proof, an unusable key, an
    /// unreadable body).
    #[error("the server's answer is not acceptable: {0}")]
    Protocol(String),
    /// A local cryptographic step failed (a wrong passphrase cannot unlock the keys, say).
    #[error("{0}")]
    Crypto(#[from] hypnos_crypto::CryptoError),
}

impl ClientError {
    /// The variant for a server's refusal: by its HTTP status, by the REST code a GraphQL
    /// error carries in `extensions.code`, and for the sync API's own errors by the two
    /// sentences the app itself reads ("invalid access", "not a fast-forward").
    pub fn refused(refusal: Refusal) -> Self {
        let graphql = refusal.code == GRAPHQL_CODE;
        match (refusal.status, refusal.code.as_str()) {
            (401, _) | (_, "UNAUTHORIZED") => Self::Unauthorized(refusal),
            (403 | 404, _) | (_, "FORBIDDEN" | "NOT_FOUND") => Self::NoAccess(refusal),
            (409, _) => Self::Conflict(refusal),
            (408 | 429 | 500..=599, _) | (_, "RATE_LIMITED" | "UNAVAILABLE" | "INTERNAL") => {
                Self::Unavailable(Unavailable::Busy(refusal))
            }
            _ if graphql && refusal.message.contains("invalid access") => Self::NoAccess(refusal),
            _ if graphql && refusal.message.contains("not a fast-forward") => {
                Self::Conflict(refusal)
            }
            // A status that is neither a success (a GraphQL error's) nor an error: reqwest
            // follows redirects, so the server broke the protocol.
            (100..=199 | 300..=399, _) => Self::Protocol(refusal.to_string()),
            _ => Self::InvalidInput(refusal),
        }
    }
}

impl From<reqwest::Error> for ClientError {
    /// A body that does not decode broke the protocol; anything else kept the server out of
    /// reach.
    fn from(error: reqwest::Error) -> Self {
        if error.is_decode() {
            Self::Protocol(error.to_string())
        } else {
            Self::Unavailable(Unavailable::Unreachable(error))
        }
    }
}

/// A server's base URL and the HTTP client to reach it.
#[derive(Debug, Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// A client for the server at `base` (e.g. `https://sync.example.com`).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder().build()?,
        })
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// A request to `path`, with the session in `X-Session-Id` when there is one.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        session: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match session {
            Some(session) => request.header("X-Session-Id", session),
            None => request,
        }
    }

    /// `POST path` with a JSON body; the JSON answer.
    pub async fn post<Q: Serialize + ?Sized, A: DeserializeOwned>(
        &self,
        path: &str,
        session: Option<&str>,
        body: &Q,
    ) -> Result<A, ClientError> {
        let request = self
            .request(reqwest::Method::POST, path, session)
            .json(body);
        answer(request.send().await?).await
    }

    /// `GET path`; the JSON answer.
    pub async fn get<A: DeserializeOwned>(
        &self,
        path: &str,
        session: Option<&str>,
    ) -> Result<A, ClientError> {
        let request = self.request(reqwest::Method::GET, path, session);
        answer(request.send().await?).await
    }

    /// `DELETE path` expecting no body back.
    pub async fn delete(&self, path: &str, session: Option<&str>) -> Result<(), ClientError> {
        let request = self.request(reqwest::Method::DELETE, path, session);
        check(request.send().await?).await.map(drop)
    }

    /// `DELETE path` with a JSON body, expecting no body back.
    pub async fn delete_with<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        session: Option<&str>,
        body: &Q,
    ) -> Result<(), ClientError> {
        let request = self
            .request(reqwest::Method::DELETE, path, session)
            .json(body);
        check(request.send().await?).await.map(drop)
    }

    /// `GET /readyz`: `Ok` when the server answers that it can read and write its database (a
    /// health check for containers and load balancers); at most 10 s.
    pub async fn ready(&self) -> Result<(), ClientError> {
        let request = self
            .request(reqwest::Method::GET, "/readyz", None)
            .timeout(std::time::Duration::from_secs(10));
        check(request.send().await?).await.map(drop)
    }

    /// `POST path` expecting no body back (204).
    pub async fn post_empty<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        session: Option<&str>,
        body: &Q,
    ) -> Result<(), ClientError> {
        let request = self
            .request(reqwest::Method::POST, path, session)
            .json(body);
        check(request.send().await?).await.map(drop)
    }
}

impl Api {
    /// One GraphQL operation of the sync API (`POST /graphql`): its `data`, or the first of
    /// its `errors` as a [`ClientError`] (the app reads errors the same way: the first
    /// message, whatever the HTTP status). The server answers every refusal with HTTP 200, a
    /// refused session or body too; those carry the REST code in `extensions.code`, which
    /// becomes the refusal's code (and status 401 for `UNAUTHORIZED`), so a caller tells an
    /// ended session from a refused operation as on any other endpoint. Other errors have code
    /// [`GRAPHQL_CODE`].
    pub async fn graphql(
        &self,
        session: &str,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        let mut answer: serde_json::Value = self
            .post(
                "/graphql",
                Some(session),
                &serde_json::json!({"query": query, "variables": variables}),
            )
            .await?;
        if let Some(error) = answer["errors"]
            .as_array()
            .and_then(|errors| errors.first())
        {
            let code = error["extensions"]["code"].as_str();
            return Err(ClientError::refused(Refusal {
                status: match code {
                    Some("UNAUTHORIZED") => 401,
                    _ => 200,
                },
                code: code.unwrap_or(GRAPHQL_CODE).to_owned(),
                message: error["message"].as_str().unwrap_or("error").to_owned(),
            }));
        }
        Ok(answer["data"].take())
    }
}

/// The response if it is a success, else the server's refusal.
pub(crate) async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    Err(ClientError::refused(match body {
        Some(body) => Refusal {
            status: status.as_u16(),
            code: body.error,
            message: body.message,
        },
        None => Refusal {
            status: status.as_u16(),
            code: "HTTP".into(),
            message: format!("the server answered {status}"),
        },
    }))
}

async fn answer<A: DeserializeOwned>(response: reqwest::Response) -> Result<A, ClientError> {
    Ok(check(response).await?.json().await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, code: &str, message: &str) -> ClientError {
        ClientError::refused(Refusal {
            status,
            code: code.into(),
            message: message.into(),
        })
    }

    /// REST statuses, the REST codes GraphQL errors carry, and the sync API's own sentences
    /// each land on the variant that says what the caller can do; the text stays the server's.
    #[test]
    fn refusals_are_sorted_by_what_the_caller_can_do() {
        assert!(matches!(
            refused(401, "UNAUTHORIZED", "log in"),
            ClientError::Unauthorized(_)
        ));
        assert!(matches!(
            refused(403, "FORBIDDEN", "owner or an admin"),
            ClientError::NoAccess(_)
        ));
        assert!(matches!(
            refused(404, "NOT_FOUND", "no such"),
            ClientError::NoAccess(_)
        ));
        assert!(matches!(
            refused(409, "EMAIL_TAKEN", "taken"),
            ClientError::Conflict(_)
        ));
        for status in [400, 413, 422] {
            assert!(matches!(
                refused(status, "BAD_REQUEST", "no"),
                ClientError::InvalidInput(_)
            ));
        }
        for (status, code) in [
            (429, "RATE_LIMITED"),
            (503, "UNAVAILABLE"),
            (500, "INTERNAL"),
        ] {
            assert!(matches!(
                refused(status, code, "later"),
                ClientError::Unavailable(Unavailable::Busy(_))
            ));
        }
        assert!(matches!(
            refused(200, "PAYLOAD_TOO_LARGE", "too large"),
            ClientError::InvalidInput(_)
        ));
        assert!(matches!(
            refused(200, "RATE_LIMITED", "later"),
            ClientError::Unavailable(Unavailable::Busy(_))
        ));
        // A sync API failure of the server's own carries the REST code for it: worth a retry.
        for code in ["INTERNAL", "UNAVAILABLE"] {
            assert!(matches!(
                refused(
                    200,
                    code,
                    "the server could not complete this request; try again"
                ),
                ClientError::Unavailable(Unavailable::Busy(_))
            ));
        }
        let lost = refused(
            200,
            GRAPHQL_CODE,
            "invalid access: you hold no key for this project",
        );
        assert!(matches!(lost, ClientError::NoAccess(_)));
        assert_eq!(
            lost.to_string(),
            "invalid access: you hold no key for this project (200 GRAPHQL)"
        );
        assert!(matches!(
            refused(200, GRAPHQL_CODE, "not a fast-forward: the branch moved on"),
            ClientError::Conflict(_)
        ));
        assert!(matches!(
            refused(
                200,
                GRAPHQL_CODE,
                "a blob id must be 40 lowercase hex digits"
            ),
            ClientError::InvalidInput(_)
        ));
    }
}
