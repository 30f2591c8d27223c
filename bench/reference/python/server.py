"""The benchmark's Python reference: the subset of pulso's contract the scenarios use, on
python-socketio (ASGI) + uvicorn, as small as honest. Same schema, indexes and SQLite
settings as pulso (WAL, synchronous NORMAL, wal_autocheckpoint 10 000, a 1 024-statement
cache), one transaction per command (event-log rows included), emit after commit.
Socket.IO's heartbeat is the only one: uvicorn's own WebSocket ping is off.

Environment: BENCH_ADDR (host:port, port 0 = any), BENCH_DB (SQLite file),
BENCH_API_KEYS ("key:role,..."), BENCH_PING_INTERVAL_MS, BENCH_PING_TIMEOUT_MS.
Prints one JSON line {"message":"listening","addr":"host:port"} when ready.
"""

import asyncio
import json
import os
import re
import socket
import sqlite3
import sys
from datetime import datetime, timezone

import socketio
import uvicorn

TOPICS = ["orders", "clients", "inventory", "alerts"]
SKU = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
USER_ID = re.compile(r"^[A-Za-z0-9._@-]{1,128}$")
PRICE = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")
MAX_QTY = 1_000_000_000

API_KEYS = dict(p.split(":") for p in os.environ.get("BENCH_API_KEYS", "dev:admin").split(","))

# isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves, as pulso does.
db = sqlite3.connect(os.environ.get("BENCH_DB", "reference.db"), isolation_level=None,
                     cached_statements=1024)
db.row_factory = sqlite3.Row
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = NORMAL")
db.execute("PRAGMA foreign_keys = ON")
db.execute("PRAGMA busy_timeout = 10000")
db.execute("PRAGMA wal_autocheckpoint = 10000")
db.executescript("""
  CREATE TABLE IF NOT EXISTS clients (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
    email TEXT, phone TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS inventory_items (id INTEGER PRIMARY KEY AUTOINCREMENT,
    sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, quantity INTEGER NOT NULL CHECK (quantity >= 0),
    low_stock_threshold INTEGER NOT NULL CHECK (low_stock_threshold >= 0),
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id INTEGER NOT NULL REFERENCES clients (id), status TEXT NOT NULL,
    total_cents INTEGER NOT NULL, notes TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_orders_status ON orders (status);
  CREATE TABLE IF NOT EXISTS order_items (id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE, sku TEXT NOT NULL,
    quantity INTEGER NOT NULL, unit_price_cents INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_order_items_order_id ON order_items (order_id);
  CREATE TABLE IF NOT EXISTS notifications (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT,
    type TEXT NOT NULL, subject TEXT NOT NULL, message TEXT NOT NULL, severity TEXT NOT NULL,
    created_at TEXT NOT NULL);
  CREATE INDEX IF NOT EXISTS idx_notifications_user ON notifications (user_id);
  CREATE TABLE IF NOT EXISTS notification_reads (notification_id INTEGER NOT NULL
    REFERENCES notifications (id) ON DELETE CASCADE, user_id TEXT NOT NULL, read_at TEXT NOT NULL,
    PRIMARY KEY (notification_id, user_id));
  CREATE INDEX IF NOT EXISTS idx_notification_reads_user ON notification_reads (user_id, notification_id);
  CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,
    room TEXT NOT NULL, data TEXT NOT NULL, user_id TEXT, created_at TEXT NOT NULL);
""")

sio = socketio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins=[],
    ping_interval=int(os.environ.get("BENCH_PING_INTERVAL_MS", "25000")) / 1000,
    ping_timeout=int(os.environ.get("BENCH_PING_TIMEOUT_MS", "20000")) / 1000,
    max_http_buffer_size=1_048_576,
)
app = socketio.ASGIApp(sio)


class Invalid(Exception):
    def __init__(self, code, message, fields=None):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def cents(value):
    m = PRICE.match(str(value)) if isinstance(value, (str, int, float)) else None
    return int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0")) if m else None


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def item_view(row):
    item = dict(row)
    item["low_stock"] = item["quantity"] <= item["low_stock_threshold"]
    return item


def unread_count(user_id):
    return db.execute(
        "SELECT COUNT(*) FROM notifications WHERE (user_id = ? OR user_id IS NULL) AND id NOT IN"
        " (SELECT notification_id FROM notification_reads WHERE user_id = ?)",
        (user_id, user_id),
    ).fetchone()[0]


async def transact(user_id, write):
    """Runs `write(emit)` in one IMMEDIATE transaction with its event rows; emits after commit."""
    events = []
    db.execute("BEGIN IMMEDIATE")
    try:
        result = write(lambda type_, rooms, data: events.append((type_, rooms, data)))
        at = now()
        envelopes = []
        for type_, rooms, data in events:
            (event_id,) = db.execute(
                "INSERT INTO events (type, room, data, user_id, created_at) VALUES (?, ?, ?, ?, ?)"
                " RETURNING id",
                (type_, rooms[0], json.dumps(data), user_id, at),
            ).fetchone()
            envelopes.append((type_, rooms, {"id": event_id, "type": type_, "data": data,
                                             "timestamp": at, "user_id": user_id, "room": rooms[0]}))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    for type_, rooms, envelope in envelopes:
        await sio.emit(type_, envelope, to=rooms)
    return result


