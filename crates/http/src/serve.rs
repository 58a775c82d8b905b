//! One port for HTTP/1.1 and HTTP/2 (docs/architecture.md, "One port, two HTTP
//! versions"). actix-web serves HTTP/1.1, and every hot path stays on it
//! unchanged; it cannot send HTTP/2 trailers, which gRPC needs. So each worker
//! accepts its connections itself and looks at the first bytes:
//!
//! - the HTTP/2 client preface (`PRI * HTTP/2.0…`, prior knowledge, as gRPC
//!   clients send over cleartext): the connection goes to hyper's HTTP/2 server,
//!   and each of its requests is handed to the very same actix `App` service
//!   (routes, middleware, state) as an actix request. A gRPC answer's
//!   `grpc-status`/`grpc-message` headers are moved into HTTP/2 trailers on the
//!   way out (`crate::api::protocol` explains why they start as headers).
//! - anything else: actix-http's HTTP/1 dispatcher, exactly as `HttpServer`
//!   would run it (same timeouts and graceful shutdown).
//!
//! Tessera has no TLS listener: it runs behind a TLS-terminating load balancer
//! (docs/operator/multi-node.md). A balancer that speaks HTTP/2 to its
//! backends delivers gRPC here as h2c.

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::body::{BodySize, MessageBody};
use actix_http::{HttpService, Request, Response};
use actix_server::{GracefulShutdownSignal, Server};
use actix_service::{
    IntoServiceFactory, Service, ServiceFactory, ServiceFactoryExt as _, fn_factory, fn_service, map_config,
};
use actix_web::dev::AppConfig;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::BodyStream;
use tokio::net::TcpStream;

/// The server's knobs that the acceptor applies itself.
#[derive(Debug, Clone)]
pub struct Listen {
    /// Worker threads; 0 for one per core.
    pub workers: usize,
    /// Seconds in-flight requests get after a graceful stop.
    pub shutdown_timeout_secs: u64,
    /// Blocking threads per worker.
    pub blocking_threads: usize,
}

/// How long a new connection may take to show which HTTP version it speaks:
/// actix-web's default time for a request head.
const FIRST_BYTES_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP/2 client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Concurrent streams per HTTP/2 connection: bounds one connection's share of a
/// worker as HTTP/1.1's one request at a time does, loosely.
const MAX_STREAMS: u32 = 100;

/// How long an HTTP/2 connection may wait for its first request: as long as
/// an HTTP/1.1 connection gets for its first request head.
const H2_FIRST_REQUEST: Duration = FIRST_BYTES_TIMEOUT;

/// How long an HTTP/2 connection may stay without an open stream after its
/// first request before it is closed with GOAWAY (gRPC clients reconnect on
/// their next call): the same bound on idle connections that HTTP/1.1's
/// keep-alive sets, longer because one HTTP/2 connection carries every call.
const H2_IDLE: Duration = Duration::from_secs(60);

/// How often an HTTP/2 connection checks whether it is idle.
const H2_IDLE_CHECK: Duration = Duration::from_secs(1);

/// Open streams of an HTTP/2 connection and when the last one ended.
struct Activity {
    open: std::cell::Cell<usize>,
    since: std::cell::Cell<std::time::Instant>,
    served: std::cell::Cell<bool>,
}

impl Activity {
    /// Whether the connection has been without a stream for too long.
    fn idle(&self) -> bool {
        let limit = if self.served.get() { H2_IDLE } else { H2_FIRST_REQUEST };
        self.open.get() == 0 && self.since.get().elapsed() >= limit
    }
}

/// Counts a stream as open until dropped.
struct Open(Rc<Activity>);

