//! The socket wrapper that enforces the head, idle and send timeouts of one connection.
//!
//! hyper's own `header_read_timeout` starts when the server begins to wait for a head, so it
//! would also end idle kept-alive connections after the head timeout; this keeps the two apart:
//! an idle connection gets `--keep-alive-timeout`, and a head gets `--header-read-timeout` from
//! its first byte (from the connection's start for the first request).

use std::{
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

/// Where a connection is between requests, shared by its socket wrapper (which reads it) and
/// its service (which moves it on as requests start and end).
#[derive(Debug)]
pub(super) struct Phase {
    state: Mutex<Shared>,
    header_read_timeout: Duration,
    keep_alive_timeout: Duration,
    timed_out: AtomicBool,
}

#[derive(Debug)]
struct Shared {
    state: State,
    /// The task that last found nothing to read while a request was served: it has no timer
    /// running then, so it must be woken when the request ends to start the idle one.
    reader: Option<Waker>,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// A request head is awaited or arriving; it must be complete by `deadline`.
    Head { deadline: Instant },
    /// Between requests: the connection closes at `deadline` unless a byte arrives first.
    Idle { deadline: Instant },
    /// A request is being served: its body has its own timeouts (`GuardedBody`), and the socket
    /// is read only when the handler asks for body bytes.
    Serving,
}

impl Phase {
    /// A new connection, waiting for its first head.
    pub fn new(header_read_timeout: Duration, keep_alive_timeout: Duration) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(Shared {
                state: State::Head {
                    deadline: Instant::now() + header_read_timeout,
                },
                reader: None,
            }),
            header_read_timeout,
            keep_alive_timeout,
            timed_out: AtomicBool::new(false),
        })
    }

    /// A head was parsed and its request handed to the router.
    pub fn request_started(&self) {
        self.lock().state = State::Serving;
    }

    /// The response was handed to hyper whole (or dropped): the connection is idle.
    pub fn request_finished(&self) {
        let mut shared = self.lock();
        shared.state = State::Idle {
            deadline: Instant::now() + self.keep_alive_timeout,
        };
        if let Some(reader) = shared.reader.take() {
            reader.wake();
        }
    }

    /// Whether a timeout of this module ended the connection.
    pub fn timed_out(&self) -> bool {
        self.timed_out.load(Ordering::Relaxed)
    }

    fn bytes_arrived(&self) {
        let mut shared = self.lock();
        if let State::Idle { .. } = shared.state {
            shared.state = State::Head {
                deadline: Instant::now() + self.header_read_timeout,
            };
        }
    }

    /// The deadline of the read in progress; none while a request is served (its task is then
    /// kept, to be woken when the request ends).
    fn read_deadline(&self, cx: &Context<'_>) -> Option<Instant> {
        let mut shared = self.lock();
        match shared.state {
            State::Head { deadline } | State::Idle { deadline } => Some(deadline),
            State::Serving => {
                shared.reader = Some(cx.waker().clone());
                None
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        // The state is a plain value: a panic elsewhere cannot leave it half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn time_out(&self, what: &'static str) -> io::Error {
        self.timed_out.store(true, Ordering::Relaxed);
        io::Error::new(io::ErrorKind::TimedOut, what)
    }
}

/// A socket whose reads fail once the head or idle deadline of its [`Phase`] passes, and whose
/// writes fail when they make no progress for `send_timeout` (a client that stops reading).
pub(super) struct TimedIo<S> {
    inner: S,
    phase: Arc<Phase>,
    send_timeout: Duration,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    write_stalled: bool,
}

impl<S> TimedIo<S> {
    /// Wraps `inner`; the phase says which read deadline applies.
    pub fn new(inner: S, phase: Arc<Phase>, send_timeout: Duration) -> Self {
        Self {
            inner,
            phase,
            send_timeout,
            read_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            write_timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            write_stalled: false,
        }
    }

    /// The socket itself, for lingering close.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// After a write returned `Pending`: starts the stall timer, or fails once it has run out.
    fn poll_write_stall<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if !self.write_stalled {
            self.write_stalled = true;
            let deadline = Instant::now() + self.send_timeout;
            self.write_timer.as_mut().reset(deadline);
        }
        match self.write_timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(self.phase.time_out("the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn after_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.write_stalled = false;
                Poll::Ready(result)
            }
            Poll::Pending => self.poll_write_stall(cx),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for TimedIo<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.phase.bytes_arrived();
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => {}
        }
        let Some(deadline) = this.phase.read_deadline(cx) else {
            return Poll::Pending;
        };
        if this.read_timer.deadline() != deadline {
            this.read_timer.as_mut().reset(deadline);
        }
        match this.read_timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(this
                .phase
                .time_out("the request head or the next request came too late"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for TimedIo<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.after_write(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_flush(cx);
        this.after_write(cx, result)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
