"""Hostile input over real HTTP (a server process on loopback): every request gets a 4xx with a
message naming what is wrong and writes nothing (the row counts do not move); then everything
that CAN be stored is read back through every API read, page, download and the admin."""

import json

import pytest
from django.test import Client

from artifacts_app import jsoncheck, services
from artifacts_app.models import Artifact, ArtifactCollection
from tests.security.test_http_edge_cases import raw_request

pytestmark = pytest.mark.django_db(transaction=True)

SURROGATE = "\\ud800"  # a JSON escape: the body's bytes are ASCII
NESTED_101 = "[" * 101 + "]" * 101


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


# (name, method, path, body text, status, words of the message)
CREATE = "/api/artifacts/"
CASES = [
    ("surrogate-key", "POST", CREATE, f'{{"key": "{SURROGATE}", "data": 1}}', 422, "surrogate"),
    ("surrogate-description", "POST", CREATE, f'{{"description": "a{SURROGATE}"}}', 422, "surrogate"),
    ("surrogate-markdown", "POST", CREATE, f'{{"type": "markdown", "data": "# {SURROGATE}"}}', 422, "surrogate"),
    ("surrogate-low", "POST", CREATE, '{"data": "\\udfff"}', 422, "surrogate"),
    ("surrogate-nested-data", "POST", CREATE, f'{{"data": {{"a": [1, "{SURROGATE}"]}}}}', 422, "surrogate"),
    ("surrogate-metadata-value", "POST", CREATE, f'{{"data": 1, "metadata_": {{"m": "{SURROGATE}"}}}}', 422, "surrogate"),
    ("surrogate-metadata-key", "POST", CREATE, f'{{"data": 1, "metadata_": {{"{SURROGATE}": "v"}}}}', 422, "surrogate"),
    ("surrogate-type", "POST", CREATE, f'{{"type": "{SURROGATE}", "data": 1}}', 422, "surrogate"),
    ("nul-key", "POST", CREATE, '{"key": "a\\u0000b", "data": 1}', 422, "U+0000"),
    ("nul-description", "POST", CREATE, '{"description": "\\u0000"}', 422, "U+0000"),
    ("nul-data", "POST", CREATE, '{"type": "markdown", "data": "x\\u0000"}', 422, "U+0000"),
    ("nul-data-key", "POST", CREATE, '{"data": {"a\\u0000": 1}}', 422, "U+0000"),
    ("nul-metadata", "POST", CREATE, '{"data": 1, "metadata_": {"m": "\\u0000"}}', 422, "U+0000"),
    ("nul-type", "POST", CREATE, '{"type": "t\\u0000", "data": 1}', 422, "U+0000"),
    ("int-below-64-bits", "POST", CREATE, '{"data": -1234567890123456789012}', 422, "64 bits"),
    ("int-2**64", "POST", CREATE, f'{{"data": [{2**64}]}}', 422, "64 bits"),
    ("int-below-i64", "POST", CREATE, f'{{"data": {{"n": {-(2**63) - 1}}}}}', 422, "64 bits"),
    ("nan", "POST", CREATE, '{"data": NaN}', 422, "NaN"),
    ("infinity", "POST", CREATE, '{"data": [Infinity]}', 422, "Infinity"),
    ("minus-infinity", "POST", CREATE, '{"type": "progress", "data": -Infinity}', 422, "Infinity"),
    ("overflowing-float", "POST", CREATE, '{"data": 1e400}', 422, "too large"),
    ("data-nested-101", "POST", CREATE, f'{{"data": {NESTED_101}}}', 422, "nested deeper than 100"),
    ("data-nested-1100", "POST", CREATE, f'{{"data": {nested(1100)}}}', 422, "nested deeper than 100"),
    ("not-json", "POST", CREATE, '{"data": ', 422, "Invalid JSON"),
    ("filter-nested-1000", "POST", "/api/artifacts/filter", f'{{"artifacts": {nested(1000)}}}', 422, "nested deeper"),
    ("filter-surrogate-key-any", "POST", "/api/artifacts/filter", f'{{"artifacts": {{"key": {{"any_": ["{SURROGATE}"]}}}}}}', 422, "surrogate"),
    ("latest-filter-surrogate", "POST", "/api/artifacts/latest/filter", f'{{"artifacts": {{"key": {{"like_": "{SURROGATE}"}}}}}}', 422, "surrogate"),
    ("count-nul-type", "POST", "/api/artifacts/count", '{"artifacts": {"type": {"any_": ["\\u0000"]}}}', 422, "U+0000"),
    ("filter-offset-2**63", "POST", "/api/artifacts/filter", f'{{"offset": {2**63}}}', 422, "offset"),
    ("filter-offset-2**64", "POST", "/api/artifacts/filter", f'{{"offset": {2**64}}}', 422, "offset"),
    ("filter-offset-huge", "POST", "/api/artifacts/latest/filter", '{"offset": 123456789012345678901234}', 422, "64 bits"),
    ("filter-limit-2**64", "POST", "/api/artifacts/filter", f'{{"limit": {2**64}}}', 422, "limit"),
    ("list-offset-2**63", "GET", f"/api/artifacts/?offset={2**63}", None, 422, "offset"),
    ("list-nul-key", "GET", "/api/artifacts/?key=%00", None, 422, "U+0000"),
    ("latest-nul-key", "GET", "/api/artifacts/%00/latest", None, 404, "not found"),
    ("latest-surrogate-key", "GET", "/api/artifacts/%ED%A0%80/latest", None, 404, "not found"),
    ("delete-nul-key", "DELETE", "/api/artifacts/key/a%00", None, 404, "not found"),
    ("read-surrogate-id", "GET", "/api/artifacts/%ED%A0%80", None, 404, "not found"),
]  # fmt: skip


