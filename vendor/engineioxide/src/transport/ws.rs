//! The ws transport module is responsible for handling websocket connections
//! The only public function is [`new_req`] which is used to upgrade a http request to a websocket connection
//!
//! Other functions are used internally to handle the websocket connection through tasks and channels
//! and to handle upgrade from polling to ws

use std::{
    future::{Future, poll_fn},
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode, request::Parts};
use smallvec::smallvec;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    sync::mpsc::Receiver,
    time::{Instant, Sleep},
};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{
        self, Message,
        handshake::derive_accept_key,
        protocol::{Role, WebSocketConfig},
    },
};
use tokio_util::future::FutureExt as _;

use engineioxide_core::{Packet, PacketBuf, ProtocolVersion, Sid, Str, TransportType};

use crate::{
    DisconnectReason, Socket,
    body::ResponseBody,
    config::EngineIoConfig,
    engine::EngineIo,
    errors::Error,
    handler::EngineIoHandler,
    socket::{InternalRx, VolatileSlot},
    transport::make_open_packet,
};

/// Create a response for websocket upgrade
fn ws_response<B>(ws_key: &HeaderValue) -> Response<ResponseBody<B>> {
    let derived = derive_accept_key(ws_key.as_bytes());
    let sec = derived.parse::<HeaderValue>().unwrap();
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(
            http::header::CONNECTION,
            HeaderValue::from_static("Upgrade"),
        )
        .header(http::header::SEC_WEBSOCKET_ACCEPT, sec)
        .body(ResponseBody::empty_response())
        .unwrap() // we are only using constants
}

/// Upgrade a websocket request to create a websocket connection.
///
/// If a sid is provided in the query it means that is is upgraded from an existing HTTP polling request.
/// In this case the http polling request is closed and the SID is kept for the websocket
pub fn new_req<R: Send + 'static, B, H: EngineIoHandler>(
    engine: Arc<EngineIo<H>>,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req: Request<R>,
) -> Result<Response<ResponseBody<B>>, Error> {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts.clone(), body);

    let ws_key = parts
        .headers
        .get("Sec-WebSocket-Key")
        .ok_or(Error::InvalidWebSocketKey)?
        .clone();

    // A task's future keeps the size of its largest state for the task's whole life: the
    // upgrade and the handshake (~5 KiB of state) run boxed, so that only the session's
    // own state stays allocated while the connection lives (pulso's patch).
    let setup = Box::pin({
        let engine = engine.clone();
        async move {
            let conn = match hyper::upgrade::on(req).await {
                Ok(conn) => hyper_util::rt::TokioIo::new(conn),
                Err(_e) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!("ws upgrade error: {}", _e);
                    return None;
                }
            };
            match start(engine.clone(), conn, protocol, sid, parts).await {
                Ok(started) => Some(started),
                Err(Error::MultipleWebsocketRequests) => None,
                Err(_e) => {
                    #[cfg(feature = "tracing")]
                    tracing::debug!(?sid, "ws closed with error: {_e}");
                    if let Some(sid) = sid {
                        engine.close_session(sid, DisconnectReason::TransportError);
                    }
                    None
                }
            }
        }
    });
    tokio::spawn(async move {
        let Some((socket, mut session)) = setup.await else {
            return;
        };
        run_session(&engine, &socket, &mut session).await;
        #[cfg(feature = "tracing")]
        tracing::debug!(?sid, "ws closed")
    });

    Ok(ws_response(&ws_key))
}

/// Handle a websocket connection upgrade
///
/// Sends an open packet if it is not an upgrade from a polling request
///
/// Read packets from the websocket and handle them, it will block until the connection is closed
pub async fn on_init<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    conn: S,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req_data: Parts,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (socket, mut session) = start(engine.clone(), conn, protocol, sid, req_data).await?;
    run_session(&engine, &socket, &mut session).await;
    Ok(())
}

/// A session whose handshake is done: its socket, and the WebSocket session to run.
type Started<H, S> = (Arc<Socket<<H as EngineIoHandler>::Data>>, Session<S>);

