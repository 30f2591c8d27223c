//! A minimal Socket.IO v5 client over Engine.IO v4 WebSocket (no polling, no binary, no
//! reconnection): just what the load generator needs, so that it stays cheap per socket.
//!
//! Engine.IO text frames start with the packet type (`0` open, `2` ping, `3` pong,
//! `4` message); a message carries a Socket.IO packet (`0` connect, `2` event, `3` ack,
//! `4` connect error) for the default namespace `/`, e.g. `42["order_created",{...}]`.

use std::{
    net::{IpAddr, SocketAddr},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::{
    WebSocketStream, client_async_with_config,
    tungstenite::{Message, Utf8Bytes, protocol::WebSocketConfig},
};

/// Everything is bounded: a handshake that takes longer than this counts as a failure.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

pub type Error = String;

pub struct Client {
    ws: WebSocketStream<TcpStream>,
    next_ack: u64,
}

/// What the server sent, past the heartbeat (answered inside `next`).
pub enum Incoming {
    /// The raw event array, e.g. `["order_created",{...}]`.
    Event(Frame),
    /// An ack: its id and the raw array of its arguments.
    Ack(u64, Frame),
}

/// A received text frame and where its JSON starts (no copy, no second UTF-8 check).
pub struct Frame {
    text: Utf8Bytes,
    start: usize,
}

impl Frame {
    pub fn as_str(&self) -> &str {
        &self.text.as_str()[self.start..]
    }
}

impl Incoming {
    /// The event name, without parsing the payload.
    pub fn event_name(&self) -> Option<&str> {
        let Incoming::Event(frame) = self else {
            return None;
        };
        let rest = frame.as_str().strip_prefix("[\"")?;
        rest.split('"').next()
    }
}

impl Client {
    /// Opens a WebSocket from `source` (a 127.0.0.x address, so many connections do not
    /// share one address's ephemeral ports) and joins namespace `/` with `auth`.
    pub async fn connect(
        addr: SocketAddr,
        source: Option<IpAddr>,
        auth: &Value,
    ) -> Result<Self, Error> {
        tokio::time::timeout(CONNECT_TIMEOUT, Self::handshake(addr, source, auth))
            .await
            .map_err(|_| "connect timed out".to_owned())?
    }

    async fn handshake(
        addr: SocketAddr,
        source: Option<IpAddr>,
        auth: &Value,
    ) -> Result<Self, Error> {
        let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
        if let Some(ip) = source {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(|e| format!("bind {ip}: {e}"))?;
        }
        let stream = socket
            .connect(addr)
            .await
            .map_err(|e| format!("tcp connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        // Small buffers: a load generator holding thousands of sockets must stay lean.
        let config = WebSocketConfig::default()
            .read_buffer_size(4096)
            .write_buffer_size(0)
            .max_write_buffer_size(1 << 20);
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
        let (ws, _) = client_async_with_config(url, stream, Some(config))
            .await
            .map_err(|e| format!("websocket: {e}"))?;
        let mut client = Client { ws, next_ack: 0 };
        client.send(format!("40{auth}")).await?;
        // Wait for the namespace connect (`40{"sid":..}`) or its refusal (`44{..}`). Some
        // servers send events (greetings) before the connect packet: skip them.
        loop {
            let text = client.next_text().await?.ok_or("closed during handshake")?;
            match text.as_str() {
                t if t.starts_with("40") => return Ok(client),
                t if t.starts_with("44") => return Err(format!("connect_error: {}", &t[2..])),
                _ => {}
            }
        }
    }

    async fn send(&mut self, text: String) -> Result<(), Error> {
        self.ws
            .send(Message::text(text))
            .await
            .map_err(|e| format!("send: {e}"))
    }

    /// The next text frame; answers pings. `None` when the server closed the socket.
    async fn next_text(&mut self) -> Result<Option<Utf8Bytes>, Error> {
        while let Some(message) = self.ws.next().await {
            match message.map_err(|e| format!("receive: {e}"))? {
                Message::Text(text) if text.as_str() == "2" => self.send("3".to_owned()).await?,
                Message::Text(text) => return Ok(Some(text)),
                Message::Close(_) => return Ok(None),
                _ => {}
            }
        }
        Ok(None)
    }

    /// The next event or ack; `None` when the server closed the socket.
    pub async fn next(&mut self) -> Result<Option<Incoming>, Error> {
        while let Some(text) = self.next_text().await? {
            let s = text.as_str();
            if s.starts_with("42") {
                return Ok(Some(Incoming::Event(Frame { text, start: 2 })));
            }
            if let Some(rest) = s.strip_prefix("43") {
                let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
                let id = rest[..digits]
                    .parse()
                    .map_err(|_| format!("bad ack: {s}"))?;
                let start = 2 + digits;
                return Ok(Some(Incoming::Ack(id, Frame { text, start })));
            }
            if s.starts_with("41") || s.starts_with('1') {
                return Ok(None); // disconnected by the server
            }
        }
        Ok(None)
    }

    /// Emits `event` with `data`, asking for an ack; returns the ack id.
    pub async fn emit_with_ack(&mut self, event: &str, data: &Value) -> Result<u64, Error> {
        let id = self.next_ack;
        self.next_ack += 1;
        self.send(format!(
            "42{id}{}",
            Value::Array(vec![event.into(), data.clone()])
        ))
        .await?;
        Ok(id)
    }

    /// Emits and waits for the ack (skipping events meanwhile): for setup steps.
    pub async fn call(&mut self, event: &str, data: &Value) -> Result<Value, Error> {
        let id = self.emit_with_ack(event, data).await?;
        let wait = async {
            loop {
                match self.next().await? {
                    Some(Incoming::Ack(got, raw)) if got == id => return ack_data(raw.as_str()),
                    Some(_) => {}
                    None => return Err("closed while waiting for an ack".to_owned()),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .map_err(|_| format!("{event}: no ack within 30 s"))?
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// `{ ok: true, data }` → data; `{ ok: false, error }` → the error as text.
pub fn ack_data(raw: &str) -> Result<Value, Error> {
    let args: Value = serde_json::from_str(raw).map_err(|e| format!("bad ack json: {e}"))?;
    let ack = &args[0];
    if ack["ok"] == Value::Bool(true) {
        Ok(ack["data"].clone())
    } else {
        Err(format!("error ack: {}", ack["error"]))
    }
}
