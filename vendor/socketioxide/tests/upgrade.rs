//! [`Socket::on_upgrade`](socketioxide::socket::Socket::on_upgrade): called once the
//! client's connection upgrades from polling to websocket.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use socketioxide::{TransportType, extract::SocketRef};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

mod fixture;

use fixture::{create_polling_connection, create_server, create_ws_upgrade_connection};

#[tokio::test]
async fn on_upgrade_is_called_when_polling_upgrades_to_websocket() {
    let (svc, io) = create_server().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    io.ns("/", async move |socket: SocketRef| {
        socket.on_upgrade(async move |socket: SocketRef| {
            tx.send((socket.id, socket.transport_type())).unwrap();
        });
    });

    let sid = create_polling_connection(&svc).await;
    let mut ws = create_ws_upgrade_connection(&svc, sid.parse().unwrap()).await;
    ws.send(Message::text("2probe")).await.unwrap();
    let probe = tokio::time::timeout(Duration::from_secs(1), ws.next()).await;
    assert_eq!(probe.unwrap().unwrap().unwrap(), Message::text("3probe"));
    assert!(rx.try_recv().is_err(), "not before the upgrade packet");
    ws.send(Message::text("5")).await.unwrap();

    let upgraded = tokio::time::timeout(Duration::from_secs(1), rx.recv())
        .await
        .expect("on_upgrade is called")
        .unwrap();
    assert_eq!(upgraded, (sid.parse().unwrap(), TransportType::Websocket));
}