def client_create(identity, data):
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise Invalid("invalid", "invalid input", {"name": "is required"})

    def write(emit):
        at = now()
        row = dict(db.execute(
            "INSERT INTO clients (name, email, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
            " RETURNING *", (name.strip(), data.get("email"), data.get("phone"), at, at)).fetchone())
        emit("client_created", ["clients", f"client:{row['id']}"], row)
        return row
    return write


def inventory_update(identity, data):
    data = data if isinstance(data, dict) else {}
    fields = {}
    if not isinstance(data.get("sku"), str) or not SKU.match(data["sku"]):
        fields["sku"] = "is not a valid sku"
    if not is_int(data.get("quantity")) or not 0 <= data["quantity"] <= MAX_QTY:
        fields["quantity"] = "must be an integer from 0 to 1000000000"
    if fields:
        raise Invalid("invalid", "invalid input", fields)

    def write(emit):
        at = now()
        existing = db.execute("SELECT * FROM inventory_items WHERE sku = ?", (data["sku"],)).fetchone()
        if existing:
            row = db.execute(
                "UPDATE inventory_items SET quantity = ?, name = ?, updated_at = ? WHERE id = ? RETURNING *",
                (data["quantity"], data.get("name") or existing["name"], at, existing["id"])).fetchone()
        elif isinstance(data.get("name"), str) and data["name"].strip():
            row = db.execute(
                "INSERT INTO inventory_items (sku, name, quantity, low_stock_threshold, created_at,"
                " updated_at) VALUES (?, ?, ?, 10, ?, ?) RETURNING *",
                (data["sku"], data["name"].strip(), data["quantity"], at, at)).fetchone()
        else:
            raise Invalid("not_found", f"no item with sku {data['sku']}")
        item = item_view(row)
        emit("inventory_updated", ["inventory", f"sku:{item['sku']}"], item)
        return item
    return write


def order_create(identity, data):
    data = data if isinstance(data, dict) else {}
    fields = {}
    if not is_int(data.get("client_id")) or data["client_id"] < 1:
        fields["client_id"] = "must be a positive integer"
    items = data.get("items") if isinstance(data.get("items"), list) else []
    if not 1 <= len(items) <= 100:
        fields["items"] = "must have 1 to 100 lines"
    lines = []
    for i, line in enumerate(items):
        line = line if isinstance(line, dict) else {}
        if not isinstance(line.get("sku"), str) or not SKU.match(line["sku"]):
            fields[f"items[{i}].sku"] = "is not a valid sku"
        if not is_int(line.get("quantity")) or not 1 <= line["quantity"] <= MAX_QTY:
            fields[f"items[{i}].quantity"] = "must be an integer from 1 to 1000000000"
        price = cents(line.get("unit_price"))
        if price is None:
            fields[f"items[{i}].unit_price"] = "must be a decimal with at most two places"
        lines.append((line.get("sku"), line.get("quantity"), price))
    notes = data.get("notes")
    if notes is not None and not isinstance(notes, str):
        fields["notes"] = "must be a string"
    if fields:
        raise Invalid("invalid", "invalid input", fields)
    total = sum(price * qty for _, qty, price in lines)

    def write(emit):
        if not db.execute("SELECT id FROM clients WHERE id = ?", (data["client_id"],)).fetchone():
            raise Invalid("not_found", f"no client with id {data['client_id']}")
        at = now()
        order = db.execute(
            "INSERT INTO orders (client_id, status, total_cents, notes, created_at, updated_at)"
            " VALUES (?, 'pending', ?, ?, ?, ?) RETURNING *",
            (data["client_id"], total, (notes or "").strip() or None, at, at)).fetchone()
        for sku, qty, price in lines:
            db.execute("INSERT INTO order_items (order_id, sku, quantity, unit_price_cents)"
                       " VALUES (?, ?, ?, ?)", (order["id"], sku, qty, price))
        view = {"id": order["id"], "client_id": order["client_id"], "status": "pending",
                "total": money(total), "notes": order["notes"], "created_at": at, "updated_at": at,
                "items": [{"sku": s, "quantity": q, "unit_price": money(p), "line_total": money(p * q)}
                          for s, q, p in lines]}
        emit("order_created", ["orders", f"order:{order['id']}"], view)
        for sku, qty, _ in sorted(lines):  # reserve in SKU order, as pulso does
            item = db.execute("SELECT * FROM inventory_items WHERE sku = ?", (sku,)).fetchone()
            if not item:
                raise Invalid("not_found", f"no item with sku {sku}")
            if item["quantity"] < qty:
                raise Invalid("conflict", f"not enough stock for {sku}")
            updated = item_view(db.execute(
                "UPDATE inventory_items SET quantity = ?, updated_at = ? WHERE id = ? RETURNING *",
                (item["quantity"] - qty, at, item["id"])).fetchone())
            emit("inventory_updated", ["inventory", f"sku:{sku}"], updated)
            if item["quantity"] > item["low_stock_threshold"] and updated["low_stock"]:
                emit("stock_low", ["alerts", f"sku:{sku}"], {
                    "sku": sku, "name": item["name"], "quantity": updated["quantity"],
                    "threshold": item["low_stock_threshold"], "item_id": item["id"], "source": "threshold"})
        return view
    return write