/// Opens the WebSocket and does the Engine.IO handshake: the open packet for a new
/// session, the probe exchange for one upgraded from polling.
#[cfg_attr(
    feature = "tracing",
    tracing::instrument(level = "trace", name = "init_websocket", skip(engine, conn, req_data))
)]
async fn start<H: EngineIoHandler, S>(
    engine: Arc<EngineIo<H>>,
    conn: S,
    protocol: ProtocolVersion,
    sid: Option<Sid>,
    req_data: Parts,
) -> Result<Started<H, S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(engine.config.ws_read_buffer_size)
        .max_message_size(Some(engine.config.ws_max_message_size))
        .max_frame_size(Some(engine.config.ws_max_frame_size));

    let ws_init = move || WebSocketStream::from_raw_socket(conn, Role::Server, Some(ws_config));
    // The heartbeat: a session upgraded from polling keeps the task polling started; a v4
    // session that begins on WebSocket runs it in the session's task, a v3 one in a task
    // of its own.
    if let Some(sid) = sid {
        match engine.get_socket(sid) {
            None => Err(Error::UnknownSessionID(sid)),
            Some(socket) if socket.is_ws() => Err(Error::MultipleWebsocketRequests),
            Some(socket) => {
                let mut ws = ws_init().await;

                let upgrade_fut = upgrade_handshake::<H, S>(&socket, &mut ws);
                match tokio::time::timeout(engine.config.upgrade_timeout, upgrade_fut)
                    .with_cancellation_token(&socket.cancellation_token)
                    .await
                {
                    Some(Ok(res)) => res?,
                    Some(Err(_)) => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(?sid, "ws upgrade timed out, closing session");
                        engine.close_session(socket.id, DisconnectReason::TransportError);
                        return Err(Error::Upgrade);
                    }
                    None => {
                        #[cfg(feature = "tracing")]
                        tracing::debug!(?sid, "socket is being closed");
                        return Err(Error::Upgrade);
                    }
                }
                engine.handler.on_upgrade(socket.clone());
                Ok((socket, Session::new(ws, None)))
            }
        }
    } else {
        let socket = engine.create_session(protocol, TransportType::Websocket, req_data, false);

        #[cfg(feature = "tracing")]
        tracing::debug!("new websocket connection");

        let mut ws = ws_init().await;
        init_handshake(socket.id, &mut ws, &engine.config).await?;
        let heartbeat = if protocol == ProtocolVersion::V4 {
            Some(Heartbeat::new(&engine.config))
        } else {
            socket
                .clone()
                .spawn_heartbeat(engine.config.ping_interval, engine.config.ping_timeout);
            None
        };
        Ok((socket, Session::new(ws, heartbeat)))
    }
}

/// Runs an established WebSocket session until it ends, then closes the session (unless it
/// was closed elsewhere) and the WebSocket.
async fn run_session<H: EngineIoHandler, S>(
    engine: &Arc<EngineIo<H>>,
    socket: &Arc<Socket<H::Data>>,
    session: &mut Session<S>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // A polling request that was in progress during the upgrade may still hold the lock.
    let Some(mut rx) = socket
        .internal_rx
        .lock()
        .with_cancellation_token(&socket.cancellation_token)
        .await
    else {
        #[cfg(feature = "tracing")]
        tracing::debug!(sid = %socket.id, "session closed before the ws session started");
        return;
    };
    let InternalRx { buffered_rx, .. } = &mut *rx;
    let outcome = poll_fn(|cx| session.poll(cx, engine, socket, buffered_rx))
        .with_cancellation_token(&socket.cancellation_token)
        .await;
    // Whether the server ended the session: then what was queued (a close packet, say)
    // still goes out. When the client ended it, nobody is left to read it.
    let server_ended = match outcome {
        Some(Err(Error::HeartbeatTimeout)) => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = %socket.id, "heartbeat timeout");
            socket.close(DisconnectReason::HeartbeatTimeout);
            true
        }
        Some(Err(ref e)) => {
            let reason =
                Option::<DisconnectReason>::from(e).unwrap_or(DisconnectReason::TransportError);

            #[cfg(feature = "tracing")]
            tracing::debug!("error when handling packet: {:?}", e);
            engine.close_session(socket.id, reason);
            false
        }
        Some(Ok(())) => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = %socket.id, "ws transport was closed");
            engine.close_session(socket.id, DisconnectReason::TransportClose);
            false
        }
        None => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = %socket.id, "socket is closing");
            true
        }
    };
    if server_ended {
        // Bounded, so that a client that stopped reading cannot hold the task (and the
        // queue's lock, which the session's closing waits for).
        // Boxed: rare, and its state would otherwise be part of every session's task.
        let closing = session.close(buffered_rx, socket.protocol);
        Box::pin(tokio::time::timeout(engine.config.ping_timeout, closing))
            .await
            .ok();
    }
}

