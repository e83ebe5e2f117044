"""Odd requests sent as raw bytes to a real server process on loopback: each is answered as
Django answers it (the server passes the request to Django's handler; nothing of ours parses
headers, checks hosts or authenticates before it), and nothing Django refuses is written."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from rest_framework.test import APIClient

from artifacts_app import services
from artifacts_app.models import Artifact
from tests.conftest import ROOT

pytestmark = pytest.mark.django_db(transaction=True)


def raw_request(
    base: str,
    head: list[str],
    body: bytes = b"",
    *,
    pieces: int = 1,
    leave_after: int | None = None,
) -> tuple[int, dict, bytes] | None:
    """Send one request exactly as given (header lines in order, duplicates kept); return
    (status, headers lower-cased, body). `pieces` > 1 sends the body in that many writes with
    pauses between them (the server then hands it over as several messages); `leave_after`
    sends only that many bytes of the body, closes the connection and returns None."""
    host, port = base.removeprefix("http://").split(":")
    lines = [*head, f"Content-Length: {len(body)}", "Connection: close", "", ""]
    sent = body if leave_after is None else body[:leave_after]
    step = max(1, -(-len(sent) // pieces))
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1"))
        for start in range(0, len(sent), step):
            if pieces > 1:
                time.sleep(0.05)
            sock.sendall(sent[start : start + step])
        if leave_after is not None:
            return None
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, payload


def post_head(token: str) -> list[str]:
    """The header lines of a JSON create with this token."""
    return [
        "POST /api/artifacts/ HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
    ]


@pytest.fixture
def writer(user):
    _, raw = services.token_create(user=user, name="edge cases")
    return raw


def test_two_authorization_headers_first_invalid_are_refused(module_server, writer):
    body = json.dumps({"key": "two-auth", "type": "markdown", "data": "x"}).encode()
    for first, second in [
        ("Bearer art_forged", f"Bearer {writer}"),
        ("Bearer ", f"Bearer {writer}"),
    ]:
        status, headers, _ = raw_request(
            module_server,
            [
                "POST /api/artifacts/ HTTP/1.1",
                "Host: 127.0.0.1",
                f"Authorization: {first}",
                f"Authorization: {second}",
                "Content-Type: application/json",
            ],
            body,
        )
        assert status == 401, status
        assert headers["www-authenticate"].startswith("Bearer")
    assert not Artifact.objects.filter(key="two-auth").exists()
    # The valid header alone works: the refusal above is about the duplicate.
    status, _, _ = raw_request(module_server, post_head(writer), body)
    assert status == 201
    assert Artifact.objects.filter(key="two-auth").count() == 1


@pytest.mark.parametrize(
    "hosts", [("evil.example.com", "127.0.0.1"), ("127.0.0.1", "evil.example.com")]
)
def test_two_host_headers_one_outside_allowed_hosts_are_refused(module_server, writer, hosts):
    body = json.dumps({"key": "two-hosts", "type": "markdown", "data": "x"}).encode()
    status, _, _ = raw_request(
        module_server,
        [
            "POST /api/artifacts/ HTTP/1.1",
            f"Host: {hosts[0]}",
            f"Host: {hosts[1]}",
            f"Authorization: Bearer {writer}",
            "Content-Type: application/json",
        ],
        body,
    )
    assert status == 400
    assert not Artifact.objects.filter(key="two-hosts").exists()
    status, _, _ = raw_request(
        module_server, ["GET /api/health HTTP/1.1", "Host: evil.example.com"]
    )
    assert status == 400  # a single disallowed host too, as Django's ALLOWED_HOSTS check says


@pytest.mark.parametrize("suffix", ["%0A", "%0D%0A", "%0a", "%00", "%20"])
def test_a_path_with_a_control_suffix_writes_nothing(module_server, writer, suffix):
    artifact = services.artifact_create(key="suffixed", type="progress", data=10.0)
    body = json.dumps({"data": 99.0}).encode()
    status, _, payload = raw_request(
        module_server,
        [
            f"PATCH /api/artifacts/{artifact.pk}{suffix} HTTP/1.1",
            "Host: 127.0.0.1",
            f"Authorization: Bearer {writer}",
            "Content-Type: application/json",
        ],
        body,
    )
    assert status == 404, (status, payload)
    artifact.refresh_from_db()
    assert artifact.data == 10.0
    # and Django's own answer for that path is the same (the test client decodes it as a server
    # does; a raw newline in a URL string would be dropped by urllib before Django saw it)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {writer}")
    answer = client.patch(f"/api/artifacts/{artifact.pk}{suffix}", {"data": 99.0}, format="json")
    assert answer.status_code == 404
    artifact.refresh_from_db()
    assert artifact.data == 10.0


CHARSET_CASES = [
    ("application/json; charset=utf-8", "utf-8"),
    ("application/json; charset=UTF-8", "utf-8"),
    ('application/json; charset="utf-8"', "utf-8"),
    ("application/json;charset=utf-8", "utf-8"),
    ("application/json; charset=latin-1", "latin-1"),
    ("application/json; charset=utf-16", "utf-16"),
    ("application/json; charset=no-such-codec", "utf-8"),
    ("application/json; charset=utf-8; boundary=x", "utf-8"),
]


@pytest.mark.parametrize(("content_type", "encoding"), CHARSET_CASES)
def test_a_charset_parameter_is_answered_as_django_answers_it(
    module_server, writer, content_type, encoding
):
    """The status over HTTP equals Django's test client's for the same bytes, and a write
    happens exactly when Django accepts it (with the text Django decoded)."""
    text = "caf\u00e9 \u2713" if encoding != "latin-1" else "caf\u00e9"
    body = json.dumps(
        {"key": "charset", "type": "markdown", "data": text}, ensure_ascii=False
    ).encode(encoding)
    status, _, payload = raw_request(
        module_server,
        [
            "POST /api/artifacts/ HTTP/1.1",
            "Host: 127.0.0.1",
            f"Authorization: Bearer {writer}",
            f"Content-Type: {content_type}",
        ],
        body,
    )
    over_http = list(Artifact.objects.filter(key="charset").values_list("data", flat=True))
    if over_http:
        services.artifact_delete_key(key="charset")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {writer}")
    answer = client.generic("POST", "/api/artifacts/", body, content_type=content_type)
    in_django = list(Artifact.objects.filter(key="charset").values_list("data", flat=True))
    assert status == answer.status_code, (status, payload, answer.content)
    assert over_http == in_django
    assert (status == 201) == bool(over_http)
    if status == 201:
        assert over_http == [text]
    # JSON in UTF-8 only: any other charset (or one that does not exist) is 415, writing nothing
    utf8 = "charset=utf-8" in content_type.lower().replace('"', "")
    assert status == (201 if utf8 else 415), (content_type, status, payload)


# How a request travels between the server and Django's WSGI handler (asgi.WSGIBridge): a body
# that arrives in several pieces, a response streamed from a file, HEAD, a client that leaves.


def test_a_body_sent_in_pieces_is_read_whole(module_server, writer):
    text = "".join(f"line {i} \u2713\n" for i in range(20_000))  # ~240 KB
    body = json.dumps({"key": "pieces", "type": "markdown", "data": text}).encode()
    status, _, payload = raw_request(module_server, post_head(writer), body, pieces=6)
    assert status == 201, payload[:300]
    assert Artifact.objects.get(key="pieces").data == text


def test_a_client_that_leaves_mid_body_writes_nothing_and_the_server_goes_on(module_server, writer):
    body = json.dumps({"key": "left", "type": "markdown", "data": "x" * 100_000}).encode()
    raw_request(module_server, post_head(writer), body, leave_after=40_000)
    time.sleep(0.5)
    status, _, payload = raw_request(module_server, ["GET /api/health HTTP/1.1", "Host: 127.0.0.1"])
    assert status == 200, payload
    assert not Artifact.objects.filter(key="left").exists()


def test_a_streamed_file_arrives_whole_and_head_has_no_body(module_server):
    path = "/static/artifacts/demo/throughput.svg"  # whitenoise: a streaming FileResponse
    expected = (ROOT / "static" / "artifacts" / "demo" / "throughput.svg").read_bytes()
    status, headers, payload = raw_request(
        module_server, [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    )
    assert (status, payload) == (200, expected)
    assert int(headers["content-length"]) == len(expected)
    status, headers, payload = raw_request(
        module_server, [f"HEAD {path} HTTP/1.1", "Host: 127.0.0.1"]
    )
    assert (status, payload) == (200, b"")
    assert int(headers["content-length"]) == len(expected)


def test_a_worker_loads_views_and_templates_at_start_and_keeps_them_from_the_collector():
    """asgi.load_what_requests_need and freeze_startup_objects: the views the URLconf imports
    and every template are loaded when the worker loads the app (not by its first request), and
    frozen, so a full collection under load does not walk them again."""
    probe = (
        "import gc, sys; import artifacts_app.asgi; "
        "from django.template import engines; "
        "cached = engines['django'].engine.template_loaders[0].get_template_cache; "
        "print(gc.get_freeze_count(), 'artifacts_app.api.views' in sys.modules, "
        "'artifacts/artifact_list.html' in cached)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "artifacts_app.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert int(out[0]) > 50_000, out
    assert out[1:] == ["True", "True"], out  # imported and compiled before the freeze
