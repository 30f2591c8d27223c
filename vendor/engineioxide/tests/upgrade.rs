//! [`EngineIoHandler::on_upgrade`]: called once when a polling session upgrades to
//! websocket, never for a session that began on websocket.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use engineioxide::{
    Str,
    handler::EngineIoHandler,
    socket::{DisconnectReason, Socket},
};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::{WebSocketStream, tungstenite::Message};

mod fixture;

use fixture::{
    StreamImpl, create_polling_connection, create_server, create_ws_connection,
    create_ws_upgrade_connection,
};

#[derive(Debug)]
struct UpgradeHandler {
    upgraded_tx: mpsc::UnboundedSender<String>,
}

impl EngineIoHandler for UpgradeHandler {
    type Data = ();

    fn on_connect(self: Arc<Self>, _socket: Arc<Socket<()>>) {}
    fn on_disconnect(&self, _socket: Arc<Socket<()>>, _reason: DisconnectReason) {}
    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<()>>) {
        socket.emit(msg).ok();
    }
    fn on_binary(self: &Arc<Self>, _data: Bytes, _socket: Arc<Socket<()>>) {}
    fn on_upgrade(&self, socket: Arc<Socket<()>>) {
        self.upgraded_tx.send(socket.id.to_string()).unwrap();
    }
}

const TIMEOUT: Duration = Duration::from_secs(1);

/// The next text frame, answering the heartbeat's pings.
async fn next_text(ws: &mut WebSocketStream<StreamImpl>) -> String {
    loop {
        match tokio::time::timeout(TIMEOUT, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => {
                ws.send(Message::text("3")).await.unwrap();
            }
            Ok(Some(Ok(Message::Text(text)))) => return text.to_string(),
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// A message echoed on the websocket: the session is running.
async fn echo(ws: &mut WebSocketStream<StreamImpl>) {
    ws.send(Message::text("4hello")).await.unwrap();
    assert_eq!(next_text(ws).await, "4hello");
}

#[tokio::test]
pub async fn on_upgrade_is_called_once_when_polling_upgrades() {
    let (upgraded_tx, mut upgraded) = mpsc::unbounded_channel();
    let mut svc = create_server(UpgradeHandler { upgraded_tx }).await;
    let sid = create_polling_connection(&mut svc).await;
    let mut ws = create_ws_upgrade_connection(&mut svc, sid.parse().unwrap()).await;

    ws.send(Message::text("2probe")).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "3probe");
    assert!(
        upgraded.try_recv().is_err(),
        "not before the upgrade packet"
    );
    ws.send(Message::text("5")).await.unwrap();

    let id = tokio::time::timeout(TIMEOUT, upgraded.recv())
        .await
        .unwrap();
    assert_eq!(id, Some(sid));
    echo(&mut ws).await;
    assert!(upgraded.try_recv().is_err(), "called once");
}

#[tokio::test]
pub async fn on_upgrade_is_not_called_for_a_websocket_session() {
    let (upgraded_tx, mut upgraded) = mpsc::unbounded_channel();
    let mut svc = create_server(UpgradeHandler { upgraded_tx }).await;
    let mut ws = create_ws_connection(&mut svc).await;
    assert!(
        next_text(&mut ws).await.starts_with("0{"),
        "the open packet"
    );

    echo(&mut ws).await;
    assert!(upgraded.try_recv().is_err());
}
