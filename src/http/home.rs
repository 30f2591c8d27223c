//! `GET /`: a small page for whoever opens the server in a browser after `cargo run`:
//! what is running, where to look next, and how to connect.

use axum::response::Html;

use super::routes::{Routes, doc};

pub fn routes() -> Routes {
    Routes::default().get(
        "/",
        || async { Html(page()) },
        doc("What is running, and where to look next")
            .public()
            .text("text/html"),
    )
}

fn page() -> String {
    let version = env!("CARGO_PKG_VERSION");
    format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>pulso {version}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}code,pre{{background:#f2f2f2;padding:.1rem .3rem;border-radius:3px}}pre{{padding:.8rem;overflow:auto}}</style>
</head>
<body>
<h1>pulso {version} is running</h1>
<p>A Socket.IO server for retail dashboards: orders, clients, inventory and
notifications, live. Socket.IO listens on <code>/socket.io/</code>, the REST API on
<code>/api</code>.</p>
<ul>
<li><a href="/health">/health</a>: the process answers</li>
<li><a href="/ready">/ready</a>: a database write commits (503 when not)</li>
<li><a href="/metrics">/metrics</a>: Prometheus metrics</li>
<li><a href="/api/docs">/api/docs</a>: the Socket.IO contract and the REST API
(<a href="/api/asyncapi.json">AsyncAPI</a>, <a href="/api/openapi.json">OpenAPI</a>)</li>
</ul>
<h2>Connect</h2>
<pre>import {{ io }} from "socket.io-client";
const socket = io(location.origin, {{ auth: {{ api_key: "dev", user_id: "u1" }} }});
socket.on("order_created", (event) =&gt; console.log(event.data));</pre>
<p>The key <code>dev</code> works in development only. The wire contract is also
in <code>docs/protocol.md</code>, operations in <code>docs/operations.md</code>, the
security model in <code>SECURITY.md</code> of the source tree.</p>
</body>
</html>
"#
    )
}