/// The heartbeat of a session that began on WebSocket: a ping at once, then one every
/// `ping_interval`, each to be answered within `ping_timeout`.
struct Heartbeat {
    timer: Pin<Box<Sleep>>,
    last_ping: Instant,
    awaiting_pong: bool,
    interval: Duration,
    timeout: Duration,
}

impl Heartbeat {
    fn new(config: &EngineIoConfig) -> Self {
        Heartbeat {
            timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            last_ping: Instant::now(),
            awaiting_pong: false,
            interval: config.ping_interval,
            timeout: config.ping_timeout,
        }
    }

    /// Whether a ping is due now. Fails when the last one went unanswered.
    fn poll_ping(&mut self, cx: &mut Context<'_>) -> Result<bool, Error> {
        if self.timer.as_mut().poll(cx).is_pending() {
            return Ok(false);
        }
        if self.awaiting_pong {
            return Err(Error::HeartbeatTimeout);
        }
        self.last_ping = Instant::now();
        self.awaiting_pong = true;
        self.timer.as_mut().reset(self.last_ping + self.timeout);
        Ok(true)
    }

    fn pong(&mut self) {
        if self.awaiting_pong {
            self.awaiting_pong = false;
            self.timer.as_mut().reset(self.last_ping + self.interval);
        }
    }
}

/// Frames read or written per wake-up before the task yields, so that a busy direction
/// cannot starve the other one (or the other tasks of the runtime).
const FRAMES_PER_POLL: usize = 32;

/// One WebSocket session driven by one task: it reads the client's frames, writes the
/// packets queued for the socket and runs the heartbeat, all from the same `poll`.
///
/// pulso's patch: upstream splits the stream behind a lock and runs a reader, a writer
/// and a heartbeat task for each socket, ~7 KiB of task state per connection.
struct Session<S> {
    ws: WebSocketStream<S>,
    /// The rest of the packet buffer being written when the socket stopped accepting frames.
    writing: Option<Box<PacketBuf>>,
    ping_due: bool,
    unflushed: bool,
    heartbeat: Option<Heartbeat>,
}

