"""pulso with a second real client from another ecosystem: python-socketio's AsyncClient
(the stack the older notification service planned) against the real binary.

Run from the repository root after `cargo build --bin pulso`:
    python -m unittest discover -s tests/python -v
"""

import socketio

from helpers import TIMEOUT, ServerTestCase

ADMIN_KEY = "python-admin-key"
STAFF_KEY = "python-staff-key"


class NotificationsFromPython(ServerTestCase):
    server_env = {"PULSO_API_KEYS": f"{ADMIN_KEY}:admin,{STAFF_KEY}:staff"}

    async def test_inbox_round_trip(self):
        client, inbox = await self.connect({"api_key": STAFF_KEY, "user_id": "py-user"})
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
