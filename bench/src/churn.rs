//! Connection churn for `soak`: sockets connecting and going away continuously, at a
//! fixed rate, in turn: a full connect closed politely, a full connect dropped (the
//! kernel closes it), and four ways of giving up mid-handshake, each leaving the server
//! something to clean up: a bare TCP connection, half an HTTP upgrade request, an
//! Engine.IO WebSocket never joined to a namespace, and a polling session never used
//! (the server reaps it when its heartbeat times out).

use std::{net::SocketAddr, time::Duration};

use serde::Serialize;
use tokio::{io::AsyncWriteExt, net::TcpStream, sync::watch, time::MissedTickBehavior};

use crate::{
    client::{self, Client, Error},
    common::{VIEWER_KEY, auth, http_request},
};

/// The ways a churning socket goes, taken in turn.
const KINDS: [&str; 6] = [
    "closed",
    "dropped",
    "tcp_only",
    "half_upgrade",
    "engineio_open",
    "polling_open",
];

#[derive(Debug, Default, Serialize)]
pub struct Outcome {
    /// Attempts of each kind, in `KINDS` order.
    pub kinds: [&'static str; 6],
    pub attempts: [u64; 6],
    pub errors: u64,
    pub first_error: Option<String>,
}

/// Churns at `rate` sockets a second until `stop` turns true.
pub async fn run(addr: SocketAddr, rate: f64, mut stop: watch::Receiver<bool>) -> Outcome {
    let mut outcome = Outcome {
        kinds: KINDS,
        ..Outcome::default()
    };
    if rate <= 0.0 {
        return outcome;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // A slow handshake delays the next one rather than bunching them up.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    for n in 0_usize.. {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => break,
        }
        let kind = n % KINDS.len();
        outcome.attempts[kind] += 1;
        if let Err(e) = once(addr, kind, n).await {
            outcome.errors += 1;
            outcome
                .first_error
                .get_or_insert(format!("{}: {e}", KINDS[kind]));
        }
    }
    outcome
}

/// One socket of `kind`; an error is a step the server should have allowed failing.
async fn once(addr: SocketAddr, kind: usize, n: usize) -> Result<(), Error> {
    let user = format!("bench-churn{}", n % 50);
    match KINDS[kind] {
        "closed" => {
            Client::connect(addr, None, &auth(VIEWER_KEY, &user, None))
                .await?
                .close()
                .await
        }
        "dropped" => drop(Client::connect(addr, None, &auth(VIEWER_KEY, &user, None)).await?),
        "tcp_only" => drop(tcp(addr).await?),
        "half_upgrade" => {
            let request = format!(
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
                 Upgrade: websocket\r\nConnection: Upgrade\r\n"
            );
            tcp(addr)
                .await?
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("write: {e}"))?;
        }
        "engineio_open" => {
            let open = client::open_transport(addr, None);
            drop(
                tokio::time::timeout(client::CONNECT_TIMEOUT, open)
                    .await
                    .map_err(|_| "timed out".to_owned())??,
            );
        }
        _ => match http_request(
            addr,
            "GET",
            "/socket.io/?EIO=4&transport=polling",
            &[],
            None,
        )
        .await
        {
            Some((200, body)) if body.starts_with('0') => {}
            other => return Err(format!("polling handshake answered {other:?}")),
        },
    }
    Ok(())
}

async fn tcp(addr: SocketAddr) -> Result<TcpStream, Error> {
    tokio::time::timeout(client::CONNECT_TIMEOUT, TcpStream::connect(addr))
        .await
        .map_err(|_| "tcp connect timed out".to_owned())?
        .map_err(|e| format!("tcp connect: {e}"))
}
