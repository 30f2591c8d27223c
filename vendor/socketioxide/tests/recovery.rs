//! The hooks of connection state recovery: from a middleware, a socket may hold the
//! broadcasts to its rooms, send what its client missed ahead of them, and have its
//! CONNECT packet carry a pid.
use std::convert::Infallible;

use engineioxide::Packet::*;
use socketioxide::{SocketIo, extract::SocketRef, handler::ConnectHandler};
use socketioxide_core::{Str, Value};
use tokio::sync::mpsc::Receiver;

async fn next(rx: &mut Receiver<engineioxide::Packet>) -> engineioxide::Packet {
    tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv())
        .await
        .expect("a packet in time")
        .expect("the socket is open")
}

fn message(text: &str) -> engineioxide::Packet {
    Message(Str::from(text.to_owned()))
}

#[tokio::test]
async fn missed_events_then_kept_broadcasts_then_connect_with_the_pid() {
    let (_svc, io) = SocketIo::new_svc();
    let live = io.clone();
    let middleware = async move |socket: SocketRef| {
        socket.hold_broadcasts();
        socket.join("room");
        // Broadcast while the middleware runs: held, not lost.
        live.to("room").emit("live", &("kept",)).await.unwrap();
        live.to("room")
            .emit("live", &("already sent",))
            .await
            .unwrap();
        let skip = |packet: &Value| packet.as_str().is_some_and(|s| s.contains("already"));
        socket
            .release_broadcasts([("missed", 1), ("missed", 2)], |p| !skip(p))
            .unwrap();
        socket.set_pid("the-pid".to_owned());
        Ok::<_, Infallible>(())
    };
    io.ns("/", (async || {}).with(middleware));
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;

    assert_eq!(next(&mut rx).await, message(r#"2["missed",1]"#));
    assert_eq!(next(&mut rx).await, message(r#"2["missed",2]"#));
    assert_eq!(next(&mut rx).await, message(r#"2["live","kept"]"#));
    let Message(connect) = next(&mut rx).await else {
        panic!("expected the CONNECT packet");
    };
    assert!(connect.starts_with("0{\"sid\":\""), "{connect}");
    assert!(connect.ends_with(",\"pid\":\"the-pid\"}"), "{connect}");

    // Once released, broadcasts go out as usual.
    io.to("room").emit("after", &()).await.unwrap();
    assert_eq!(next(&mut rx).await, message(r#"2["after",null]"#));
}

#[tokio::test]
async fn without_a_pid_the_connect_packet_is_unchanged() {
    let (_svc, io) = SocketIo::new_svc();
    io.ns("/", async || {});
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;
    let Message(connect) = next(&mut rx).await else {
        panic!("expected the CONNECT packet");
    };
    assert!(!connect.contains("pid"), "{connect}");
}

#[tokio::test]
async fn a_refused_socket_that_held_broadcasts_leaves_its_rooms() {
    let (_svc, io) = SocketIo::new_svc();
    let middleware = async |socket: SocketRef| {
        socket.hold_broadcasts();
        socket.join("room");
        Err::<(), _>("refused")
    };
    io.ns("/", (async || {}).with(middleware));
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;
    let Message(refusal) = next(&mut rx).await else {
        panic!("expected the CONNECT_ERROR packet");
    };
    assert!(refusal.starts_with('4'), "{refusal}");
    assert_eq!(io.to("room").sockets().len(), 0);
    assert!(io.sockets().is_empty());
}

#[tokio::test]
async fn broadcasts_are_rewritten_for_a_socket_that_asked() {
    fn shout(packet: Value) -> Value {
        match packet {
            Value::Str(text, None) => Value::Str(text.to_uppercase().into(), None),
            other => other,
        }
    }
    let (_svc, io) = SocketIo::new_svc();
    io.ns("/", async |socket: SocketRef| {
        socket.rewrite_broadcasts(shout);
        socket.join("room");
    });
    let (_tx, mut rx) = io.new_dummy_sock("/", ()).await;
    next(&mut rx).await; // CONNECT
    io.to("room").emit("quiet", &()).await.unwrap();
    assert_eq!(next(&mut rx).await, message(r#"2["QUIET",NULL]"#));
}
