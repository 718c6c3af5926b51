//! One connection: the TLS handshake, hyper's HTTP/1.1 server over the timed socket, graceful
//! shutdown, and lingering close.

use std::{
    convert::Infallible, future::Future, net::SocketAddr, pin::Pin, sync::Arc, time::Duration,
};

use axum::{Router, extract::ConnectInfo, http::Request, response::Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
    sync::watch,
};
use tokio_rustls::TlsAcceptor;

use super::{
    ConnectionLimits,
    body::{GuardedBody, ResponseBody, Verdict},
    io::{Phase, TimedIo},
};

/// Lingering close reads and discards at most this much of what the client still sends after
/// the answer (nginx discards without a byte limit; 4 MiB is more than an early-refused body of
/// the sizes the app sends, and bounds the work one refusal can cost)...
const LINGER_MAX_BYTES: usize = 4 * 1024 * 1024;
/// ...for at most this long in all (nginx's `lingering_timeout` default), after which the socket
/// is dropped whatever the client does.
const LINGER_MAX_TIME: Duration = Duration::from_secs(5);

/// What serving one accepted connection needs.
pub(super) struct Connection {
    pub router: Router,
    pub peer: SocketAddr,
    pub limits: Arc<ConnectionLimits>,
    /// Turns true when the server shuts down.
    pub stopping: watch::Receiver<bool>,
}

impl Connection {
    /// Serves requests on `stream` until it closes, times out, or the server stops.
    pub async fn serve(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        // Answers are written whole by hyper; Nagle's delay would only hold the last segment.
        let _ = stream.set_nodelay(true);
        // Each branch is boxed: an async fn's state is as large as its largest branch, and a
        // connection lives for as long as its client keeps it (an event stream, for hours), so
        // a plain connection should not carry the room of a TLS handshake and a TLS stream.
        let Some(acceptor) = tls else {
            return Box::pin(self.serve_http(stream)).await;
        };
        let handshake = Box::pin(acceptor.accept(stream));
        match tokio::time::timeout(self.limits.header_read_timeout, handshake).await {
            Ok(Ok(stream)) => Box::pin(self.serve_http(stream)).await,
            Ok(Err(err)) => {
                tracing::debug!(peer = %self.peer, error = %err, "TLS handshake failed")
            }
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    async fn serve_http<S>(mut self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let phase = Phase::new(
            self.limits.header_read_timeout,
            self.limits.keep_alive_timeout,
        );
        let io = TokioIo::new(TimedIo::new(
            stream,
            phase.clone(),
            self.limits.body_read_timeout,
        ));
        let service = ConnectionService {
            router: self.router.clone(),
            peer: self.peer,
            limits: self.limits.clone(),
            phase: phase.clone(),
        };
        let mut connection = hyper::server::conn::http1::Builder::new()
            // The head timeout is TimedIo's (hyper's would also cut idle connections short).
            .header_read_timeout(None)
            .serve_connection(io, service);
        let mut stopping = false;
        let ended = loop {
            tokio::select! {
                ended = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => {
                    break ended;
                }
                _ = self.stopping.wait_for(|stop| *stop), if !stopping => {
                    // Finish the request in flight, take no other; an idle connection ends now.
                    stopping = true;
                    Pin::new(&mut connection).graceful_shutdown();
                }
            }
        };
        if let Err(err) = &ended {
            tracing::debug!(peer = %self.peer, error = %err, "connection ended with an error");
        }
        if phase.timed_out() {
            // The client was too slow: nothing it still sends deserves reading.
            return;
        }
        linger(connection.into_parts().io.into_inner().into_inner()).await;
    }
}

/// Lingering close: half-closes the socket after the last answer, then reads and discards what
/// the client still sends (the rest of a body the server refused before reading it) until the
/// client closes, or [`LINGER_MAX_BYTES`] or [`LINGER_MAX_TIME`] run out. Closing a socket with
/// unread input makes the kernel send a reset, and a client that is still sending may then
/// lose the answer it had not yet read.
pub(super) async fn linger<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S) {
    let _ = tokio::time::timeout(LINGER_MAX_TIME, async {
        if stream.shutdown().await.is_err() {
            return;
        }
        let mut scratch = vec![0_u8; 16 * 1024];
        let mut discarded = 0;
        while discarded < LINGER_MAX_BYTES {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => return,
                Ok(read) => discarded += read,
            }
        }
    })
    .await;
}

/// The per-connection service: gives handlers the peer address and the guarded body, and
/// tracks the connection's phase.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    limits: Arc<ConnectionLimits>,
    phase: Arc<Phase>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        self.phase.request_started();
        let verdict = Arc::new(Verdict::default());
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(ConnectInfo(self.peer));
        let body = GuardedBody::new(body, self.limits.clone(), verdict.clone());
        let request = Request::from_parts(parts, axum::body::Body::new(body));
        let mut router = self.router.clone();
        let phase = self.phase.clone();
        Box::pin(async move {
            // A Router is always ready (its poll_ready returns Ready at once).
            let response = match tower_service::Service::call(&mut router, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = verdict.replacement().unwrap_or(response);
            Ok(response.map(|body| ResponseBody::new(body, phase)))
        })
    }
}
