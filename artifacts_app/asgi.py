"""ASGI entry point: Django for HTTP, plus Prefect's events websocket at /api/events/in.

Prefect's client opens `/api/events/in` after each write (subprotocol "prefect", first message
`{"type": "auth", "token": ...}`, expects `{"type": "auth_success"}`) and logs a warning when the
socket is refused. We accept it, check the token when one is sent, and discard the events on
purpose: artifacts themselves arrive through the REST API, and we keep no event store."""

import asyncio
import gc
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from a2wsgi.wsgi import Body, build_environ
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")


class WSGIBridge:
    """HTTP through Django's WSGI handler on a fixed pool of threads, one hand-off per request.

    Our views are synchronous: Django's ASGI handler would hop between the event loop and a fresh
    thread for each sync middleware and the view, and open a new database connection per request
    (connections are per thread). Long-lived threads keep their connections
    (DJANGO_CONN_MAX_AGE). a2wsgi's middleware does the same job but blocks the thread on the
    event loop three times per response (start, body, end); here a whole response travels back
    in one hand-off, and only a streaming response (a download) is sent as it is produced. The
    environ is a2wsgi's; a body that arrives in several messages is read as a2wsgi reads it.
    Measured in benchmarks/README.md (server CPU per request)."""

    def __init__(self, app, threads: int):
        self.app = app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope, receive, send):
        loop = asyncio.get_running_loop()
        first = await receive()
        if first["type"] != "http.request":
            return  # the client went away before its request arrived
        if first.get("more_body"):
            body = Body(loop, receive)
            body.buffer.extend(first.get("body", b""))
        else:
            body = io.BytesIO(first.get("body", b""))
        environ = build_environ(scope, body)
        answer = await loop.run_in_executor(self.executor, self.respond, environ, loop, send)
        if answer is not None:
            status, headers, content = answer
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

    def respond(self, environ, loop, send):
        """Runs on a pool thread: (status, headers, body), or None once a streaming response
        has been sent from here."""
        started = []

        def start_response(status, headers, exc_info=None):
            started[:] = [
                int(status.split(" ", 1)[0]),
                [(k.strip().lower().encode("latin1"), v.encode("latin1")) for k, v in headers],
            ]

        response = self.app(environ, start_response)
        try:
            if not getattr(response, "streaming", False):
                return started[0], started[1], b"".join(response)

            def push(message):
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            push({"type": "http.response.start", "status": started[0], "headers": started[1]})
            for chunk in response:
                if chunk:
                    push({"type": "http.response.body", "body": chunk, "more_body": True})
            push({"type": "http.response.body", "body": b""})
            return None
        finally:
            response.close()


django_application = WSGIBridge(
    get_wsgi_application(), threads=int(os.environ.get("ARTIFACTS_HTTP_THREADS", "8"))
)


def load_what_requests_need() -> None:
    """What a worker's first requests would load: the URLconf and every view it imports, our
    templates (compiled once, kept by Django's cached loader), markdown's extensions and
    bleach's parser. Loaded here, they cost the worker's start instead of its first page (a
    first /artifacts/ took 98 ms against 17 for the next; measured in benchmarks/README.md)."""
    from django.conf import settings
    from django.template.loader import get_template
    from django.urls import get_resolver

    from artifacts_app import rendering

    get_resolver().url_patterns  # noqa: B018 - imports the views
    for directory in (Path(d) for t in settings.TEMPLATES for d in t.get("DIRS", ())):
        for template in sorted(directory.rglob("*.html")):
            get_template(template.relative_to(directory).as_posix())
    rendering.markdown_to_html("A *first* [link](https://example.com)")


def freeze_startup_objects() -> None:
    """Move what a worker loads once (Django, DRF, our modules, views and templates) out of the
    garbage collector's reach: each full collection would otherwise walk those objects (about
    90,000 before the templates) again, many times a minute under load. Objects made later, per
    request, are collected as before. Measured with `server_cpu.py` (SQLite, 10,000 artifacts,
    the README's deploy command with Redis, 5 interleaved rounds): `latest` 1,468 -> 1,596
    req/s (1,043 -> 963 us of server CPU each), `create` 353 -> 482 req/s (p99 113 -> 79 ms)."""
    gc.collect()
    gc.freeze()


load_what_requests_need()
freeze_startup_objects()

EVENTS_PATHS = {"/api/events/in", "/api/events/in/"}


def _token_ok(token) -> bool:
    from artifacts_app.models import ApiToken, hash_token

    if not isinstance(token, str) or not token:
        return False
    return ApiToken.objects.active().filter(digest=hash_token(token)).exists()


async def events_socket(scope, receive, send):
    from asgiref.sync import sync_to_async
    from django.conf import settings

    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if scope["path"] not in EVENTS_PATHS:
        await send({"type": "websocket.close", "code": 4404})
        return
    subprotocols = scope.get("subprotocols") or []
    accept = {"type": "websocket.accept"}
    if "prefect" in subprotocols:
        accept["subprotocol"] = "prefect"
    await send(accept)
    authenticated = False
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message["type"] != "websocket.receive":
            continue
        if authenticated:
            continue  # an event: discarded on purpose
        try:
            payload = json.loads(message.get("text") or message.get("bytes") or b"")
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or payload.get("type") != "auth":
            await send({"type": "websocket.close", "code": 1008})
            return
        token = payload.get("token")
        if token is None and settings.ARTIFACTS_PUBLIC_READ:
            authenticated = True  # events carry nothing we store; unauthenticated clients may send
        else:
            authenticated = await sync_to_async(_token_ok)(token)
        if not authenticated:
            await send(
                {
                    "type": "websocket.send",
                    "text": json.dumps({"type": "auth_failure", "reason": "Invalid token"}),
                }
            )
            await send({"type": "websocket.close", "code": 1008})
            return
        await send({"type": "websocket.send", "text": json.dumps({"type": "auth_success"})})


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "http":
        await django_application(scope, receive, send)
    elif scope["type"] == "websocket":
        await events_socket(scope, receive, send)
    elif scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
