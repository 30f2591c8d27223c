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

    /// An event's name, without parsing the payload.
    pub fn event_name(&self) -> Option<&str> {
        let rest = self.as_str().strip_prefix("[\"")?;
        rest.split('"').next()
    }

    /// The `id` of an event's envelope (`["type",{"id":42,...},...]`, the id first, as
    /// every server here writes it), without parsing the payload.
    pub fn envelope_id(&self) -> Option<i64> {
        let rest = self.as_str().strip_prefix("[\"")?;
        let (_, rest) = rest.split_once("\",{\"id\":")?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        rest[..digits].parse().ok()
    }

    /// The offset connection state recovery appends to a broadcast event as its last
    /// argument (`[..., {...},"42"]`), if any.
    pub fn offset(&self) -> Option<&str> {
        let (before, offset) = self.as_str().strip_suffix("\"]")?.rsplit_once(",\"")?;
        let after_payload = before.ends_with(['}', ']']);
        (after_payload && !offset.contains(['"', '\\'])).then_some(offset)
    }
}

/// What a namespace connect brought: the CONNECT packet's data (`{"sid":..,"pid":..}`)
/// and the events the server sent before it (a recovery replays missed events there).
pub struct Handshake {
    pub connect: Frame,
    pub early: Vec<Frame>,
}

impl Handshake {
    /// The connection state recovery session id, when the server offers recovery.
    pub fn pid(&self) -> Option<String> {
        let data: Value = serde_json::from_str(self.connect.as_str()).ok()?;
        data["pid"].as_str().map(str::to_owned)
    }
}

impl Incoming {
    /// The event name, without parsing the payload.
    pub fn event_name(&self) -> Option<&str> {
        let Incoming::Event(frame) = self else {
            return None;
        };
        frame.event_name()
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
        Ok(Self::connect_keeping(addr, source, auth, false).await?.0)
    }

    /// `connect`, also returning the CONNECT packet and, with `keep_early`, the events
    /// sent before it (otherwise skipped).
    pub async fn connect_keeping(
        addr: SocketAddr,
        source: Option<IpAddr>,
        auth: &Value,
        keep_early: bool,
    ) -> Result<(Self, Handshake), Error> {
        let handshake = Self::handshake(addr, source, auth, keep_early);
        tokio::time::timeout(CONNECT_TIMEOUT, handshake)
            .await
            .map_err(|_| "connect timed out".to_owned())?
    }

    async fn handshake(
        addr: SocketAddr,
        source: Option<IpAddr>,
        auth: &Value,
        keep_early: bool,
    ) -> Result<(Self, Handshake), Error> {
        let ws = open_transport(addr, source).await?;
        let mut client = Client { ws, next_ack: 0 };
        client.send(format!("40{auth}")).await?;
        // Wait for the namespace connect (`40{"sid":..}`) or its refusal (`44{..}`). Some
        // servers send events (greetings, a recovery's missed events) before the connect
        // packet: kept if asked, else skipped.
        let mut early = Vec::new();
        loop {
            let text = client.next_text().await?.ok_or("closed during handshake")?;
            match text.as_str() {
                t if t.starts_with("40") => {
                    let connect = Frame { text, start: 2 };
                    return Ok((client, Handshake { connect, early }));
                }
                t if t.starts_with("44") => return Err(format!("connect_error: {}", &t[2..])),
                t if keep_early && t.starts_with("42") => early.push(Frame { text, start: 2 }),
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

/// Opens an Engine.IO WebSocket from `source` (its OPEN packet is the first frame to
/// read), without joining a namespace.
pub async fn open_transport(
    addr: SocketAddr,
    source: Option<IpAddr>,
) -> Result<WebSocketStream<TcpStream>, Error> {
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
    Ok(ws)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::{find_marker, marker};

    fn event(text: &str) -> Incoming {
        Incoming::Event(Frame {
            text: format!("42{text}").into(),
            start: 2,
        })
    }

    fn frame(incoming: &Incoming) -> &Frame {
        match incoming {
            Incoming::Event(frame) | Incoming::Ack(_, frame) => frame,
        }
    }

    #[test]
    fn events_with_an_offset_parse_as_without() {
        let note = marker(2, 99);
        let with = event(&format!(
            r#"["order_created",{{"id":42,"type":"order_created","data":{{"id":7,"notes":"{note}"}}}},"42"]"#
        ));
        assert_eq!(with.event_name(), Some("order_created"));
        assert_eq!(find_marker(frame(&with).as_str()), Some((2, 99)));
        assert_eq!(frame(&with).envelope_id(), Some(42));
        assert_eq!(frame(&with).offset(), Some("42"));
        // socket.io's offsets are not numbers.
        let node = event(r#"["client_created",{"id":5,"data":{}},"OTZc2r8-_"]"#);
        assert_eq!(frame(&node).offset(), Some("OTZc2r8-_"));

        let without = event(&format!(
            r#"["order_created",{{"id":42,"notes":"{note}"}}]"#
        ));
        assert_eq!(find_marker(frame(&without).as_str()), Some((2, 99)));
        assert_eq!(frame(&without).envelope_id(), Some(42));
        assert_eq!(frame(&without).offset(), None);
        // A string payload is not an offset; a payload without an id has none.
        assert_eq!(frame(&event(r#"["hello","world"]"#)).offset(), None);
        let presence = event(r#"["user_connected",{"user_id":"u1","id":3},"7"]"#);
        assert_eq!(frame(&presence).envelope_id(), None);
        assert_eq!(frame(&presence).offset(), Some("7"));
    }
}
