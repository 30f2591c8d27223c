"""Announce a backend's own changes to pulso's dashboards (POST /api/publish).

Standard library only. Routers call the `emit_*` functions after their transaction
commits; they read PULSO_URL, PULSO_SERVICE_KEY and PULSO_SERVICE_USER, or build a
`Producer(url, key, user)` themselves. See docs/producers.md.
"""

import datetime
import decimal
import http.client
import json
import os
import time
import urllib.error
import urllib.request
import uuid


class PublishError(Exception):
    """pulso refused the events (a 4xx: not retried), or every attempt failed.

    `status` is None when pulso never answered. `fields` names each bad field as sent
    (`data.total`, `events[1].data.items[0].sku`). Publishing again with the same
    `idempotency_key` within 24 h cannot publish twice.
    """

    def __init__(self, message, status=None, code=None, fields=None, idempotency_key=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields or {}
        self.idempotency_key = idempotency_key


def _jsonable(value):
    """What the backend's rows hold that json cannot write: money and times."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Producer:
    def __init__(self, url, key, user="backend", timeout=5.0, attempts=4, backoff=0.25):
        self.endpoint = url.rstrip("/") + "/api/publish"
        self.headers = {"Content-Type": "application/json", "X-API-Key": key, "X-User-Id": user}
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff

    @classmethod
    def from_env(cls):
        return cls(
            os.environ.get("PULSO_URL", "http://127.0.0.1:8080"),
            os.environ["PULSO_SERVICE_KEY"],
            os.environ.get("PULSO_SERVICE_USER", "backend"),
        )

    def publish(self, *events, idempotency_key=None):
        """Publishes events (`{"type", "data"}`) in one request, all or none.

        Returns pulso's answer `{"events": [envelope, ...], "replayed": bool}`. A lost
        connection, a timeout or a 5xx is retried with the same idempotency key, so a
        request pulso took before its answer was lost is answered again, not repeated.
        """
        key = idempotency_key or str(uuid.uuid4())
        body = dict(events[0]) if len(events) == 1 else {"events": list(events)}
        payload = json.dumps({**body, "idempotency_key": key}, default=_jsonable).encode()
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            request = urllib.request.Request(self.endpoint, payload, self.headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.load(response)
            except urllib.error.HTTPError as answer:
                failure = _refusal(answer, key)
                if answer.code < 500:
                    raise failure from None
            # HTTPError is a URLError, caught above; OSError covers timeouts and resets.
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                failure = PublishError(f"pulso did not answer: {error}", idempotency_key=key)
        raise failure

    def emit(self, kind, data):
        """Publishes one event; returns its envelope as the dashboards receive it."""
        return self.publish({"type": kind, "data": data})["events"][0]

    def emit_order_created(self, order_data):
        return self.emit("order_created", order_data)

    def emit_order_updated(self, order_data):
        return self.emit("order_updated", order_data)

    def emit_stock_low(self, item_data):
        return self.emit("stock_low", item_data)

    def emit_notification(self, message, user_id=None, severity="info", subject="Notification"):
        data = {"user_id": user_id, "subject": subject, "message": message, "severity": severity}
        return self.emit("notification", data)


def _refusal(answer, key):
    try:
        error = json.load(answer)["error"]
    except (ValueError, KeyError, TypeError):  # not pulso's JSON (e.g. a proxy's page)
        error = {"code": None, "message": answer.reason}
    return PublishError(
        f"pulso answered {answer.code}: {error.get('message')}",
        status=answer.code,
        code=error.get("code"),
        fields=error.get("fields"),
        idempotency_key=key,
    )


def emit_order_created(order_data):
    return Producer.from_env().emit_order_created(order_data)


def emit_order_updated(order_data):
    return Producer.from_env().emit_order_updated(order_data)


def emit_stock_low(item_data):
    return Producer.from_env().emit_stock_low(item_data)


def emit_notification(message, user_id=None, severity="info", subject="Notification"):
    return Producer.from_env().emit_notification(message, user_id, severity, subject)