def notification_send(identity, data):
    if identity["role"] != "admin":
        raise Invalid("forbidden", "only admins send notifications")
    data = data if isinstance(data, dict) else {}
    if not isinstance(data.get("subject"), str) or not isinstance(data.get("message"), str):
        raise Invalid("invalid", "invalid input", {"subject": "is required", "message": "is required"})
    user_id = data.get("user_id")

    def write(emit):
        row = dict(db.execute(
            "INSERT INTO notifications (user_id, type, subject, message, severity, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
            (user_id, data.get("type", "message"), data["subject"].strip(), data["message"],
             data.get("severity", "info"), now())).fetchone())
        row["read"] = False
        emit("notification", ["everyone" if user_id is None else f"user:{user_id}"], row)
        return row
    return write


COMMANDS = {"client:create": client_create, "inventory:update": inventory_update,
            "order:create": order_create, "notification:send": notification_send}


@sio.event
async def connect(sid, environ, auth):
    auth = auth if isinstance(auth, dict) else {}
    role = API_KEYS.get(auth.get("api_key"))
    user_id = auth.get("user_id")
    user_id = str(user_id) if is_int(user_id) else user_id
    if role is None:
        raise socketio.exceptions.ConnectionRefusedError("unauthorized: unknown api key")
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        raise socketio.exceptions.ConnectionRefusedError("unauthorized: user_id is required")
    rooms = auth.get("rooms", TOPICS)
    if not isinstance(rooms, list) or not all(valid_room(r) for r in rooms):
        raise socketio.exceptions.ConnectionRefusedError("unauthorized: a requested room may not be joined")
    user_room = f"user:{user_id}"
    joined = [user_room, f"role:{role}", *rooms]
    await sio.save_session(sid, {"user_id": user_id, "role": role})
    for room in joined:
        await sio.enter_room(sid, room)
    # Presence: the user's first socket announces it to everyone else.
    if len(sio.manager.rooms["/"].get(user_room, {})) == 1:
        await sio.emit("user_connected", {"user_id": user_id, "role": role}, skip_sid=sid)
    await sio.emit("connection_established", {"user_id": user_id, "socket_id": sid, "role": role,
                                              "rooms": joined, "server_time": now()}, to=sid)
    await sio.emit("unread_count", {"unread_count": unread_count(user_id)}, to=sid)


def valid_room(room):
    return isinstance(room, str) and (room in TOPICS or re.match(r"^(order|client|sku):", room))


@sio.event
async def disconnect(sid, *_):
    session = await sio.get_session(sid)
    user_room = f"user:{session['user_id']}"
    await sio.leave_room(sid, user_room)
    if not sio.manager.rooms["/"].get(user_room):
        await sio.emit("user_disconnected", {"user_id": session["user_id"], "role": session["role"]},
                       skip_sid=sid)


@sio.on("join_room")
async def join_room(sid, data):
    room = data if isinstance(data, str) else (data or {}).get("room")
    if not valid_room(room):
        return {"ok": False, "error": {"code": "invalid", "message": "unknown room"}}
    await sio.enter_room(sid, room)
    return {"ok": True, "data": {"room": room, "rooms": sio.rooms(sid)}}


@sio.on("*")
async def command(event, sid, data=None):
    handler = COMMANDS.get(event)
    if handler is None:
        return {"ok": False, "error": {"code": "invalid", "message": f"unknown command `{event}`"}}
    session = await sio.get_session(sid)
    if session["role"] == "viewer":
        return {"ok": False, "error": {"code": "forbidden", "message": "viewers cannot write"}}
    try:
        result = await transact(session["user_id"], handler(session, data))
        if event == "notification:send" and data.get("user_id") is not None:
            user_id = data["user_id"]
            await sio.emit("unread_count", {"unread_count": unread_count(user_id)}, to=f"user:{user_id}")
        return {"ok": True, "data": result}
    except Invalid as e:
        return {"ok": False, "error": {"code": e.code, "message": e.message, "fields": e.fields}}


def main():
    host, port = os.environ.get("BENCH_ADDR", "127.0.0.1:0").rsplit(":", 1)
    # Bind ourselves so port 0 works and we can print the real address.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(4096)
    bound = sock.getsockname()
    print(json.dumps({"message": "listening", "addr": f"{bound[0]}:{bound[1]}"}), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, backlog=4096,
                            ws_max_size=1_048_576, ws_ping_interval=None, lifespan="off")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


if __name__ == "__main__":
    sys.exit(main())
