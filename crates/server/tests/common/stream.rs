//! [`EventStream`]: the app's event stream of one organization (`GET /v1/teams/{org}/streams`),
//! read as the app's EventSource reads it: server-sent events split on blank lines, keep-alive
//! comments and `retry:` skipped, the JSON `data` of unnamed events handed out one at a time.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;

use super::app::Actor;

/// One open stream.
pub struct EventStream {
    response: reqwest::Response,
    /// Bytes received and not yet read as whole events.
    buffer: Vec<u8>,
    /// The server ended the stream (or the connection broke).
    ended: bool,
}

/// One server-sent event: its fields as sent.
#[derive(Debug, Default)]
struct Frame {
    retry: Option<String>,
    event: Option<String>,
    data: Vec<String>,
}

/// How long opening a stream may take to send its first bytes.
const OPENING: Duration = Duration::from_secs(10);

impl EventStream {
    /// `actor`'s stream of `org`, as the app opens it: the answer must be a 200 of
    /// `text/event-stream` whose first event is a `retry:`.
    pub async fn open(actor: &Actor, org: &str) -> Self {
        match Self::try_open(actor, org).await {
            Ok(stream) => stream,
            Err((status, body)) => panic!("the stream of {org} opens: {status} {body}"),
        }
    }

    /// [`EventStream::open`], or the refusal's status and JSON body.
    pub async fn try_open(actor: &Actor, org: &str) -> Result<Self, (StatusCode, Value)> {
        let response = actor
            .request(Method::GET, &format!("/v1/teams/{org}/streams"))
            .header("Accept", "text/event-stream")
            .header("Cache-Control", "no-cache")
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status != StatusCode::OK {
            let text = response.text().await.unwrap();
            let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
            return Err((status, body));
        }
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            kind.starts_with("text/event-stream"),
            "the stream is text/event-stream, not {kind:?}"
        );
        let mut stream = Self {
            response,
            buffer: Vec::new(),
            ended: false,
        };
        let first = stream
            .frame(Instant::now() + OPENING)
            .await
            .expect("the stream sends something first");
        assert!(
            first.retry.is_some() && first.data.is_empty(),
            "the first event is a retry: {first:?}"
        );
        Ok(stream)
    }

    /// The next event's JSON within `within`; `None` if none came or the stream ended.
    pub async fn next(&mut self, within: Duration) -> Option<Value> {
        let deadline = Instant::now() + within;
        loop {
            let frame = self.frame(deadline).await?;
            if frame.data.is_empty() {
                continue;
            }
            assert!(
                frame.event.as_deref().is_none_or(|name| name == "message"),
                "the app reads unnamed events only: {frame:?}"
            );
            let data = frame.data.join("\n");
            return Some(
                serde_json::from_str(&data)
                    .unwrap_or_else(|error| panic!("an event's data is JSON ({error}): {data}")),
            );
        }
    }

    /// Whether the server ends the stream within `within` (events before the end are read
    /// and dropped).
    pub async fn ended(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while self.frame(deadline).await.is_some() {}
        self.ended
    }

    /// The next whole event, reading until `deadline`; `None` at the deadline or at the end.
    async fn frame(&mut self, deadline: Instant) -> Option<Frame> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
                let raw: Vec<u8> = self.buffer.drain(..end + 2).collect();
                return Some(parse(&String::from_utf8(raw).expect("events are UTF-8")));
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return None,
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                // The end, or a connection the server closed under the body.
                Ok(Ok(None) | Err(_)) => self.ended = true,
            }
        }
    }
}

/// One event's lines (`field: value`, `:comment`).
fn parse(text: &str) -> Frame {
    let mut frame = Frame::default();
    for line in text.lines().filter(|line| !line.is_empty()) {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
        match field {
            "retry" => frame.retry = Some(value),
            "event" => frame.event = Some(value),
            "data" => frame.data.push(value),
            _ => {}
        }
    }
    frame
}
