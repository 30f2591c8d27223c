"""What the Python suites share: the real pulso binary, one per test with a database of
its own, and python-socketio clients whose events are taken one at a time with a timeout.
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


class ServerTestCase(unittest.IsolatedAsyncioTestCase):
    """Starts pulso for each test with `server_env` (PULSO_API_KEYS, ...) on a free port."""

    server_env: dict[str, str] = {}

    async def asyncSetUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        database = pathlib.Path(self.tmp.name) / "python.db"
        self.server = await asyncio.create_subprocess_exec(
            BIN,
            env={
                "PULSO_ADDR": "127.0.0.1:0",
                "DATABASE_URL": f"sqlite://{database}?mode=rwc",
                "PULSO_LOG_FORMAT": "json",
                **self.server_env,
            },
            stdout=asyncio.subprocess.PIPE,
        )
        self.url = await asyncio.wait_for(self.listening_url(), 15)
        self.http = aiohttp.ClientSession()
        self.clients: list[socketio.AsyncClient] = []

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
        for client in self.clients:
            await client.disconnect()
        await self.http.close()
        self.server.terminate()
        await asyncio.wait_for(self.server.wait(), 15)
        self.tmp.cleanup()

    async def connect(self, auth: dict) -> tuple[socketio.AsyncClient, Inbox]:
        client = socketio.AsyncClient(reconnection=False)
        inbox = Inbox(client)
        await client.connect(
            self.url,
            # python-socketio passes every argument to the handler and cannot recover a
            # session: without offsets each event has exactly one argument.
            auth={**auth, "recovery": False},
            wait_timeout=TIMEOUT,
        )
        self.clients.append(client)
        return client, inbox
