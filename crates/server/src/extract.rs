//! Request extractors whose failures use the API's error shape: the JSON body, the client's
//! address, and the gate of the authentication endpoints.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Body,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, header, request::Parts},
};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use crate::{error::ApiError, state::AppState};

/// `axum::Json`, but a malformed body answers `{"error","message"}` with 400 (or 413). Behind
/// an [`AuthClient`] the body is read under the small `--auth-max-body-bytes` limit instead of
/// the server-wide one.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let request = match request.extensions().get::<SmallBody>().copied() {
            None => request,
            Some(SmallBody(limit)) => {
                let (parts, body) = request.into_parts();
                let bytes = read_at_most(body, limit).await?;
                Request::from_parts(parts, Body::from(bytes))
            }
        };
        let axum::Json(value) = axum::Json::<T>::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// The body limit an [`AuthClient`] set for the rest of its request.
#[derive(Clone, Copy, Debug)]
struct SmallBody(usize);

/// The whole body, if it holds at most `limit` bytes (413 otherwise, having read no more than
/// `limit` of them).
async fn read_at_most(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ApiError::TooLarge),
        Err(_) => Err(ApiError::BadRequest(
            "the request body could not be read".into(),
        )),
    }
}

/// The client's address: the connection's, or, when the connection comes from a trusted proxy
/// (`--trusted-proxies`), the one that proxy reports in `X-Forwarded-For` (see
/// [`client_address`]). Every rate limit and every log of a client address takes it from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .copied()
            .ok_or_else(|| {
                ApiError::Internal("the server runs without the connections' addresses".into())
            })?;
        Ok(Self(client_address(
            peer.ip(),
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

/// The most `X-Forwarded-For` entries read: more proxies than this in a row is not a real chain.
const MAX_FORWARDED_HOPS: usize = 32;

/// Who sent a request that reached us from `peer`. Only when `peer` is a trusted proxy is
/// `X-Forwarded-For` read, from the right (each proxy appends the address it was reached
/// from): the first address that is not itself a trusted proxy is the client. Entries to its
/// left were written by that client and prove nothing. If the header is missing, unreadable or
/// names only trusted proxies, the last trusted proxy on the way is the client, so a broken
/// chain shares that proxy's budget rather than minting new ones. IPv4-mapped IPv6 addresses
/// count as IPv4.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    let mut client = peer.to_canonical();
    if !is_trusted(&client) {
        return client;
    }
    let mut entries: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            // An unreadable value: believe only what came after it.
            entries.clear();
            continue;
        };
        entries.extend(text.split(','));
    }
    for entry in entries.iter().rev().take(MAX_FORWARDED_HOPS) {
        let Some(address) = parse_forwarded(entry) else {
            break;
        };
        client = address;
        if !is_trusted(&address) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`192.0.2.1:443`,
/// `[2001:db8::1]:443`).
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

/// The gate of an authentication endpoint (`/auth/*`, `/v1/user/vault*`), placed before every
/// other extractor: it counts the request against the client's per-address flood guard (429
/// when over), refuses a declared body above `--auth-max-body-bytes` (413), and has [`Json`] read
/// the body under that limit, all before a byte of the body is read.
#[derive(Clone, Copy, Debug)]
pub struct AuthClient(pub IpAddr);

impl FromRequestParts<AppState> for AuthClient {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ClientAddress(client) = ClientAddress::from_request_parts(parts, state).await?;
        state.limiter.address(client)?;
        let limit = state.config.auth_max_body_bytes;
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(ApiError::TooLarge);
        }
        parts.extensions.insert(SmallBody(limit));
        Ok(Self(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("a test address")
    }

    fn networks(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|text| text.parse().expect("a test network"))
            .collect()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                "x-forwarded-for",
                HeaderValue::from_str(value).expect("a header value"),
            );
        }
        headers
    }

    #[test]
    fn the_header_is_ignored_from_an_untrusted_peer() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &[]),
            ip("198.51.100.1")
        );
        let trusted = networks(&["10.0.0.0/8"]);
        assert_eq!(
            client_address(ip("198.51.100.1"), &headers, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let trusted = networks(&["10.0.0.0/8", "2001:db8:ffff::/48"]);
        // The client spoofed 1.1.1.1; the proxies appended the real client and one another.
        let headers = forwarded(&["1.1.1.1, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("203.0.113.9")
        );
        let headers = forwarded(&["[2001:db8::5]:4711, 2001:db8:ffff::1"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("2001:db8::5")
        );
    }

    #[test]
    fn a_broken_chain_stops_at_the_last_trusted_proxy() {
        let trusted = networks(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        assert_eq!(client_address(peer, &HeaderMap::new(), &trusted), peer);
        assert_eq!(
            client_address(peer, &forwarded(&["203.0.113.9, junk, 10.0.0.3"]), &trusted),
            ip("10.0.0.3")
        );
        assert_eq!(
            client_address(peer, &forwarded(&["10.0.0.3, 10.0.0.4"]), &trusted),
            ip("10.0.0.3")
        );
    }

    #[test]
    fn mapped_addresses_count_as_ipv4() {
        let trusted = networks(&["127.0.0.1/32"]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &forwarded(&["192.0.2.4"]), &trusted),
            ip("192.0.2.4")
        );
    }
}