impl<S> Session<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn new(ws: WebSocketStream<S>, heartbeat: Option<Heartbeat>) -> Self {
        Session {
            ws,
            writing: None,
            ping_due: false,
            unflushed: false,
            heartbeat,
        }
    }

    /// Ready when the session ends: the client closed it (`Ok`) or it failed.
    fn poll<H: EngineIoHandler>(
        &mut self,
        cx: &mut Context<'_>,
        engine: &Arc<EngineIo<H>>,
        socket: &Arc<Socket<H::Data>>,
        buffered_rx: &mut Receiver<Box<PacketBuf>>,
    ) -> Poll<Result<(), Error>> {
        let mut more = false;

        let mut budget = FRAMES_PER_POLL;
        while let Poll::Ready(msg) = self.ws.poll_next_unpin(cx) {
            let Some(msg) = msg else {
                return Poll::Ready(Ok(()));
            };
            match on_message(engine, socket, msg?)? {
                Inbound::Closed => return Poll::Ready(Ok(())),
                Inbound::Alive => match &mut self.heartbeat {
                    Some(heartbeat) => heartbeat.pong(),
                    None => socket.heartbeat.notify_one(),
                },
                Inbound::Other => {}
            }
            budget -= 1;
            if budget == 0 {
                more = true;
                break;
            }
        }

        if let Some(heartbeat) = &mut self.heartbeat {
            self.ping_due |= heartbeat.poll_ping(cx)?;
        }

        let mut budget = FRAMES_PER_POLL;
        while self.ws.poll_ready_unpin(cx)?.is_ready() {
            let packet = match self.next_packet(cx, buffered_rx, &socket.volatile) {
                Poll::Ready(Some(packet)) => packet,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => break,
            };
            if let Some(msg) = to_message(packet, socket.protocol) {
                self.ws.start_send_unpin(msg)?;
                self.unflushed = true;
            }
            budget -= 1;
            if budget == 0 {
                more = true;
                break;
            }
        }
        if self.unflushed && self.ws.poll_flush_unpin(cx)?.is_ready() {
            self.unflushed = false;
        }

        if more {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    /// The next packet to write: a due ping first, then the rest of the buffer being
    /// written, then the queue, then a volatile packet. `None` once the queue is closed.
    fn next_packet(
        &mut self,
        cx: &mut Context<'_>,
        buffered_rx: &mut Receiver<Box<PacketBuf>>,
        volatile: &VolatileSlot,
    ) -> Poll<Option<Packet>> {
        if std::mem::take(&mut self.ping_due) {
            return Poll::Ready(Some(Packet::Ping));
        }
        loop {
            if let Some(packets) = &mut self.writing {
                if !packets.is_empty() {
                    return Poll::Ready(Some(packets.remove(0)));
                }
                self.writing = None;
            }
            self.writing = Some(match buffered_rx.poll_recv(cx) {
                Poll::Ready(Some(packets)) => packets,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => match volatile.poll_take(cx) {
                    Poll::Ready(packets) => packets,
                    Poll::Pending => return Poll::Pending,
                },
            });
        }
    }

    /// Writes what is left in the buffer being written and in the queue, then closes the
    /// WebSocket.
    async fn close(
        &mut self,
        buffered_rx: &mut Receiver<Box<PacketBuf>>,
        protocol: ProtocolVersion,
    ) {
        let queued =
            std::iter::from_fn(|| buffered_rx.try_recv().ok()).flat_map(|packets| *packets);
        let writing = self.writing.take().into_iter().flat_map(|packets| *packets);
        for packet in writing.chain(queued) {
            if let Some(msg) = to_message(packet, protocol)
                && self.ws.feed(msg).await.is_err()
            {
                return;
            }
        }
        self.ws.close(None).await.ok();
    }
}

/// What a frame from the client meant for the session.
enum Inbound {
    /// A pong (v4) or ping (v3): the client is alive.
    Alive,
    /// The client closed the session.
    Closed,
    Other,
}

fn on_message<H: EngineIoHandler>(
    engine: &Arc<EngineIo<H>>,
    socket: &Arc<Socket<H::Data>>,
    msg: Message,
) -> Result<Inbound, Error> {
    match msg {
        Message::Text(msg) => match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
            Packet::Close => {
                #[cfg(feature = "tracing")]
                tracing::debug!("[sid={}] closing session", socket.id);
                engine.close_session(socket.id, DisconnectReason::TransportClose);
                Ok(Inbound::Closed)
            }
            Packet::Pong | Packet::Ping => Ok(Inbound::Alive),
            Packet::Message(msg) => {
                engine.handler.on_message(msg, socket.clone());
                Ok(Inbound::Other)
            }
            p => Err(Error::BadPacket(p)),
        },
        Message::Binary(mut data) => {
            if socket.protocol == ProtocolVersion::V3 && !data.is_empty() {
                // The first byte is the message type, which we don't need.
                data = data.split_off(1);
            }
            engine.handler.on_binary(data, socket.clone());
            Ok(Inbound::Other)
        }
        Message::Close(_) => {
            #[cfg(feature = "tracing")]
            tracing::debug!("websocket closed, closing session");
            engine.close_session(socket.id, DisconnectReason::TransportClose);
            Ok(Inbound::Closed)
        }
        _ => {
            #[cfg(feature = "tracing")]
            tracing::debug!(sid = ?socket.id, "unexpected ws message");
            Ok(Inbound::Other)
        }
    }
}

/// A packet as a WebSocket message; `None` for a Noop, which a polling upgrade may leave
/// in the queue and which only means something to a polling request.
fn to_message(packet: Packet, protocol: ProtocolVersion) -> Option<Message> {
    match packet {
        Packet::Binary(bin) | Packet::BinaryV3(bin) if protocol == ProtocolVersion::V3 => {
            // v3 protocol requires packet type as the first byte.
            let mut buff = Vec::with_capacity(bin.len() + 1);
            buff.push(0x04);
            buff.extend(bin);
            Some(Message::Binary(buff.into()))
        }
        Packet::Binary(bin) | Packet::BinaryV3(bin) => Some(Message::Binary(bin)),
        Packet::Noop => None,
        packet => Some(Message::Text(String::from(packet).into())),
    }
}

/// Send a Engine.IO [`OpenPacket`] to initiate a websocket connection
async fn init_handshake<S>(
    sid: Sid,
    ws: &mut WebSocketStream<S>,
    config: &EngineIoConfig,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let packet = Packet::Open(make_open_packet(TransportType::Websocket, sid, config));
    let packet: String = packet.into();
    ws.send(Message::Text(packet.into())).await?;
    Ok(())
}