@pytest.fixture
def writer(user):
    _, raw = services.token_create(user=user, name="hostile")
    return raw


def send(base, token, method, path, body: bytes | None, content_type="application/json"):
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    if body is not None:
        head.append(f"Content-Type: {content_type}")
    status, headers, payload = raw_request(base, head, body or b"")
    return status, payload


def counts():
    return Artifact.objects.count(), ArtifactCollection.objects.count()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_request_is_a_4xx_with_a_message_and_writes_nothing(
    module_server, writer, method, path, body, status, words
):
    services.artifact_create(key="existing", type="markdown", data="# kept")
    before = counts()
    got, payload = send(module_server, writer, method, path, body.encode("ascii") if body else None)
    assert got == status, (got, payload[:300])
    answer = json.loads(payload)
    assert words.lower() in answer["detail"].lower(), answer
    if got == 422:
        assert answer["errors"], answer
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (f'{{"data": "{SURROGATE}"}}', "surrogate"),
        ('{"description": "\\u0000"}', "U+0000"),
        ('{"metadata_": {"\\u0000": "v"}}', "U+0000"),
        (f'{{"data": {2**64}}}', "64 bits"),
        ('{"data": NaN}', "NaN"),
        (f'{{"data": {nested(200)}}}', "nested deeper"),
    ],
)
def test_hostile_patch_changes_nothing(module_server, writer, body, words):
    artifact = services.artifact_create(key="patched", type="table", data=[{"a": 1}])
    status, payload = send(
        module_server, writer, "PATCH", f"/api/artifacts/{artifact.pk}", body.encode()
    )
    assert status == 422, payload
    assert words.lower() in json.loads(payload)["detail"].lower()
    fresh = Artifact.objects.get(pk=artifact.pk)
    assert (fresh.data, fresh.description, fresh.metadata, fresh.updated) == (
        [{"a": 1}],
        None,
        None,
        artifact.updated,
    )


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"increment": 1e400}', 422),
        ('{"value": NaN}', 422),
        (f'{{"increment": {2**64 + 1}}}', 422),
    ],
)
def test_hostile_progress_changes_nothing(module_server, writer, body, status):
    bar = services.artifact_create(key="bar", type="progress", data=10.0)
    got, payload = send(
        module_server, writer, "POST", f"/api/artifacts/{bar.pk}/progress", body.encode()
    )
    assert got == status, payload
    assert Artifact.objects.get(pk=bar.pk).data == 10.0


@pytest.mark.parametrize(
    ("content_type", "body", "status", "words"),
    [
        ("application/json; charset=latin-1", '{"data": "café"}'.encode("latin-1"), 415, "charset"),
        ("application/json; charset=utf-16", '{"data": "x"}'.encode("utf-16"), 415, "charset"),
        ("application/json; charset=no-such-codec", b'{"data": "x"}', 415, "charset"),
        ("application/json", '{"data": "café"}'.encode("latin-1"), 400, "UTF-8"),
        ("application/json; charset=utf-8", b'{"data": "\xed\xa0\x80"}', 400, "UTF-8"),
        ("application/json", b"\xff\xfe{}", 400, "UTF-8"),
    ],
)
def test_bodies_in_another_charset_are_refused(
    module_server, writer, content_type, body, status, words
):
    before = counts()
    got, payload = send(module_server, writer, "POST", CREATE, body, content_type)
    assert got == status, payload
    assert words.lower() in json.loads(payload)["detail"].lower()
    assert counts() == before


# ----------------------------------------------------------- what can be stored reads back --

STORABLE = {
    "u64-max": [2**64 - 1, -(2**63), 2**63 - 1],
    "floats": [1.7976931348623157e308, -0.0, 5e-324, 1e20],
    "deep": json.loads(nested(jsoncheck.MAX_DEPTH - 2, '"bottom"')),
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 \u2028\u2029 \u202e RTL \ufeff BOM",
    "escaped-nul-text": "\\u0000 is six characters here",
    "keys": {"": 1, "😀": 2, "a.b": 3, "<script>": 4, " ": [None, True, False]},
    "big-string": "x" * 100_000,
}


