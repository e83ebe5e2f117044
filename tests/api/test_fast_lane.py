"""The fast lane (artifacts_app/api/fast.py) against Django's own answers, on the real database.

Each request goes through the lane's ASGI app with a recording app behind it standing in for
Django, and through DRF's test client (Django's whole stack). Ordinary requests must be answered
by the lane itself, with the same status, JSON and headers as Django's; everything else must reach
the app behind it untouched (same body), so Django's errors stay the only errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid

import orjson
import pytest
from django.core.cache import cache

from artifacts_app.api import auth, fast
from artifacts_app.models import Artifact, ArtifactCollection
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db(transaction=True)

MISSING = "00000000-0000-4000-8000-000000000000"
RUN = "0190f1e4-0000-7000-8000-00000000d3e0"


class Behind:
    """Stands in for Django behind the lane: records what reached it."""

    def __init__(self):
        self.calls: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def call(
    method, path, body=None, token=None, headers=(), raw=None, content_type=b"application/json"
):
    """One request through the lane; (status, headers dict, body bytes, reached Django).
    `content_type=None` sends a body without a Content-Type header."""
    behind = Behind()
    app = fast.lane(behind)
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    header_list = [(b"host", b"testserver"), *headers]
    if content or method != "GET":
        if content_type is not None:
            header_list.append((b"content-type", content_type))
        header_list.append((b"content-length", str(len(content)).encode()))
    if token:
        header_list.append((b"authorization", f"Bearer {token}".encode()))
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": header_list,
        "client": ("127.0.0.1", 5000),
    }
    chunks = [{"type": "http.request", "body": content, "more_body": False}]
    sent = []

    async def receive():
        if chunks:
            return chunks.pop()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    result = {k.decode(): v.decode() for k, v in start["headers"]}
    reached = behind.calls[0] if behind.calls else None
    if reached is not None:
        assert reached[2] == content, "the lane must hand Django the body it read"
    return start["status"], result, b"".join(m.get("body", b"") for m in sent[1:]), reached


def django(client, method, path, body=None):
    response = getattr(client, method.lower())(path, body, format="json")
    return response


def same_headers(lane: dict, response) -> None:
    theirs = {k.lower(): v for k, v in response.headers.items()}
    for name in ("content-length", "content-security-policy"):
        lane.pop(name, None)
        theirs.pop(name, None)
    assert lane == theirs


def csp(value: str) -> set[str]:
    return {part.strip() for part in value.split(";")}


@pytest.fixture(autouse=True)
def _fresh_lane():
    cache.clear()
    auth.forget_tokens()
    yield
    fast._get_store().close()


@pytest.fixture
def seeded():
    for i in range(3):
        ArtifactFactory(key="sales", table=True, description=f"v{i}", metadata={"rows": str(i)})
    ArtifactFactory(key="notes", data="# Ünïcode ✓ <b>", flow_run_id=uuid.UUID(RUN))
    ArtifactFactory(key="bar", progress=True)
    ArtifactFactory(key=None, data={"nested": {"list": [1, 2.5, None, True]}}, type=None)
    ArtifactFactory(key="pic", image=True)
    return Artifact.objects.count()


@pytest.fixture
def known_token(api_client):
    """A token Django has already accepted once in this process (so the lane knows it)."""
    assert api_client.get("/api/artifacts/sales/latest").status_code in (200, 404)
    return api_client._credentials["HTTP_AUTHORIZATION"].split()[1]


READS = [
    ("GET", "/api/artifacts/sales/latest", None),
    ("GET", "/api/artifacts/notes/latest/", None),
    ("POST", "/api/artifacts/filter", {}),
    ("POST", "/api/artifacts/filter/", None),
    ("POST", "/api/artifacts/filter", {"limit": 2, "offset": 1}),
    ("POST", "/api/artifacts/filter", {"limit": 0}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"type": {"any_": ["table"]}}, "limit": 50}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"type": {"not_any_": ["table"]}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"type": {"not_any_": []}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"type": {"any_": []}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"key": {"any_": ["sales", "pic"]}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"key": {"exists_": False}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"key": {"exists_": True}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [RUN]}}}),
    ("POST", "/api/artifacts/filter", {"artifacts": {"id": {"any_": [MISSING]}}}),
    (
        "POST",
        "/api/artifacts/filter",
        {
            "artifacts": {
                "operator": "and_",
                "id": None,
                "key": {"any_": ["sales"], "like_": None, "exists_": None},
                "type": {"any_": None, "not_any_": None},
                "flow_run_id": None,
                "task_run_id": None,
            },
            "flow_runs": None,
            "task_runs": {"operator": "and_", "id": None},
            "sort": "ID_DESC",
            "limit": 10,
            "offset": 0,
        },
    ),
    ("POST", "/api/artifacts/latest/filter", {}),
    ("POST", "/api/artifacts/latest/filter/", {"limit": 2, "offset": 1}),
    ("POST", "/api/artifacts/latest/filter", {"artifacts": {"type": {"any_": ["progress"]}}}),
    ("POST", "/api/artifacts/latest/filter", {"artifacts": {"key": {"any_": ["sales"]}}}),
    ("POST", "/api/artifacts/latest/filter", {"artifacts": {"flow_run_id": {"any_": [RUN]}}}),
]
READS += [
    ("POST", path, {"sort": sort})
    for path in ("/api/artifacts/filter", "/api/artifacts/latest/filter")
    for sort in ("CREATED_DESC", "UPDATED_DESC", "ID_DESC", "KEY_DESC", "KEY_ASC")
]


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_reads_are_answered_by_the_lane_exactly_as_django_answers(
    seeded, anon_client, method, path, body
):
    status, headers, content, reached = call(method, path, body)
    assert reached is None, "an ordinary read must be answered by the lane"
    expected = django(anon_client, method, path, body)
    assert status == expected.status_code == 200
    assert orjson.loads(content) == expected.json()
    lane_csp = csp(headers["content-security-policy"])
    assert lane_csp == csp(expected.headers["Content-Security-Policy"])
    same_headers(headers, expected)


def test_the_lane_embeds_stored_json_without_decoding_it(seeded):
    """What makes it cheap: `data` is the stored JSON text itself (Django re-encodes it)."""
    _, _, content, reached = call("POST", "/api/artifacts/filter", {"limit": 50})
    assert reached is None
    assert b'"nested": {"list": [1, 2.5, null, true]}' in content
    unkeyed = [a for a in orjson.loads(content) if a["key"] is None]
    assert unkeyed[0]["data"] == {"nested": {"list": [1, 2.5, None, True]}}


HANDED_OVER = [
    ("GET", "/api/artifacts/missing/latest", None, 404),
    ("GET", "/api/artifacts/Sales/latest", None, 404),
    ("POST", "/api/artifacts/filter", {"limit": 500}, 422),
    ("POST", "/api/artifacts/filter", {"sort": "NEWEST"}, 422),
    ("POST", "/api/artifacts/filter", {"colour": "red"}, 422),
    ("POST", "/api/artifacts/filter", [1, 2], 422),
    ("POST", "/api/artifacts/filter", {"artifacts": {"key": {"like_": "sal"}}}, 200),
    ("POST", "/api/artifacts/filter", {"artifacts": {"operator": "or_"}}, 200),
    ("POST", "/api/artifacts/filter", {"artifacts": {"description": {"like_": "v1"}}}, 200),
    ("POST", "/api/artifacts/filter", {"flow_runs": {"id": {"any_": [RUN]}}}, 200),
    ("POST", "/api/artifacts/filter", {"flows": {"id": {"any_": [RUN]}}}, 422),
    ("POST", "/api/artifacts/latest/filter", {"artifacts": {"id": {"any_": [MISSING]}}}, 422),
]


@pytest.mark.parametrize(("method", "path", "body", "django_status"), HANDED_OVER)
def test_unusual_reads_go_to_django_with_their_body(
    seeded, anon_client, method, path, body, django_status
):
    _, _, _, reached = call(method, path, body)
    assert reached is not None
    assert reached[:2] == (method, path)
    assert django(anon_client, method, path, body).status_code == django_status


def test_bad_json_and_big_bodies_go_to_django(seeded):
    for raw in (
        b"{not json",
        b'"\\ud800"',
        b'{"a": "\\u0000"}',
        b'{"limit": 123456789012345678901234}',
        b" " * (fast.BODY_MAX + 1),
    ):
        _, _, _, reached = call("POST", "/api/artifacts/filter", raw=raw)
        assert reached is not None
        assert reached[2] == raw


@pytest.mark.parametrize(
    ("content_type", "lane_answers"),
    [
        (b"application/json; charset=utf-8", True),
        (b"Application/JSON", True),
        (b"text/plain", False),
        (b"application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_only_bodies_declared_json_are_read_by_the_lane(seeded, content_type, lane_answers):
    """DRF parses JSON bodies only (415 otherwise; no content type: no data)."""
    body = b'{"limit": 1}'
    _, _, content, reached = call(
        "POST", "/api/artifacts/filter", raw=body, content_type=content_type
    )
    if lane_answers:
        assert reached is None
        assert len(orjson.loads(content)) == 1
    else:
        assert reached == ("POST", "/api/artifacts/filter", body)


@pytest.mark.parametrize(
    "accept",
    [b"application/json", b"*/*", b"text/html,application/xhtml+xml;q=0.9", b"application/xml"],
)
def test_the_lane_answers_only_what_drf_would_not_refuse_as_406(seeded, anon_client, accept):
    _, _, _, reached = call("GET", "/api/artifacts/sales/latest", headers=[(b"accept", accept)])
    status = anon_client.get("/api/artifacts/sales/latest", HTTP_ACCEPT=accept.decode())
    assert (reached is None) == (status.status_code == 200)
    assert status.status_code in (200, 406)


def test_django_refuses_a_body_that_is_not_json(anon_client):
    response = anon_client.generic("POST", "/api/artifacts/filter", b'{"limit": 1}', "text/plain")
    assert response.status_code == 415


def test_sessions_forwarded_addresses_and_unknown_tokens_go_to_django(seeded, known_token):
    for headers, token in (
        ([(b"cookie", b"sessionid=abc")], None),
        ([(b"x-forwarded-for", b"10.0.0.1")], None),
        ([], "art_not-a-token"),
        ([(b"authorization", b"Basic dXNlcjpwYXNz")], None),
    ):
        _, _, _, reached = call("GET", "/api/artifacts/sales/latest", None, token, headers)
        assert reached is not None
    status, _, _, reached = call("GET", "/api/artifacts/sales/latest", None, known_token)
    assert (status, reached) == (200, None)
    auth.forget_tokens()  # revoked in admin: the lane stops accepting it at once
    _, _, _, reached = call("GET", "/api/artifacts/sales/latest", None, known_token)
    assert reached is not None


def test_writes_without_a_known_token_go_to_django(seeded):
    body = {"key": "sales", "type": "table", "data": "[]"}
    _, _, _, reached = call("POST", "/api/artifacts/", body)
    assert reached is not None
    assert Artifact.objects.count() == seeded


def test_throttled_clients_go_to_django_which_answers_429(seeded, anon_client, settings):
    settings.ARTIFACTS_THROTTLE_ANON = "3/minute"
    answered = [call("GET", "/api/artifacts/sales/latest")[3] is None for _ in range(4)]
    assert answered == [True, True, True, False]
    assert anon_client.get("/api/artifacts/sales/latest").status_code == 429


CREATES = [
    {"key": "sales", "type": "table", "data": '[{"a": 1}]', "description": "from the lane"},
    {
        "key": "fresh-key",
        "type": "markdown",
        "description": None,
        "data": "# Hello ✓",
        "metadata_": {"rows": "1", "long": "x" * 600},
        "flow_run_id": RUN,
        "task_run_id": None,
    },
    {"type": "result", "data": {"a": [1, 2.5, None], "b": "ü"}},
    {"key": "bar", "type": "progress", "data": 42},
    {},
]


def _masked(artifact: dict) -> dict:
    return {k: v for k, v in artifact.items() if k not in ("id", "created", "updated")}


@pytest.mark.parametrize("body", CREATES)
def test_creates_store_and_answer_what_django_would(seeded, api_client, known_token, body):
    status, headers, content, reached = call("POST", "/api/artifacts/", body, known_token)
    assert (status, reached) == (201, None)
    lane = orjson.loads(content)
    expected = api_client.post("/api/artifacts/", body, format="json")
    assert expected.status_code == 201
    assert _masked(lane) == _masked(expected.json())
    same_headers(headers, expected)
    stored = api_client.get(f"/api/artifacts/{lane['id']}").json()
    assert stored == {**lane, "created": stored["created"], "updated": stored["updated"]}
    assert stored["created"] == lane["created"]
    if body.get("key"):
        # Django's create came second, so it is the latest; the lane's is the one before it
        versions = Artifact.objects.for_key(body["key"]).values_list("id", flat=True)
        assert [str(v) for v in versions[:2]] == [expected.json()["id"], lane["id"]]
        collection = ArtifactCollection.objects.get(key=body["key"])
        assert str(collection.latest_id) == expected.json()["id"]


def test_a_lane_create_is_the_latest_and_strictly_newer(seeded, known_token):
    before = ArtifactCollection.objects.get(key="sales")
    status, _, content, _ = call(
        "POST", "/api/artifacts", {"key": "sales", "type": "table", "data": "[]"}, known_token
    )
    created = orjson.loads(content)
    after = ArtifactCollection.objects.get(key="sales")
    assert status == 201
    assert str(after.latest_id) == created["id"]
    assert after.updated > before.updated
    assert after.type == "table"


@pytest.mark.parametrize(
    ("body", "django_status"),
    [
        ({"key": "Bad Key", "type": "table", "data": "[]"}, 422),
        ({"key": "k", "type": "table", "data": "not a table"}, 422),
        ({"key": "k", "type": "progress", "data": 101}, 422),
        ({"key": "k", "type": "image", "data": "javascript:alert(1)"}, 422),
        ({"key": "k", "metadata_": {"a": 1}}, 422),
        ({"key": "k", "flow_run_id": "nope"}, 422),
        ({"key": "k", "colour": "red"}, 422),
        ({"description": "a\u0000b"}, 422),
        ({"data": {"n": 123456789012345678901234567890}}, 422),
        ({"key": 5}, 201),  # DRF's CharField takes a number as its string: Django decides
    ],
)
def test_unusual_creates_go_to_django_and_the_lane_writes_nothing(
    seeded, api_client, known_token, body, django_status
):
    _, _, _, reached = call("POST", "/api/artifacts/", body, known_token)
    assert reached is not None
    assert Artifact.objects.count() == seeded
    response = api_client.post("/api/artifacts/", body, format="json")
    assert response.status_code == django_status, response.content
    assert Artifact.objects.count() == seeded + (django_status == 201)


def test_patches_update_in_place_with_a_later_updated(seeded, api_client, known_token):
    bar = Artifact.objects.get(key="bar")
    status, headers, content, reached = call(
        "PATCH", f"/api/artifacts/{bar.pk}", {"data": 55.5}, known_token
    )
    assert (status, content, reached) == (204, b"", None)
    bar_after = Artifact.objects.get(pk=bar.pk)
    assert bar_after.data == 55.5
    assert bar_after.updated > bar.updated
    expected = api_client.patch(f"/api/artifacts/{bar.pk}", {"data": 60}, format="json")
    assert expected.status_code == 204
    same_headers(headers, expected)
    sales = Artifact.objects.for_key("sales").first()
    status, _, _, reached = call(
        "PATCH",
        f"/api/artifacts/{sales.pk}/",
        {"description": "new", "metadata_": {"k": "v"}},
        known_token,
    )
    assert (status, reached) == (204, None)
    sales.refresh_from_db()
    assert (sales.description, sales.metadata, sales.data) == ("new", {"k": "v"}, sales.data)


@pytest.mark.parametrize(
    ("path_id", "body"),
    [
        (MISSING, {"data": 1}),
        ("bar", {"data": 101}),
        ("bar", {"data": "x"}),
        ("bar", {"colour": "red"}),
        ("bar", {"metadata_": ["a"]}),
        ("not-a-uuid", {"data": 1}),
    ],
)
def test_unusual_patches_go_to_django_and_change_nothing(seeded, known_token, path_id, body):
    bar = Artifact.objects.get(key="bar")
    target = str(bar.pk) if path_id == "bar" else path_id
    _, _, _, reached = call("PATCH", f"/api/artifacts/{target}", body, known_token)
    assert reached is not None
    after = Artifact.objects.get(pk=bar.pk)
    assert (after.data, after.updated) == (bar.data, bar.updated)


def test_the_lane_can_be_turned_off(seeded, settings):
    settings.ARTIFACTS_FAST_API = False
    _, _, _, reached = call("GET", "/api/artifacts/sales/latest")
    assert reached is not None


def test_lane_writes_wait_for_another_process_writing_sqlite(seeded, on_postgres, known_token):
    """Server workers queue on one lock file next to the database (not in SQLite's sleeping busy
    handler): a lane write waits while another process holds it, then succeeds."""
    if on_postgres:
        pytest.skip("PostgreSQL locks rows; there is no writer lock")
    from django.db import connection

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys, time\n"
            "f = open(sys.argv[1] + '.writer-lock', 'a')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\n"
            "print('locked', flush=True)\n"
            "time.sleep(0.6)\n",
            connection.settings_dict["NAME"],
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        status, _, _, reached = call(
            "POST", "/api/artifacts/", {"key": "sales", "data": "[]"}, known_token
        )
        waited = time.monotonic() - started
    finally:
        holder.wait(10)
    assert (status, reached) == (201, None)
    assert waited >= 0.3


def test_hosts_outside_allowed_hosts_go_to_django(seeded, anon_client):
    _, _, _, reached = call("GET", "/api/artifacts/sales/latest", headers=[(b"host", b"evil.test")])
    assert reached is not None
    assert anon_client.get("/api/artifacts/sales/latest", HTTP_HOST="evil.test").status_code == 400


def test_https_redirect_and_hsts_behind_a_proxy_as_django_does(seeded, anon_client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _, _, _, reached = call("GET", "/api/artifacts/sales/latest")
    assert reached is not None  # plain http: Django redirects it
    assert anon_client.get("/api/artifacts/sales/latest").status_code == 301
    status, headers, _, reached = call(
        "GET", "/api/artifacts/sales/latest", headers=[(b"x-forwarded-proto", b"https")]
    )
    assert (status, reached) == (200, None)
    expected = anon_client.get("/api/artifacts/sales/latest", HTTP_X_FORWARDED_PROTO="https")
    assert expected.status_code == 200
    assert headers["strict-transport-security"] == expected["Strict-Transport-Security"]
    same_headers(headers, expected)
