//! Every request's id: made here (or taken from a trusted reverse proxy), carried by the
//! request's log span, so that every log line of the request names it, and returned to the
//! client in the `X-Request-Id` header, so that a user's report can be matched with the logs.

use std::{net::SocketAddr, sync::Arc};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use ipnet::IpNet;

/// The header that carries the id both ways.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id taken from a proxy: longer ones are replaced (a log field stays short).
const MAX_FORWARDED_LEN: usize = 64;

/// A request's id, in the request's extensions for handlers that want it.
#[derive(Clone, Debug)]
pub struct RequestId(pub HeaderValue);

/// The middleware: gives the request its id before the trace layer makes the request's span
/// (which reads the header), and puts it on the response.
///
/// An id that came with the request is kept only from a trusted proxy (`--trusted-proxies`,
/// which may set one to follow a request through its own logs too) and only if it is short and
/// plain (letters, digits, `-`, `_`, `.`); any other client's is replaced, since it could make
/// one request's log lines pass for another's.
pub async fn assign(
    State(trusted): State<Arc<[IpNet]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let forwarded = request
        .headers()
        .get(&HEADER)
        .filter(|value| acceptable(value))
        .filter(|_| from_trusted_proxy(&request, &trusted))
        .cloned();
    let id = match forwarded {
        Some(id) => id,
        None => {
            let id = fresh();
            request.headers_mut().insert(HEADER, id.clone());
            id
        }
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, id);
    response
}

/// Whether the connection comes from a trusted proxy: the proxies whose `X-Forwarded-For` is
/// believed (`extract::client_address`) are believed about the request id too.
fn from_trusted_proxy(request: &Request, trusted: &[IpNet]) -> bool {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() else {
        return false;
    };
    let peer = peer.ip().to_canonical();
    trusted.iter().any(|network| network.contains(&peer))
}

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_FORWARDED_LEN
        && bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

/// A new id: 16 hex digits of randomness, unique across processes without coordination.
fn fresh() -> HeaderValue {
    // The system generator does not fail on the platforms served; should it, an id made of the
    // clock still tells requests apart in a log.
    let bytes = hypnos_crypto::random::bytes::<8>()
        .unwrap_or_else(|_| crate::state::now_ms().to_be_bytes());
    HeaderValue::from_str(&hypnos_crypto::encoding::to_hex(&bytes))
        .expect("hex digits are a valid header value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_acceptable() {
        for good in ["abc", "req-1_2.3", &"a".repeat(64)] {
            assert!(
                acceptable(&HeaderValue::from_str(good).expect("a valid header value")),
                "{good}"
            );
        }
        for bad in ["", "a b", "x\ty", "é", "a;b", &"a".repeat(65)] {
            let value = HeaderValue::from_bytes(bad.as_bytes()).expect("a valid header value");
            assert!(!acceptable(&value), "{bad:?}");
        }
    }

    #[test]
    fn fresh_ids_differ() {
        let first = fresh();
        assert_eq!(first.len(), 16);
        assert_ne!(first, fresh());
    }
}
