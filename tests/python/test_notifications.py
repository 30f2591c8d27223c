"""pulso with a second real client from another ecosystem: python-socketio's AsyncClient
(the stack the older notification service planned) against the real binary.

Run from the repository root after `cargo build --bin pulso`:
    python -m unittest discover -s tests/python -v
"""

import asyncio
import json
import os
import pathlib
import tempfile
import unittest

import aiohttp
import socketio

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("PULSO_BIN", str(ROOT / "target" / "debug" / "pulso"))
TIMEOUT = 5.0
ADMIN_KEY = "python-admin-key"
STAFF_KEY = "python-staff-key"


class Inbox:
    """Every event a client received, in order, taken one at a time with a timeout."""

    def __init__(self, client: socketio.AsyncClient):
        self.events: list[tuple[str, object]] = []
        self.arrived = asyncio.Condition()

        async def record(event, data=None):
            async with self.arrived:
                self.events.append((event, data))
                self.arrived.notify_all()

        client.on("*", record)

    async def next(self, event: str):
        async def take():
            async with self.arrived:
                while True:
                    for index, (name, data) in enumerate(self.events):
                        if name == event:
                            del self.events[index]
                            return data
                    await self.arrived.wait()

        return await asyncio.wait_for(take(), TIMEOUT)


class NotificationsFromPython(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        database = pathlib.Path(self.tmp.name) / "python.db"
        self.server = await asyncio.create_subprocess_exec(
            BIN,
            env={
                "PULSO_ADDR": "127.0.0.1:0",
                "DATABASE_URL": f"sqlite://{database}?mode=rwc",
                "PULSO_LOG_FORMAT": "json",
                "PULSO_API_KEYS": f"{ADMIN_KEY}:admin,{STAFF_KEY}:staff",
            },
            stdout=asyncio.subprocess.PIPE,
        )
        self.url = await asyncio.wait_for(self.listening_url(), 15)
        self.http = aiohttp.ClientSession()

    async def listening_url(self) -> str:
        while line := await self.server.stdout.readline():
            entry = json.loads(line)
            if entry.get("message", "").startswith("pulso listening"):
                # Keep draining the log so the server never blocks on a full pipe.
                asyncio.get_running_loop().create_task(self.drain())
                return f"http://{entry['addr']}"
        raise RuntimeError("pulso exited before listening")

    async def drain(self):
        while await self.server.stdout.readline():
            pass

    async def asyncTearDown(self):
        await self.http.close()
        self.server.terminate()
        await asyncio.wait_for(self.server.wait(), 15)
        self.tmp.cleanup()

    async def connect(self, user_id: str) -> tuple[socketio.AsyncClient, Inbox]:
        client = socketio.AsyncClient(reconnection=False)
        inbox = Inbox(client)
        await client.connect(
            self.url,
            # python-socketio passes every argument to the handler and cannot recover a
            # session: without offsets each event has exactly one argument.
            auth={"api_key": STAFF_KEY, "user_id": user_id, "recovery": False},
            wait_timeout=TIMEOUT,
        )
        return client, inbox

    async def test_inbox_round_trip(self):
        client, inbox = await self.connect("py-user")
        hello = await inbox.next("connection_established")
        self.assertEqual(hello["user_id"], "py-user")
        self.assertEqual(hello["role"], "staff")
        self.assertIn("user:py-user", hello["rooms"])
        self.assertEqual(await inbox.next("unread_count"), {"unread_count": 0})

        async with self.http.post(
            f"{self.url}/api/notifications",
            headers={"X-API-Key": ADMIN_KEY, "X-User-Id": "ops"},
            json={"user_id": "py-user", "subject": "Restock", "message": "Aisle 4", "priority": "high"},
        ) as response:
            self.assertEqual(response.status, 201)
            sent = await response.json()

        envelope = await inbox.next("notification")
        self.assertEqual(envelope["type"], "notification")
        self.assertEqual(envelope["room"], "user:py-user")
        self.assertEqual(envelope["data"]["id"], sent["id"])
        self.assertEqual(envelope["data"]["subject"], "Restock")
        self.assertEqual(envelope["data"]["severity"], "error")
        self.assertFalse(envelope["data"]["read"])
        self.assertEqual(await inbox.next("unread_count"), {"unread_count": 1})

        ack = await client.call("mark_read", {"notification_id": sent["id"]}, timeout=TIMEOUT)
        self.assertTrue(ack["ok"], ack)
        confirmation = await inbox.next("notification_read_confirmation")
        self.assertEqual(confirmation["data"]["notification_id"], sent["id"])
        self.assertTrue(confirmation["data"]["read"])
        self.assertEqual(await inbox.next("unread_count"), {"unread_count": 0})

        ack = await client.call("get_unread_count", {}, timeout=TIMEOUT)
        self.assertEqual(ack, {"ok": True, "data": {"unread_count": 0}})
        await client.disconnect()

    async def test_refused_credentials_say_why(self):
        client = socketio.AsyncClient(reconnection=False)
        reasons = []
        client.on("connect_error", lambda data: reasons.append(data))
        with self.assertRaises(socketio.exceptions.ConnectionError):
            await client.connect(
                self.url,
                auth={"api_key": "wrong", "user_id": "py-user"},
                wait_timeout=TIMEOUT,
            )
        self.assertEqual(reasons, [{"message": "unauthorized: unknown api key"}])

if __name__ == "__main__":
    unittest.main()
