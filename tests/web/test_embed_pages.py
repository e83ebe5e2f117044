"""HTML artifacts' sandboxed documents, embeds and permalinks."""

import re

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from artifacts_app import sandbox
from tests.factories import ArtifactFactory

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, str]:
    pairs = ((part.strip() + " ").split(" ", 1) for part in policy.split(";"))
    return {name: value.strip() for name, value in pairs}


# ---------------------------------------------------------------------------- html + embed --

HOSTILE = '"><script>parent.document.body.innerHTML="pwned"</script><img src=x onerror=alert(1)>'


def test_html_artifact_is_a_sandboxed_iframe_never_inline(client):
    artifact = ArtifactFactory(key="rich", type="html", data=HOSTILE)
    for url in (
        f"/artifacts/artifact/{artifact.pk}/",
        "/artifacts/key/rich/",
        "/artifacts/key/rich/embed/",
    ):
        body = client.get(url).content.decode()
        iframes = re.findall(r"<iframe[^>]*>", body)
        assert len(iframes) == 1, url
        assert 'sandbox="allow-scripts"' in iframes[0]
        assert f'src="/artifacts/artifact/{artifact.pk}/html/"' in iframes[0]
        assert "allow-same-origin" not in body
        assert "srcdoc" not in body
        assert "<script>parent" not in body  # the payload never reaches our pages
        assert "<img src=x" not in body


def test_html_document_has_its_own_sandboxing_csp(client, settings):
    artifact = ArtifactFactory(key="rich", type="html", data=HOSTILE)
    response = client.get(f"/artifacts/artifact/{artifact.pk}/html/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-scripts; default-src 'none'; ")
    for directive in (
        "script-src 'unsafe-inline'",
        "connect-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-src 'none'",
        "frame-ancestors 'self'",
    ):
        assert directive in policy
    assert "allow-same-origin" not in policy
    assert "unsafe-eval" not in policy
    assert "X-Frame-Options" not in response
    assert response["Referrer-Policy"] == "no-referrer"
    body = response.content.decode()
    assert body.startswith(
        '<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy"'
    )
    assert body.index("Content-Security-Policy") < body.index(HOSTILE)
    settings.ARTIFACTS_EMBED_FRAME_ANCESTORS = "'self' https://wiki.example.com"
    policy = client.get(f"/artifacts/artifact/{artifact.pk}/html/")["Content-Security-Policy"]
    assert policy.endswith("frame-ancestors 'self' https://wiki.example.com")


def test_html_document_only_for_html_artifacts(client):
    other = ArtifactFactory(key="md")
    assert client.get(f"/artifacts/artifact/{other.pk}/html/").status_code == 404
    assert client.get("/artifacts/artifact/nope/html/").status_code == 404


def test_document_csp_is_first_and_strict():
    doc = sandbox.document("<p>x</p>")
    assert doc.index("Content-Security-Policy") < doc.index("<p>")
    for directive in (
        "default-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-src 'none'",
    ):
        assert directive in sandbox.HTML_CSP
    assert "unsafe-eval" not in sandbox.HTML_CSP
    assert sandbox.document(None).endswith(sandbox.CSP_META)


def test_embed_renders_latest_with_its_own_frame_policy(client, settings):
    ArtifactFactory(key="emb", data="# old one")
    ArtifactFactory(key="emb", data="# new one")
    response = client.get("/artifacts/key/emb/embed/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = directives(response["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'self'"
    if getattr(settings, "CONTENT_SECURITY_POLICY", None):
        assert policy["script-src"] == "'self'"  # the site's other protections stay
    assertContains(response, "new one")
    assertNotContains(response, "old one")
    assertNotContains(response, 'class="topbar"')
    settings.ARTIFACTS_EMBED_FRAME_ANCESTORS = "'self' https://wiki.example.com"
    response = client.get("/artifacts/key/emb/embed/")
    policy = directives(response["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'self' https://wiki.example.com"
    assert client.get("/artifacts/key/missing/embed/").status_code == 404


def test_other_pages_keep_frame_denial(client):
    ArtifactFactory(key="emb")
    assert client.get("/artifacts/key/emb/")["X-Frame-Options"] == "DENY"


def test_every_page_has_a_copyable_permalink(client):
    artifact = ArtifactFactory(key="perm")
    for url in ("/artifacts/", "/artifacts/key/perm/", f"/artifacts/artifact/{artifact.pk}/"):
        response = client.get(url)
        assertContains(
            response,
            f'<input id="permalink-url" type="text" readonly value="http://testserver{url}">',
            html=True,
        )
        assertContains(response, 'data-copy-target="permalink-url"')
        assertContains(response, 'src="/static/artifacts/permalink.js" defer')
        assertNotContains(response, "onclick")
