//! HTTP to the server: JSON bodies, the session in `X-Session-Id`, and the server's
//! `{error, message}` answers turned into [`ClientError::Server`].

use hypnos_crypto::wire::ErrorBody;
use serde::{Serialize, de::DeserializeOwned};

/// What a client call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error: its status, code and sentence.
    #[error("{message} ({status} {code})")]
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's code, e.g. `UNAUTHORIZED`, `EMAIL_TAKEN`.
        code: String,
        /// The server's sentence.
        message: String,
    },
    /// The server could not be reached or answered something unreadable.
    #[error("cannot talk to the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// The server's answer broke the protocol (a wrong SRP proof, an unusable key).
    #[error("the server's answer is not acceptable: {0}")]
    Protocol(String),
    /// A local cryptographic step failed (a wrong passphrase cannot unlock the keys, say).
    #[error("{0}")]
    Crypto(#[from] hypnos_crypto::CryptoError),
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
    fn request(
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
    /// its `errors` as [`ClientError::Server`] (the app reads errors the same way: the first
    /// message, whatever the HTTP status). The server answers every refusal with HTTP 200, a
    /// refused session or body too; those carry the REST code in `extensions.code`, which
    /// becomes the error's code and status (401 for `UNAUTHORIZED`), so a caller tells an ended
    /// session from a refused operation as on any other endpoint. Other errors have code
    /// `GRAPHQL`.
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
            return Err(ClientError::Server {
                status: match code {
                    Some("UNAUTHORIZED") => 401,
                    _ => 200,
                },
                code: code.unwrap_or("GRAPHQL").to_owned(),
                message: error["message"].as_str().unwrap_or("error").to_owned(),
            });
        }
        Ok(answer["data"].take())
    }
}

async fn check(response: reqwest::Response) -> Result<reqwest::Response, ClientError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let text = response.text().await.unwrap_or_default();
    let body: Option<ErrorBody> = serde_json::from_str(&text).ok();
    Err(match body {
        Some(body) => ClientError::Server {
            status: status.as_u16(),
            code: body.error,
            message: body.message,
        },
        None => ClientError::Server {
            status: status.as_u16(),
            code: "HTTP".into(),
            message: format!("the server answered {status}"),
        },
    })
}

async fn answer<A: DeserializeOwned>(response: reqwest::Response) -> Result<A, ClientError> {
    Ok(check(response).await?.json().await?)
}