impl Open {
    fn new(activity: &Rc<Activity>) -> Self {
        activity.open.set(activity.open.get() + 1);
        activity.served.set(true);
        Self(activity.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.set(self.0.open.get().saturating_sub(1));
        self.0.since.set(std::time::Instant::now());
    }
}

/// Builds the server on `listener`: every worker runs `factory`'s `App` for both
/// HTTP versions. Signals are left to the caller.
///
/// # Errors
/// When the listener cannot be registered.
pub fn server<F, I, S, B>(listener: TcpListener, factory: F, opts: &Listen) -> io::Result<Server>
where
    F: Fn() -> I + Send + Clone + 'static,
    I: IntoServiceFactory<S, Request>,
    S: ServiceFactory<Request, Config = AppConfig> + 'static,
    S::Error: Into<actix_web::Error> + 'static,
    S::InitError: fmt::Debug,
    S::Response: Into<Response<B>> + 'static,
    <S::Service as Service<Request>>::Future: 'static,
    S::Service: 'static,
    B: MessageBody + 'static,
{
    let addr = listener.local_addr()?;
    let mut builder = Server::build()
        .shutdown_timeout(opts.shutdown_timeout_secs)
        .worker_max_blocking_threads(opts.blocking_threads)
        .disable_signals();
    if opts.workers > 0 {
        builder = builder.workers(opts.workers);
    }
    let graceful = builder.graceful_shutdown_signal();
    let builder = builder.listen("tessera", listener, move || {
        let factory = factory.clone();
        let graceful = graceful.clone();
        fn_factory(move || {
            let factory = factory.clone();
            let graceful = graceful.clone();
            async move {
                let h1_graceful = graceful.clone();
                let h1 = HttpService::build()
                    .client_request_timeout(FIRST_BYTES_TIMEOUT)
                    .client_disconnect_timeout(Duration::from_secs(1))
                    .h1_allow_half_closed(true)
                    .local_addr(addr)
                    .graceful_shutdown_signal(move || {
                        let signal = h1_graceful.clone();
                        async move { signal.notified().await }
                    })
                    .h1(map_config(factory().into_factory().map_err(|e| e.into().error_response()), move |()| {
                        app_config(addr)
                    }))
                    .tcp()
                    .new_service(())
                    .await
                    .map_err(|e| tracing::error!(error = ?e, "cannot start the HTTP/1 service"))?;
                let app = factory()
                    .into_factory()
                    .new_service(app_config(addr))
                    .await
                    .map_err(|e| tracing::error!(error = ?e, "cannot start the HTTP/2 service"))?;
                let h1 = Rc::new(h1);
                let app = Rc::new(app);
                Ok::<_, ()>(fn_service(move |stream: TcpStream| {
                    let h1 = h1.clone();
                    let app = app.clone();
                    let graceful = graceful.clone();
                    async move {
                        match first_bytes(&stream).await {
                            Version::Http2 => serve_h2(stream, app, graceful).await,
                            Version::Http1 => {
                                let _ = h1.call(stream).await;
                            }
                            Version::Gone => {}
                        }
                        Ok::<_, ()>(())
                    }
                }))
            }
        })
    })?;
    Ok(builder.run())
}

/// The `AppConfig` actix-web's `HttpServer` would give the app: plain HTTP, this
/// address, and the address as the host for requests without one.
fn app_config(addr: SocketAddr) -> AppConfig {
    // `AppConfig::new` is crate-private in actix-web 4; this is its public
    // twin (same fields), there for servers built outside `HttpServer`.
    AppConfig::__priv_test_new(false, addr.to_string(), addr)
}

/// What the first bytes of a connection say.
#[derive(Debug, PartialEq, Eq)]
enum Version {
    Http1,
    Http2,
    /// Closed, failed or silent for [`FIRST_BYTES_TIMEOUT`].
    Gone,
}

/// Peeks (never consumes) until the bytes either differ from the HTTP/2 preface
/// (HTTP/1: every request line differs from it by its second byte) or match it
/// whole.
async fn first_bytes(stream: &TcpStream) -> Version {
    let look = async {
        let mut buf = [0_u8; PREFACE.len()];
        loop {
            let n = match stream.peek(&mut buf).await {
                Ok(0) | Err(_) => return Version::Gone,
                Ok(n) => n,
            };
            if buf[..n] != PREFACE[..n] {
                return Version::Http1;
            }
            if n == PREFACE.len() {
                return Version::Http2;
            }
            // A preface split across packets: peek returns the same bytes
            // until more arrive, so wait a little instead of spinning.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    tokio::time::timeout(FIRST_BYTES_TIMEOUT, look).await.unwrap_or(Version::Gone)
}

/// Runs hyper on the current worker's thread: the app service is not `Send`.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F: Future + 'static> hyper::rt::Executor<F> for LocalExec {
    fn execute(&self, fut: F) {
        tokio::task::spawn_local(fut);
    }
}

/// Serves one HTTP/2 connection until it ends; a graceful stop sends GOAWAY and
/// lets its open streams finish.
async fn serve_h2<S, B>(stream: TcpStream, app: Rc<S>, graceful: GracefulShutdownSignal)
where
    S: Service<Request> + 'static,
    S::Error: Into<actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody + 'static,
{
    let peer = stream.peer_addr().ok();
    let activity = Rc::new(Activity {
        open: std::cell::Cell::new(0),
        since: std::cell::Cell::new(std::time::Instant::now()),
        served: std::cell::Cell::new(false),
    });
    let counted = activity.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let open = Open::new(&counted);
        async move {
            let res = bridge(app.as_ref(), req, peer).await;
            drop(open);
            Ok::<_, std::convert::Infallible>(res)
        }
    });
    let conn = hyper::server::conn::http2::Builder::new(LocalExec)
        .timer(hyper_util::rt::TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = graceful.notified() => break,
            () = tokio::time::sleep(H2_IDLE_CHECK) => {
                if activity.idle() {
                    break;
                }
            }
        }
    }
    // GOAWAY: open streams finish, no new one starts. hyper then waits for the
    // client to acknowledge a PING before its final GOAWAY; a client that
    // stays silent does not hold the connection: once no stream is open, it
    // is closed (dropped) at the next check.
    conn.as_mut().graceful_shutdown();
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            () = tokio::time::sleep(H2_IDLE_CHECK) => {
                if activity.open.get() == 0 {
                    return;
                }
            }
        }
    }
}

