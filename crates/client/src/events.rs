//! An organization's event stream (`GET /v1/teams/{org}/streams`): the server-sent events the
//! app listens to, as typed [`Event`]s.
//!
//! The server is not trusted to behave. A line or an event's data longer than [`MAX_LINE`]
//! ends the stream with [`ClientError::Protocol`], so what this side holds at once is bounded
//! by that and one chunk read off the connection; a stream that sends nothing, not even its
//! keep-alive comments, for [`DEFAULT_IDLE`] is given up as lost. Comments, `id:` and `retry:`
//! fields, named events and data that is not one of the [`Event`]s this library knows are
//! skipped (the data counted in [`EventStream::skipped`]): the newer servers' event types must pass
//! unharmed, and a malformed event can do no more harm skipped than one the server withheld,
//! which it may always do. Whoever must not miss a change re-reads after each reconnection.
//!
//! The parser is our own, some sixty lines of the WHATWG rules (CR, LF or CRLF line ends, split
//! anywhere between chunks; a leading BOM; `data` lines joined with LF; a blank line
//! dispatches): the maintained crates (`eventsource-stream`) buffer a line or an event without
//! bound.

use std::{collections::VecDeque, time::Duration};

use hypnos_crypto::{encoding::encode_uri_component, wire::events::Event};

use crate::api::{Api, ClientError, Unavailable};

pub use hypnos_crypto::wire::events;

/// The longest line, and the longest data of one event, accepted (64 KiB). The server's events
/// carry ids only: a few hundred bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// A stream silent this long (the server sends a comment every 20 s) is given up as lost.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Why the parser gave up on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversize {
    /// A line longer than [`MAX_LINE`].
    Line,
    /// An event whose data lines together exceed [`MAX_LINE`].
    Event,
}

impl std::fmt::Display for Oversize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self {
            Self::Line => "a line",
            Self::Event => "an event's data",
        };
        write!(f, "{what} of the event stream exceeds {MAX_LINE} bytes")
    }
}

/// The server-sent-event parser: bytes in, the data of each unnamed (`message`) event out.
#[derive(Debug, Default)]
pub struct Parser {
    /// The line being read (without its end).
    line: Vec<u8>,
    /// The event's data so far (its lines, each followed by LF).
    data: Vec<u8>,
    /// Whether a `data` field was seen since the last dispatch.
    has_data: bool,
    /// The event has an `event:` name other than `message`: not for us.
    named: bool,
    /// The last line ended with CR: an LF right after it belongs to that end.
    after_cr: bool,
    /// The first line was read (a BOM is skipped at its start only).
    past_first: bool,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `chunk`, appending the data of each event it completes to `out`.
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut VecDeque<Vec<u8>>) -> Result<(), Oversize> {
        while !chunk.is_empty() {
            if self.after_cr && chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
            self.after_cr = false;
            match chunk.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(end) => {
                    self.extend_line(&chunk[..end])?;
                    self.after_cr = chunk[end] == b'\r';
                    chunk = &chunk[end + 1..];
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line, out)?;
                    // The allocation is reused for the next line.
                    self.line = line;
                    self.line.clear();
                }
                None => {
                    self.extend_line(chunk)?;
                    chunk = &[];
                }
            }
        }
        Ok(())
    }

    fn extend_line(&mut self, bytes: &[u8]) -> Result<(), Oversize> {
        if self.line.len() + bytes.len() > MAX_LINE {
            return Err(Oversize::Line);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// One whole line: a field, a comment, or the blank line that dispatches the event.
    fn line_done(&mut self, line: &[u8], out: &mut VecDeque<Vec<u8>>) -> Result<(), Oversize> {
        let line = if self.past_first {
            line
        } else {
            self.past_first = true;
            line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line)
        };
        if line.is_empty() {
            if self.has_data && !self.named {
                let mut data = std::mem::take(&mut self.data);
                data.pop(); // the LF after the last line
                out.push_back(data);
            }
            self.data.clear();
            self.has_data = false;
            self.named = false;
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // a comment: the keep-alives
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > MAX_LINE {
                    return Err(Oversize::Event);
                }
                self.data.extend_from_slice(value);
                self.data.push(b'\n');
                self.has_data = true;
            }
            b"event" => self.named = !value.is_empty() && value != b"message",
            // `id`, `retry` and unknown fields change nothing here.
            _ => {}
        }
        Ok(())
    }
}

/// An open event stream of one organization. [`EventStream::next_event`] (or the
/// [`futures_util::Stream`] of [`EventStream::into_stream`]) gives its events; `None` when the
/// server ended it. After an error the stream is over.
pub struct EventStream {
    response: Option<reqwest::Response>,
    parser: Parser,
    ready: VecDeque<Vec<u8>>,
    idle: Duration,
    skipped: u64,
}

impl Api {
    /// Opens the event stream of organization `org` as the holder of `session`. A refusal (not a
    /// member: [`ClientError::NoAccess`]; the session ended: [`ClientError::Unauthorized`]; the
    /// server holds its most streams: [`Unavailable::Busy`]) comes back here, before any event.
    pub async fn events(&self, session: &str, org: &str) -> Result<EventStream, ClientError> {
        let path = format!("/v1/teams/{}/streams", encode_uri_component(org));
        let request = self
            .request(reqwest::Method::GET, &path, Some(session))
            .header(reqwest::header::ACCEPT, "text/event-stream");
        let response = tokio::time::timeout(DEFAULT_IDLE, async {
            crate::api::check(request.send().await?).await
        })
        .await
        .map_err(|_| Unavailable::Silent(DEFAULT_IDLE))??;
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !kind.starts_with("text/event-stream") {
            return Err(ClientError::Protocol(format!(
                "the event stream answered {kind:?}, not text/event-stream"
            )));
        }
        Ok(EventStream {
            response: Some(response),
            parser: Parser::new(),
            ready: VecDeque::new(),
            idle: DEFAULT_IDLE,
            skipped: 0,
        })
    }
}