/// Upgrade a session from a polling request to a websocket request.
///
/// Before upgrading the session the server should send a NOOP packet to any pending polling request.
///
/// ## Handshake :
/// ```text
/// CLIENT                                                 SERVER
///│                                                      │
///│   GET /engine.io/?EIO=4&transport=websocket&sid=...  │
///│ ───────────────────────────────────────────────────► │
///│  ◄─────────────────────────────────────────────────┘ │
///│            HTTP 101 (WebSocket handshake)            │
///│                                                      │
///│            -----  WebSocket frames -----             │
///│  ─────────────────────────────────────────────────►  │
///│                         2probe                       │ (ping packet)
///│  ◄─────────────────────────────────────────────────  │
///│                         3probe                       │ (pong packet)
///│  ─────────────────────────────────────────────────►  │
///│                         5                            │ (upgrade packet)
///│                                                      │
///│            -----  WebSocket frames -----             │
/// ```
#[cfg_attr(
    feature = "tracing",
    tracing::instrument(level = "trace", skip(socket, ws))
)]
async fn upgrade_handshake<H: EngineIoHandler, S>(
    socket: &Arc<Socket<H::Data>>,
    ws: &mut WebSocketStream<S>,
) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    #[cfg(feature = "tracing")]
    tracing::debug!("starting websocket connection upgrade");

    // The socket is upgrading, from now on all polling
    // request will return a `Packet::Noop`
    socket.start_upgrade();

    // We send a last Noop request to close a potential waiting polling request.
    socket
        .internal_tx
        .send(Box::new(smallvec![Packet::Noop]))
        .await
        .map_err(|_| Error::Upgrade)?;

    // wait for any current polling connection to finish by waiting for the socket to be unlocked
    // All other polling connection will be immediately closed with a NOOP packet.
    let _lock = socket.internal_rx.lock().await;

    // Fetch the next packet from the ws stream, it should be a PingUpgrade packet
    let msg = match ws.next().await {
        Some(Ok(Message::Text(d))) => d,
        _ => Err(Error::Upgrade)?,
    };
    match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
        Packet::PingUpgrade => {
            #[cfg(feature = "tracing")]
            tracing::debug!("received first ping upgrade");
            // Respond with a PongUpgrade packet
            ws.send(Message::Text(String::from(Packet::PongUpgrade).into()))
                .await?;
        }
        p => Err(Error::BadPacket(p))?,
    };

    // Fetch the next packet from the ws stream, it should be an Upgrade packet
    let msg = match ws.next().await {
        Some(Ok(Message::Text(d))) => d,
        Some(Ok(Message::Close(_))) => {
            #[cfg(feature = "tracing")]
            tracing::debug!("ws stream closed before upgrade");
            Err(Error::Upgrade)?
        }
        _ => {
            #[cfg(feature = "tracing")]
            tracing::debug!("unexpected ws message before upgrade");
            Err(Error::Upgrade)?
        }
    };
    match Packet::parse(socket.protocol, ws_bytes_to_str(msg))? {
        Packet::Upgrade => {
            #[cfg(feature = "tracing")]
            tracing::debug!("ws upgraded successfully")
        }
        p => Err(Error::BadPacket(p))?,
    };

    socket.upgrade_to_websocket();
    Ok(())
}