def test_everything_storable_reads_back_everywhere(module_server, writer, staff_user):
    ids = {}
    for n, (name, data) in enumerate(STORABLE.items()):
        for type_ in ("table", "markdown", "progress", "image", "link", "result", None):
            body = {"key": f"ok-{n}", "type": type_, "data": data, "description": name}
            body["metadata_"] = {"astral": "😀", "long": "y" * 600}
            status, payload = send(module_server, writer, "POST", CREATE, json.dumps(body).encode())
            assert status == 201, (name, type_, payload[:200])
            ids[(name, type_)] = json.loads(payload)["id"]
            assert json.loads(payload)["data"] == data
    services.artifact_create(type="result", data=STORABLE["u64-max"])  # unkeyed
    reads = (
        [("GET", f"/api/artifacts/ok-{n}/latest") for n in range(len(STORABLE))]
        + [
            ("POST", "/api/artifacts/filter"),
            ("POST", "/api/artifacts/latest/filter"),
            ("POST", "/api/artifacts/count"),
            ("GET", "/api/artifacts/?limit=200"),
        ]
        + [("GET", f"/api/artifacts/{pk}") for pk in ids.values()]
    )
    for method, path in reads:
        status, payload = send(
            module_server, writer, method, path, b"{}" if method == "POST" else None
        )
        assert status == 200, (path, payload[:200])
        json.loads(payload)
    client = Client()
    client.force_login(staff_user)
    pages = [
        "/artifacts/",
        "/artifacts/?view=list",
        "/artifacts/?tab=unkeyed",
        "/admin/artifacts_app/artifact/",
    ]
    pages += [f"/artifacts/key/ok-{n}/" for n in range(len(STORABLE))]
    for pk in ids.values():
        pages += [f"/artifacts/artifact/{pk}/", f"/artifacts/artifact/{pk}/download.json"]
        pages.append(f"/admin/artifacts_app/artifact/{pk}/change/")
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    for pk in ids.values():
        for fmt in ("csv", "md"):
            assert client.get(f"/artifacts/artifact/{pk}/download.{fmt}").status_code in (200, 404)


def test_pages_with_what_the_database_refuses_in_the_path_are_not_found(client):
    for path in (
        "/artifacts/key/a%00b/",
        "/artifacts/key/%ED%A0%80/",
        "/artifacts/key/a%00/embed/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/artifacts/?q=%00").status_code in (200, 400)


def test_query_parameters_with_nul_never_fail_a_page(staff_user):
    """PostgreSQL refuses U+0000 in text: it is dropped from a page's query parameters, so the
    page answers, never a 500 (the API answers 422, above)."""
    a = services.artifact_create(key="k", type="table", data=[{"a": 1}])
    b = services.artifact_create(key="k", type="table", data=[{"a": 2}])
    client = Client()
    client.force_login(staff_user)
    for path in [
        "/artifacts/?q=%00",
        "/artifacts/?type=%00",
        "/artifacts/?flow_run=a%00",
        "/artifacts/?sort=%00&page=%00",
        "/artifacts/key/k/?series=%00",
        f"/artifacts/key/k/diff/?a={a.pk}&b={b.pk}&key_column=%00",
        f"/artifacts/artifact/{a.pk}/?filter=%00&sort=%00",
        f"/artifacts/artifact/{a.pk}/table/?filter=%00",
        f"/artifacts/artifact/{a.pk}/download.csv?filter=%00",
        "/admin/artifacts_app/artifact/?q=%00",
        "/admin/artifacts_app/artifactcollection/?q=%00",
        "/runs/?q=%00",
        "/artifacts/?a%00=1",
    ]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    assert client.get("/artifacts/?q=%ED%A0%80").status_code == 200  # decoded as U+FFFD


def test_rows_stored_before_the_check_are_repaired_by_the_migration(staff_user, on_postgres):
    """SQLite kept a lone surrogate sent before jsoncheck as a `\\ud800` escape in the JSON
    text, and every page of that row failed; migration 0013 turns each into U+FFFD (and leaves
    emoji, stored as escaped pairs, alone)."""
    import importlib

    from django.apps import apps
    from django.db import connection

    if on_postgres:
        pytest.skip("PostgreSQL's jsonb never took a lone surrogate")
    broken = services.artifact_create(key="legacy", type="markdown", data="x")
    emoji = services.artifact_create(key="emoji", type="markdown", data="\U0001f600 ok")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE artifacts_app_artifact SET data = %s, metadata_ = %s WHERE id = %s",
            ['"a\\ud800b \\ud83d\\ude00"', '{"m": "\\udfff"}', broken.pk.hex],
        )
    client = Client()
    client.force_login(staff_user)
    with pytest.raises(UnicodeEncodeError):
        client.get(f"/artifacts/artifact/{broken.pk}/")  # what the migration is for
    migration = importlib.import_module("artifacts_app.migrations.0013_repair_lone_surrogates")
    with connection.schema_editor() as editor:
        migration.repair(apps, editor)
    fixed = Artifact.objects.get(pk=broken.pk)
    assert (fixed.data, fixed.metadata) == ("a\ufffdb \U0001f600", {"m": "\ufffd"})
    assert Artifact.objects.get(pk=emoji.pk).data == "\U0001f600 ok"
    for path in (f"/artifacts/artifact/{broken.pk}/", "/artifacts/", "/artifacts/key/legacy/"):
        assert client.get(path).status_code == 200, path