/// One HTTP/2 request through the actix app, and its answer back.
async fn bridge<S, B>(
    app: &S,
    req: hyper::Request<hyper::body::Incoming>,
    peer: Option<SocketAddr>,
) -> hyper::Response<ActixBody<B>>
where
    S: Service<Request>,
    S::Error: Into<actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody + 'static,
{
    let (parts, body) = req.into_parts();
    let payload: actix_http::BoxedPayloadStream = Box::pin(BodyStream::new(body).filter_map(|frame| async move {
        match frame {
            Ok(frame) => frame.into_data().ok().map(Ok),
            Err(e) => Some(Err(actix_http::error::PayloadError::Io(io::Error::other(e)))),
        }
    }));
    let mut areq = Request::with_payload(actix_http::Payload::Stream { payload });
    let head = areq.head_mut();
    let Ok(method) = actix_http::Method::from_bytes(parts.method.as_str().as_bytes()) else {
        return plain(hyper::StatusCode::BAD_REQUEST);
    };
    head.method = method;
    let path = parts.uri.path_and_query().map_or("/", hyper::http::uri::PathAndQuery::as_str);
    let Ok(uri) = path.parse() else { return plain(hyper::StatusCode::BAD_REQUEST) };
    head.uri = uri;
    head.version = actix_http::Version::HTTP_2;
    head.peer_addr = peer;
    for (name, value) in &parts.headers {
        if let (Ok(name), Ok(value)) = (
            actix_http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            head.headers.append(name, value);
        }
    }
    // HTTP/2 carries the host as `:authority`; actix reads `Host`.
    if let Some(authority) = parts.uri.authority()
        && !head.headers.contains_key(actix_http::header::HOST)
        && let Ok(value) = actix_http::header::HeaderValue::from_str(authority.as_str())
    {
        head.headers.insert(actix_http::header::HOST, value);
    }
    let res: Response<B> = match app.call(areq).await {
        Ok(res) => res.into(),
        Err(e) => {
            let e: actix_web::Error = e.into();
            return into_hyper(Response::from(e.error_response().map_body(|_, b| ActixBody::Boxed(b))));
        }
    };
    into_hyper(res.map_body(|_, b| ActixBody::Body(Box::pin(b))))
}

