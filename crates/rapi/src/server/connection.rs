//! One client connection: TLS handshake, HTTP/1.1 with keep-alive, and
//! the request log.
//!
//! Ganeti answers one request per connection and closes it; we keep the
//! connection open (unless the client asks to close, or speaks HTTP/1.0
//! without keep-alive), which saves a TLS handshake per request. Each
//! connection runs in its own task, so a slow client never delays another.
//! Every step that waits on the client is bounded: the handshake, the
//! request head (which also ends idle keep-alive connections), the body,
//! and each write of the answer.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use crate::server::pipeline::{self, Refusal, Shared};
use crate::server::response;

/// Serve one accepted connection until it ends.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    stream: TcpStream,
    peer: SocketAddr,
    io_timeout: Duration,
) {
    // Small answers: do not wait for Nagle on a kept-alive connection.
    let _ = stream.set_nodelay(true);
    let stream = TimedWrites::new(stream, io_timeout);
    match tls {
        None => serve_http(shared, stream, peer, io_timeout).await,
        Some(acceptor) => match tokio::time::timeout(io_timeout, acceptor.accept(stream)).await {
            Ok(Ok(tls_stream)) => serve_http(shared, tls_stream, peer, io_timeout).await,
            Ok(Err(e)) => tracing::debug!("RAPI TLS handshake with {peer} failed: {e}"),
            Err(_) => tracing::debug!("RAPI TLS handshake with {peer} timed out"),
        },
    }
}

async fn serve_http<I>(shared: Arc<Shared>, io: I, peer: SocketAddr, head_timeout: Duration)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        async move { answer(&shared, peer, req).await }
    });
    let result = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(head_timeout)
        .keep_alive(true)
        .title_case_headers(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
    if let Err(e) = result {
        tracing::debug!("RAPI connection from {peer} ended: {e}");
    }
}

/// The client went away or stalled mid-request: the connection is
/// dropped without an answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Abandoned(&'static str);

/// Answer one request and log it (never with credentials or body).
async fn answer(
    shared: &Shared,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Abandoned> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let outcome = pipeline::process(shared, req).await;
    let user = outcome.user.as_deref().unwrap_or("-");
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let (resp, status) = match &outcome.result {
        Ok(value) => (response::success(value), 200),
        Err(Refusal::Error { error, close }) => (response::error(error, *close), error.code),
        Err(Refusal::Abandoned(why)) => {
            tracing::info!("{peer} {user} \"{method} {path}\" - {millis:.1}ms ({why})");
            return Err(Abandoned(why));
        }
    };
    tracing::info!("{peer} {user} \"{method} {path}\" {status} {millis:.1}ms");
    Ok(resp)
}

/// A stream whose writes fail once they have been blocked for longer than
/// the timeout, so a client that stops reading cannot hold its
/// connection (and task) forever. Reads are bounded elsewhere.
#[derive(Debug)]
pub(crate) struct TimedWrites<T> {
    inner: T,
    timeout: Duration,
    blocked_since: Option<Pin<Box<Sleep>>>,
}

impl<T> TimedWrites<T> {
    pub(crate) fn new(inner: T, timeout: Duration) -> Self {
        TimedWrites {
            inner,
            timeout,
            blocked_since: None,
        }
    }

    fn bound<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.blocked_since = None;
            return poll;
        }
        let timeout = self.timeout;
        let deadline = self
            .blocked_since
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if deadline.as_mut().poll(cx).is_ready() {
            self.blocked_since = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client did not read the response in time",
            )));
        }
        Poll::Pending
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedWrites<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedWrites<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.bound(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.bound(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.bound(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.bound(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn a_reader_that_never_reads_times_the_write_out() {
        // A tiny in-memory pipe that nobody reads fills up at once.
        let (client, _server_side_kept_open) = tokio::io::duplex(16);
        let mut w = TimedWrites::new(client, Duration::from_millis(50));
        let started = Instant::now();
        let err = w.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn writes_that_progress_are_not_cut() {
        let (client, mut other) = tokio::io::duplex(16);
        let mut w = TimedWrites::new(client, Duration::from_millis(200));
        let reader = tokio::spawn(async move {
            let mut buf = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut other, &mut buf)
                .await
                .unwrap();
            buf.len()
        });
        w.write_all(&[1u8; 4096]).await.unwrap();
        w.shutdown().await.unwrap();
        drop(w);
        assert_eq!(reader.await.unwrap(), 4096);
    }
}
