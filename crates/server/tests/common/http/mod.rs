//! Shared helpers of the HTTP tests: the real server on an ephemeral port, and JSON requests.

pub mod keys;
pub mod users;

use std::net::SocketAddr;

use hypnos_server::{AppState, ServerConfig};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

/// A server on an ephemeral port, stopped when dropped.
pub struct TestServer {
    pub base: String,
    pub config: ServerConfig,
    /// The state the server runs on (its store, for test setup through the store's methods).
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(database_url: &str, per_account_limit: u32) -> Self {
        let mut config = ServerConfig::parse_defaults();
        config.database_url = Some(database_url.to_string());
        config.login_rate_per_account = per_account_limit;
        config.login_rate_per_ip = 10_000;
        Self::start_with(config).await
    }

    /// A server with the given settings (`listen` is ignored: the port is ephemeral).
    pub async fn start_with(config: ServerConfig) -> Self {
        let scheme = if config.tls_cert.is_some() {
            "https"
        } else {
            "http"
        };
        let state = hypnos_server::open(config.clone()).await.unwrap();
        let served = state.clone();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            hypnos_server::run(served, listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            base: format!("{scheme}://{address}"),
            config,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// POSTs JSON; returns the status and the body (JSON, `Null` when empty, a string otherwise).
pub async fn post(http: &Client, url: String, body: Value) -> (StatusCode, Value) {
    answer(http.post(url).json(&body)).await
}

/// Any request, with the session in `X-Session-Id` and a JSON body when given; returns the status
/// and the body as [`post`] does.
pub async fn call(
    http: &Client,
    method: reqwest::Method,
    url: String,
    session: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http.request(method, url).header("X-Session-Id", session);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request).await
}

/// Sends the request; the status and the body (JSON, `Null` when empty, a string otherwise).
async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}
