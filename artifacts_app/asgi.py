"""ASGI entry point: Django for HTTP, plus Prefect's events websocket at /api/events/in.

Prefect's client opens `/api/events/in` after each write (subprotocol "prefect", first message
`{"type": "auth", "token": ...}`, expects `{"type": "auth_success"}`) and logs a warning when the
socket is refused. We accept it, check the token when one is sent, and discard the events on
purpose: artifacts themselves arrive through the REST API, and we keep no event store."""

import json
import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artifacts_app.settings")
# HTTP runs through Django's WSGI handler on a fixed pool of threads (a2wsgi). Our views are
# synchronous: Django's ASGI handler would hop between the event loop and a fresh thread for each
# sync middleware and the view, and open a new database connection per request (connections are
# per thread). Long-lived threads keep their connections (DJANGO_CONN_MAX_AGE); measured in
# benchmarks/README.md: 4.5x the requests/s on GET /api/artifacts/{key}/latest.
django_application = WSGIMiddleware(
    get_wsgi_application(), workers=int(os.environ.get("ARTIFACTS_HTTP_THREADS", "8"))
)

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