impl EventStream {
    /// Gives the stream up as lost after `idle` without a byte from the server (default
    /// [`DEFAULT_IDLE`]).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How many events' data were skipped: of a type this library does not know, or
    /// malformed (named events, which are not the app's, are not counted).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The next event; `None` once the server ended the stream (or after an error). A lost
    /// connection or a silent server is [`ClientError::Unavailable`], an oversized line
    /// [`ClientError::Protocol`].
    pub async fn next_event(&mut self) -> Option<Result<Event, ClientError>> {
        loop {
            while let Some(data) = self.ready.pop_front() {
                match serde_json::from_slice::<Event>(&data) {
                    Ok(event) => return Some(Ok(event)),
                    Err(_) => self.skipped += 1,
                }
            }
            let response = self.response.as_mut()?;
            let chunk = match tokio::time::timeout(self.idle, response.chunk()).await {
                Ok(Ok(Some(chunk))) => chunk,
                Ok(Ok(None)) => {
                    self.response = None;
                    return None;
                }
                Ok(Err(err)) => return Some(Err(self.fail(err.into()))),
                Err(_) => return Some(Err(self.fail(Unavailable::Silent(self.idle).into()))),
            };
            if let Err(oversize) = self.parser.feed(&chunk, &mut self.ready) {
                return Some(Err(self.fail(ClientError::Protocol(oversize.to_string()))));
            }
        }
    }

    /// Ends the stream with `error`.
    fn fail(&mut self, error: ClientError) -> ClientError {
        self.response = None;
        self.ready.clear();
        error
    }

    /// The stream as a [`futures_util::Stream`] of events.
    pub fn into_stream(self) -> impl futures_util::Stream<Item = Result<Event, ClientError>> {
        futures_util::stream::unfold(self, |mut stream| async move {
            let item = stream.next_event().await?;
            Some((item, stream))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may panic")]
mod tests {
    use super::*;

    /// The data of the events `chunks` complete, fed one chunk at a time.
    fn parse(chunks: &[&[u8]]) -> Result<Vec<String>, Oversize> {
        let mut parser = Parser::new();
        let mut out = VecDeque::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out)?;
        }
        Ok(out
            .into_iter()
            .map(|data| String::from_utf8(data).unwrap_or_default())
            .collect())
    }

    const STREAM: &str = "\u{feff}retry: 2000\n\n:keepalive\n\ndata: {\"a\":1}\n\n\
        : a comment\nid: 7\ndata:{\"b\"\ndata:  :2}\n\nevent: presence\ndata: named\n\n\
        event: message\ndata: x\n\ndata\n\nunknown: field\ndata: last\n\ndata: cut off";

    #[test]
    fn events_are_read_whatever_the_chunks_and_line_ends() {
        let expected = vec!["{\"a\":1}", "{\"b\"\n :2}", "x", "", "last"];
        for end in ["\n", "\r\n", "\r"] {
            let text = STREAM.replace('\n', end);
            let bytes = text.as_bytes();
            assert_eq!(parse(&[bytes]).unwrap(), expected, "{end:?}");
            // Split at every byte, and into single bytes.
            for at in 0..bytes.len() {
                assert_eq!(
                    parse(&[&bytes[..at], &bytes[at..]]).unwrap(),
                    expected,
                    "{end:?} split at {at}"
                );
            }
            let singles: Vec<&[u8]> = bytes.chunks(1).collect();
            assert_eq!(parse(&singles).unwrap(), expected, "{end:?} byte by byte");
        }
    }

    #[test]
    fn comments_and_fields_alone_dispatch_nothing() {
        assert_eq!(
            parse(&[b":keepalive\n\n:keepalive\r\n\r\nretry: 10\nid: 1\n\n\n\n"]).unwrap(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_line_or_an_event_too_long_is_refused_however_it_arrives() {
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(parse(&[&long]), Err(Oversize::Line));
        let halves: Vec<&[u8]> = long.chunks(MAX_LINE / 2 + 1).collect();
        assert_eq!(parse(&halves), Err(Oversize::Line));
        // A comment is a line too.
        let mut comment = b":".to_vec();
        comment.extend_from_slice(&long);
        assert_eq!(parse(&[&comment]), Err(Oversize::Line));
        // Many short data lines of one event.
        let line = format!("data: {}\n", "y".repeat(1000));
        let many = line.repeat(MAX_LINE / 1000 + 1);
        assert_eq!(parse(&[many.as_bytes()]), Err(Oversize::Event));
        // At the bound, accepted.
        let mut exact = b"data:".to_vec();
        exact.extend_from_slice(&vec![b'z'; MAX_LINE - 5]);
        exact.extend_from_slice(b"\n\n");
        assert_eq!(parse(&[&exact]).unwrap()[0].len(), MAX_LINE - 5);
    }

    #[test]
    fn a_long_stream_of_short_events_holds_no_more_than_a_line() {
        let mut parser = Parser::new();
        let mut out = VecDeque::new();
        for _ in 0..10_000 {
            parser.feed(b"data: {}\n\n:keepalive\n", &mut out).unwrap();
            assert_eq!(out.pop_front().as_deref(), Some(&b"{}"[..]));
        }
        assert!(parser.line.capacity() <= MAX_LINE && parser.data.capacity() <= MAX_LINE);
    }
}
