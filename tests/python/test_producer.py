"""docs/producer/pulso_producer.py, the module a Python backend publishes with, against
the real binary in relay mode: what the backend emits reaches a python-socketio
dashboard in pulso's envelope, a retry never publishes twice, a refusal names its fields.
"""

import asyncio
import datetime
import decimal
import http.server
import json
import os
import socket
import sys
import threading
import urllib.error
import urllib.request
from unittest import mock

from helpers import ROOT, TIMEOUT, ServerTestCase

sys.path.insert(0, str(ROOT / "docs" / "producer"))
import pulso_producer  # noqa: E402
from pulso_producer import Producer, PublishError  # noqa: E402

SERVICE_KEY = "python-service-key"
STAFF_KEY = "python-staff-key"


def order(order_id, status="pending"):
    """An order as the backend's own database holds it, in pulso's wire format."""
    return {
        "id": order_id,
        "client_id": 7,
        "status": status,
        "total": "59.97",
        "notes": None,
        "items": [{"sku": "A-1", "quantity": 3, "unit_price": "19.99", "line_total": "59.97"}],
        "created_at": "2026-11-22T10:00:00.123Z",
        "updated_at": "2026-11-22T10:00:00.123Z",
    }


class LossyProxy:
    """Forwards requests to pulso and counts them; pulso's answer to the first `lose`
    never comes back (the connection closes unanswered), as when the network drops after
    pulso took the request."""

    def __init__(self, target: str, lose: int):
        self.bodies: list[dict] = []
        proxy = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.bodies.append(json.loads(body))
                headers = {name: self.headers[name] for name in ("Content-Type", "X-API-Key", "X-User-Id")}
                request = urllib.request.Request(target + self.path, body, headers, method="POST")
                try:
                    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                        status, reply = answer.status, answer.read()
                except urllib.error.HTTPError as refusal:
                    status, reply = refusal.code, refusal.read()
                if len(proxy.bodies) <= lose:
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class ProducerToDashboard(ServerTestCase):
    server_env = {
        "PULSO_API_KEYS": f"{SERVICE_KEY}:service:*,{STAFF_KEY}:staff:*",
        "PULSO_RELAY": "true",
    }

    async def asyncSetUp(self):
        await super().asyncSetUp()
        environment = {"PULSO_URL": self.url, "PULSO_SERVICE_KEY": SERVICE_KEY, "PULSO_SERVICE_USER": "backend"}
        self.enterContext(mock.patch.dict(os.environ, environment))
        _, self.inbox = await self.connect(
            {"api_key": STAFF_KEY, "user_id": "py-dashboard", "rooms": ["orders", "alerts", "clients", "inventory"]}
        )
        hello = await self.inbox.next("connection_established")
        self.assertIn("alerts", hello["rooms"])

    def proxy(self, lose: int) -> LossyProxy:
        proxy = LossyProxy(self.url, lose)
        self.addCleanup(proxy.close)
        return proxy

    async def assert_received(self, event, envelope, room):
        """The dashboard's next `event` is `envelope`, published by the backend to `room`."""
        received = await self.inbox.next(event)
        self.assertEqual(received, envelope)
        self.assertEqual((received["type"], received["room"], received["user_id"]), (event, room, "backend"))
        return received

    async def test_each_emit_reaches_the_dashboard_in_its_envelope(self):
        # The module's blocking calls run in a thread, as in a FastAPI `def` route.
        created = order(101)
        envelope = await asyncio.to_thread(pulso_producer.emit_order_created, created)
        self.assertEqual((await self.assert_received("order_created", envelope, "orders"))["data"], created)

        # The backend's rows hold Decimal and datetime: they travel as pulso writes them.
        shipped_at = datetime.datetime(2026, 11, 22, 11, 30, tzinfo=datetime.timezone.utc)
        updated = {**created, "status": "confirmed", "total": decimal.Decimal("59.97"), "updated_at": shipped_at}
        envelope = await asyncio.to_thread(pulso_producer.emit_order_updated, updated)
        data = (await self.assert_received("order_updated", envelope, "orders"))["data"]
        self.assertEqual((data["status"], data["total"]), ("confirmed", "59.97"))
        self.assertEqual(datetime.datetime.fromisoformat(data["updated_at"]), shipped_at)

        alert = {"sku": "A-1", "name": "Widget", "quantity": 2, "threshold": 5, "item_id": 11, "source": "threshold"}
        envelope = await asyncio.to_thread(pulso_producer.emit_stock_low, alert)
        self.assertEqual((await self.assert_received("stock_low", envelope, "alerts"))["data"], alert)

        self.assertEqual(await self.inbox.next("unread_count"), {"unread_count": 0})
        envelope = await asyncio.to_thread(
            pulso_producer.emit_notification, "Aisle 4 restocked", "py-dashboard", "warning", "Restock"
        )
        data = (await self.assert_received("notification", envelope, "user:py-dashboard"))["data"]
        sent = {"user_id": "py-dashboard", "subject": "Restock", "message": "Aisle 4 restocked", "severity": "warning"}
        self.assertEqual({field: data[field] for field in sent}, sent)
        self.assertFalse(data["read"])
        self.assertEqual(await self.inbox.next("unread_count"), {"unread_count": 1}, "kept in the inbox")

    async def test_every_other_type_goes_out_through_emit(self):
        producer = Producer.from_env()
        stamp = "2026-11-22T10:00:00.123Z"
        client = {"id": 31, "name": "Ana", "email": None, "phone": None, "created_at": stamp, "updated_at": stamp}
        item = {
            "id": 11, "sku": "A-1", "name": "Widget", "quantity": 9, "low_stock_threshold": 5,
            "low_stock": False, "created_at": stamp, "updated_at": stamp,
        }
        change = {"order_id": 501, "from": "pending", "to": "confirmed", "order": order(501, "confirmed")}
        for event, data, room in [
            ("client_created", client, "clients"),
            ("client_updated", {**client, "name": "Ana B."}, "clients"),
            ("inventory_updated", item, "inventory"),
            ("order_status_changed", change, "orders"),
        ]:
            envelope = await asyncio.to_thread(producer.emit, event, data)
            self.assertEqual((await self.assert_received(event, envelope, room))["data"], data)

    async def test_the_same_key_twice_publishes_once(self):
        producer = Producer(self.url, SERVICE_KEY, "backend")
        event = {"type": "order_created", "data": order(201)}
        first = await asyncio.to_thread(producer.publish, event, idempotency_key="order-201-created")
        again = await asyncio.to_thread(producer.publish, event, idempotency_key="order-201-created")
        self.assertFalse(first["replayed"])
        self.assertTrue(again["replayed"])
        self.assertEqual(again["events"], first["events"])
        # Events arrive in order: had the replay emitted, it would come before this one.
        following = await asyncio.to_thread(producer.emit_order_created, order(202))
        await self.assert_received("order_created", first["events"][0], "orders")
        await self.assert_received("order_created", following, "orders")

    async def test_a_lost_answer_is_retried_with_the_same_key_and_publishes_once(self):
        proxy = self.proxy(lose=1)
        producer = Producer(proxy.url, SERVICE_KEY, "backend", backoff=0.05)
        envelope = await asyncio.to_thread(producer.emit_order_created, order(301))
        self.assertEqual(len(proxy.bodies), 2, "the first answer was lost, the retry answered")
        self.assertEqual(proxy.bodies[0], proxy.bodies[1], "the retry is the same request, key included")
        following = await asyncio.to_thread(producer.emit_order_created, order(302))
        await self.assert_received("order_created", envelope, "orders")
        await self.assert_received("order_created", following, "orders")

    async def test_a_refusal_is_not_retried_and_names_the_fields(self):
        proxy = self.proxy(lose=0)
        producer = Producer(proxy.url, SERVICE_KEY, "backend")
        bad = {**order(401), "total": "12.345", "items": [{**order(401)["items"][0], "sku": "not a sku!"}]}
        with self.assertRaises(PublishError) as refused:
            await asyncio.to_thread(producer.emit_order_created, bad)
        self.assertEqual((refused.exception.status, refused.exception.code), (422, "invalid"))
        self.assertEqual(set(refused.exception.fields), {"data.total", "data.items[0].sku"})
        self.assertEqual(len(proxy.bodies), 1, "a 4xx is not retried")

        staff = Producer(proxy.url, STAFF_KEY, "backend")
        with self.assertRaises(PublishError) as forbidden:
            await asyncio.to_thread(staff.emit_order_created, order(402))
        self.assertEqual(forbidden.exception.status, 403, "only the service role publishes")
        self.assertEqual(len(proxy.bodies), 2)

    async def test_no_answer_at_all_raises_after_every_attempt(self):
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
        producer = Producer(closed, SERVICE_KEY, "backend", attempts=3, backoff=0.01)
        with self.assertRaises(PublishError) as unanswered:
            await asyncio.to_thread(producer.emit_stock_low, {"sku": "A-1"})
        self.assertIsNone(unanswered.exception.status)
        self.assertTrue(unanswered.exception.idempotency_key, "a later publish can reuse the key")