/// An empty answer with `status`.
fn plain<B>(status: hyper::StatusCode) -> hyper::Response<ActixBody<B>> {
    let mut res = hyper::Response::new(ActixBody::Done);
    *res.status_mut() = status;
    res
}

/// An actix response as a hyper one; gRPC status headers become trailers when
/// a message precedes them.
fn into_hyper<B: MessageBody>(res: Response<ActixBody<B>>) -> hyper::Response<ActixBody<B>> {
    let (res, body) = res.into_parts();
    let mut out = hyper::Response::new(body);
    *out.status_mut() = hyper::StatusCode::from_u16(res.status().as_u16()).unwrap_or(hyper::StatusCode::OK);
    let empty = matches!(out.body().size(), BodySize::None | BodySize::Sized(0));
    let headers = out.headers_mut();
    for (name, value) in res.headers() {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            hyper::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    let grpc = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/grpc") && !t.starts_with("application/grpc-web"));
    if grpc && !empty {
        let mut trailers = hyper::HeaderMap::new();
        for name in ["grpc-status", "grpc-message"] {
            if let Some(value) = headers.remove(name) {
                trailers.insert(name, value);
            }
        }
        if !trailers.is_empty() {
            let body = std::mem::replace(out.body_mut(), ActixBody::Done);
            *out.body_mut() = ActixBody::WithTrailers(Box::new(body), Some(trailers));
        }
    }
    out
}

/// An actix body as an `http_body::Body`, with optional trailers. Bodies are
/// boxed and pinned, so the enum is `Unpin` and needs no pin projection.
enum ActixBody<B> {
    Body(Pin<Box<B>>),
    Boxed(actix_http::body::BoxBody),
    WithTrailers(Box<ActixBody<B>>, Option<hyper::HeaderMap>),
    Done,
}

impl<B: MessageBody> ActixBody<B> {
    fn size(&self) -> BodySize {
        match self {
            Self::Body(b) => b.size(),
            Self::Boxed(b) => b.size(),
            Self::WithTrailers(b, _) => b.size(),
            Self::Done => BodySize::None,
        }
    }
}

impl<B: MessageBody> http_body::Body for ActixBody<B> {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, io::Error>>> {
        let data = |r: Option<Result<Bytes, io::Error>>| r.map(|r| r.map(http_body::Frame::data));
        match self.get_mut() {
            Self::Body(b) => b.as_mut().poll_next(cx).map(|o| data(o.map(|r| r.map_err(body_error)))),
            Self::Boxed(b) => Pin::new(b).poll_next(cx).map(|o| data(o.map(|r| r.map_err(body_error)))),
            Self::WithTrailers(inner, trailers) => match Pin::new(inner.as_mut()).poll_frame(cx) {
                Poll::Ready(None) => Poll::Ready(trailers.take().map(|t| Ok(http_body::Frame::trailers(t)))),
                other => other,
            },
            Self::Done => Poll::Ready(None),
        }
    }

    /// True for an empty body: hyper then ends the stream with the HEADERS
    /// frame, which a gRPC "Trailers-Only" answer must do (gRPC clients read a
    /// status only from a frame that ends the stream).
    fn is_end_stream(&self) -> bool {
        match self {
            Self::WithTrailers(..) => false,
            other => matches!(other.size(), BodySize::None | BodySize::Sized(0)),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match self.size() {
            BodySize::None => http_body::SizeHint::with_exact(0),
            BodySize::Sized(n) if !matches!(self, Self::WithTrailers(..)) => http_body::SizeHint::with_exact(n),
            _ => http_body::SizeHint::default(),
        }
    }
}

/// A body error for hyper; actix body errors carry no request data.
fn body_error(e: impl Into<Box<dyn std::error::Error>>) -> io::Error {
    io::Error::other(e.into().to_string())
}