fn ws_bytes_to_str(bytes: tungstenite::Utf8Bytes) -> Str {
    // SAFETY: the bytes are guaranteed to be valid UTF-8 by the tungstenite parser
    unsafe { Str::from_bytes_unchecked(bytes.into()) }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::StreamExt;
    use http::Request;
    use tokio::{io::DuplexStream, sync::mpsc};

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(1);

    #[derive(Debug)]
    struct StubHandler(mpsc::UnboundedSender<DisconnectReason>);
    impl EngineIoHandler for StubHandler {
        type Data = ();
        fn on_connect(self: Arc<Self>, _: Arc<Socket<()>>) {}
        fn on_disconnect(&self, _: Arc<Socket<()>>, reason: DisconnectReason) {
            self.0.send(reason).ok();
        }
        fn on_message(self: &Arc<Self>, _: Str, _: Arc<Socket<()>>) {}
        fn on_binary(self: &Arc<Self>, _: Bytes, _: Arc<Socket<()>>) {}
    }

    type Client = WebSocketStream<DuplexStream>;

    /// An engine with one WebSocket session, its socket, the client end of the stream,
    /// the server end, and the disconnect reasons the handler hears.
    async fn session(
        config: EngineIoConfig,
    ) -> (
        Arc<EngineIo<StubHandler>>,
        Arc<Socket<()>>,
        Client,
        WebSocketStream<DuplexStream>,
        mpsc::UnboundedReceiver<DisconnectReason>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let engine = Arc::new(EngineIo::new(Arc::new(StubHandler(tx)), config));
        let socket = engine.create_session(
            ProtocolVersion::V4,
            TransportType::Websocket,
            Request::<()>::default().into_parts().0,
            false,
        );
        let (server, client) = tokio::io::duplex(1024);
        let server = WebSocketStream::from_raw_socket(server, Role::Server, None).await;
        let client = WebSocketStream::from_raw_socket(client, Role::Client, None).await;
        (engine, socket, client, server, rx)
    }

    async fn next_text(client: &mut Client) -> String {
        match tokio::time::timeout(TIMEOUT, client.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => text.to_string(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// A polling request can still hold the lock at the end of an upgrade.
    #[tokio::test]
    async fn session_waits_for_the_lock_of_a_polling_request() {
        let (engine, socket, mut client, server, _) = session(EngineIoConfig::default()).await;
        let polling = socket.internal_rx.lock().await;
        let task = {
            let (engine, socket) = (engine.clone(), socket.clone());
            tokio::spawn(async move {
                run_session(&engine, &socket, &mut Session::new(server, None)).await
            })
        };
        socket.emit(Str::from("hello")).unwrap();
        assert!(
            tokio::time::timeout(Duration::from_millis(50), client.next())
                .await
                .is_err(),
            "nothing is written while a polling request holds the lock"
        );
        assert!(!task.is_finished());

        drop(polling);
        assert_eq!(next_text(&mut client).await, "4hello");
    }

    #[tokio::test]
    async fn a_session_waiting_for_the_lock_stops_with_the_session() {
        let (engine, socket, _client, server, _) = session(EngineIoConfig::default()).await;
        let _polling = socket.internal_rx.lock().await;
        let task = {
            let (engine, socket) = (engine.clone(), socket.clone());
            tokio::spawn(async move {
                run_session(&engine, &socket, &mut Session::new(server, None)).await
            })
        };
        socket.cancellation_token.cancel();
        tokio::time::timeout(TIMEOUT, task)
            .await
            .expect("the session should stop")
            .unwrap();
    }

    /// The heartbeat runs in the session's own task: a ping at once, the next one an
    /// interval after the last, and a missing pong closes the session (after a close packet).
    #[tokio::test]
    async fn heartbeat_pings_each_interval_and_closes_on_a_missing_pong() {
        let config = EngineIoConfig {
            ping_interval: Duration::from_millis(100),
            ping_timeout: Duration::from_millis(100),
            ..Default::default()
        };
        let (engine, socket, mut client, server, mut reasons) = session(config).await;
        let heartbeat = Heartbeat::new(&engine.config);
        tokio::spawn(async move {
            run_session(&engine, &socket, &mut Session::new(server, Some(heartbeat))).await
        });

        assert_eq!(next_text(&mut client).await, "2");
        client.send(Message::text("3")).await.unwrap();
        assert_eq!(next_text(&mut client).await, "2");
        // Unanswered: the session ends with a close packet, then the close frame.
        assert_eq!(next_text(&mut client).await, "1");
        let reason = tokio::time::timeout(TIMEOUT, reasons.recv()).await.unwrap();
        assert_eq!(reason, Some(DisconnectReason::HeartbeatTimeout));
        match tokio::time::timeout(TIMEOUT, client.next()).await.unwrap() {
            Some(Ok(Message::Close(_))) | None => {}
            other => panic!("expected the close frame, got {other:?}"),
        }
    }

    /// Reading goes on while the client does not read: the writes wait, the reads do not.
    #[tokio::test]
    async fn reads_go_on_while_writes_wait() {
        let (engine, socket, mut client, server, mut reasons) =
            session(EngineIoConfig::default()).await;
        tokio::spawn({
            let (engine, socket) = (engine.clone(), socket.clone());
            async move { run_session(&engine, &socket, &mut Session::new(server, None)).await }
        });
        // Far more than the 1 KiB pipe holds: the session's writes block.
        for _ in 0..64 {
            socket.emit(Str::from("x".repeat(512))).unwrap();
        }
        // The session still reads: the close packet ends it.
        client.send(Message::text("1")).await.unwrap();
        let reason = tokio::time::timeout(TIMEOUT, reasons.recv()).await.unwrap();
        assert_eq!(reason, Some(DisconnectReason::TransportClose));
    }
}
