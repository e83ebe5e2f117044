"""The hostile corpus in every field that reaches a page: sanitiser output, API refusals, and
Chromium loading every page that shows them (with the CSP on, and with it bypassed so the
sanitiser alone is proven)."""

import json
import uuid
from html.parser import HTMLParser
from urllib.parse import quote

import pytest

from artifacts_app import rendering, services
from tests.security.xss_corpus import HOSTILE_URLS, corpus

VECTORS = corpus()
FORBIDDEN_TAGS = {
    "script", "iframe", "object", "embed", "form", "input", "button", "style", "link", "meta",
    "base", "svg", "math", "body", "textarea", "select", "video", "audio", "template", "noscript",
    "frame", "frameset", "marquee", "xmp", "plaintext", "isindex", "keygen",
}  # fmt: skip
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "background"}


class Audit(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if (
                name.startswith("on")
                or name.startswith("hx-")
                or name.startswith("data-hx")
                or name == "style"
            ):
                self.problems.append(f"{tag}[{name}]")
            if name in URL_ATTRS and value:
                scheme = value.strip().split(":", 1)[0].lower() if ":" in value else ""
                if scheme and scheme not in ("http", "https", "mailto"):
                    self.problems.append(f"{tag}[{name}={value[:40]}]")


def audit(html: str) -> list[str]:
    parser = Audit()
    parser.feed(html)
    return parser.problems


def test_corpus_is_large_enough():
    assert len(VECTORS) >= 200


@pytest.mark.parametrize("vector", VECTORS)
def test_sanitiser_neutralises_every_vector(vector):
    assert audit(rendering.markdown_to_html(vector)) == []


def _url_attributes(html: str) -> list[str]:
    """Every href/src value on a page."""
    found: list[str] = []

    class Urls(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(v or "" for n, v in attrs if n in URL_ATTRS)

    Urls(convert_charrefs=True).feed(html)
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("url", [u for u in HOSTILE_URLS if "\x00" not in u])
def test_hostile_urls_are_stored_but_never_a_link_or_an_image(api_client, client, url):
    """Prefect's server stores any data for any type; the dashboard shows a URL that is not
    http(s) as text, never as a link or an image."""
    for type_, data in (("image", url), ("link", url), ("link", {"link": url, "link_text": "x"})):
        response = api_client.post("/api/artifacts/", {"type": type_, "data": data}, format="json")
        assert response.status_code == 201, (type_, response.status_code)
        artifact_id = response.json()["id"]
        for path in (f"/artifacts/artifact/{artifact_id}/", "/artifacts/?tab=unkeyed"):
            page = client.get(path)
            assert page.status_code == 200
            urls = _url_attributes(page.content.decode())
            if url.strip():
                assert url not in urls, (type_, path)
            schemes = {u.split(":", 1)[0].strip().lower() for u in urls if ":" in u}
            assert schemes <= {"http", "https", "mailto"}, (type_, path, schemes)


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["<script>alert(1)</script>", "a b", "UPPER", "x/y", "é"])
def test_hostile_keys_are_refused(api_client, key):
    response = api_client.post("/api/artifacts/", {"key": key, "data": 1}, format="json")
    assert response.status_code == 422


def chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def seed_hostile_artifacts() -> tuple[uuid.UUID, list[str]]:
    """Put the corpus in every field that reaches a page; returns the run id and page paths."""
    run = uuid.uuid4()
    paths = [f"/runs/flow-run/{run}/", "/artifacts/", "/artifacts/?tab=unkeyed"]
    # Run names are text from clients and Prefect: every vector as a flow name, a flow run name
    # and a task run name, shown on the runs index, run pages, cards and artifact pages.
    runs = [{"id": run, "kind": "flow", "name": VECTORS[0][:500], "flow_name": VECTORS[1][:500]}]
    task_ids = []
    for n, vector in enumerate(VECTORS):
        flow_run, task_run = uuid.uuid4(), uuid.uuid4()
        runs.append({"id": flow_run, "kind": "flow", "name": vector[:500],
                     "flow_name": vector[::-1][:500], "state": vector[:100]})  # fmt: skip
        runs.append({"id": task_run, "kind": "task", "name": vector[:500], "flow_run_id": run})
        task_ids.append(task_run)
        if n % 40 == 0:
            paths += [f"/runs/flow-run/{flow_run}/", f"/runs/task-run/{task_run}/"]
    services.run_upsert(runs=runs)
    paths += [f"/runs/?page={page}" for page in range(1, len(VECTORS) // 50 + 2)]
    paths += [f"/runs/?q={quote(v[:40], safe='')}" for v in VECTORS[:5]]
    paths += [f"/artifacts/?flow={quote(v[::-1][:500], safe='')}" for v in VECTORS[:5]]
    for n, group in enumerate(chunks(VECTORS, 40)):
        text = "\n\n".join(group)
        md = services.artifact_create(
            key=f"xss-md-{n}", type="markdown", data=text, description=text, flow_run_id=run,
            task_run_id=task_ids[n],
            metadata={f"m{i}": v[:500] for i, v in enumerate(group)},
        )  # fmt: skip
        table = services.artifact_create(
            key=f"xss-table-{n}",
            type="table",
            data=json.dumps({v[:60] + f"#{i}": [v, v[::-1]] for i, v in enumerate(group)}),
            description=group[0],
            flow_run_id=run,
        )
        result = services.artifact_create(
            key=f"xss-result-{n}",
            type="result",
            data={"vectors": group},
            description=group[-1],
            flow_run_id=run,
        )
        services.artifact_create(type="markdown", data=text, description=text)  # unkeyed tab
        paths += [f"/artifacts/key/xss-md-{n}/", f"/artifacts/artifact/{md.pk}/"]
        paths += [f"/artifacts/key/xss-table-{n}/", f"/artifacts/artifact/{table.pk}/"]
        paths += [
            f"/artifacts/artifact/{result.pk}/",
            f"/artifacts/artifact/{table.pk}/table/?q=%3Cscript",
        ]
    for n, vector in enumerate(VECTORS[:40]):  # links as Prefect sends them, with hostile text
        services.artifact_create(
            key=f"xss-link-{n}", type="markdown", data=f"[{vector}](https://example.com/{n})"
        )
    paths += [f"/artifacts/key/xss-link-{n}/" for n in range(0, 40, 8)]
    # Any JSON for any type is stored (as Prefect's server): hostile URLs as image and link data,
    # hostile text as data that fits no renderer (shown as JSON or text, never as markup)
    for n, url in enumerate(u for u in HOSTILE_URLS if "\x00" not in u):
        image = services.artifact_create(key=f"xss-image-{n}", type="image", data=url)
        link = services.artifact_create(
            type="link", data={"link": url, "link_text": VECTORS[n]}, flow_run_id=run
        )
        odd = services.artifact_create(
            key=f"xss-odd-{n}", type="table", data={"not": [VECTORS[n], url]}, flow_run_id=run
        )
        paths += [f"/artifacts/artifact/{a.pk}/" for a in (image, link, odd)]
    # The storable extremes (what the API accepts at its bounds), each holding a vector: nesting
    # at the bound, object keys that are markup, bidi overrides and line separators, 64-bit ints
    for n, vector in enumerate(VECTORS[:12]):
        deep: object = vector
        for _ in range(95):
            deep = [deep]
        extreme = services.artifact_create(
            key=f"xss-extreme-{n}",
            type=("table", "result", "markdown", "progress", "image", "link")[n % 6],
            data={vector: deep, "\u202e" + vector: [2**64 - 1, -(2**63)], "ls\u2028": vector},
            description=f"\u202e{vector}\u2029",
            metadata={vector[:60]: vector[:500]},
            flow_run_id=run,
        )
        paths.append(f"/artifacts/artifact/{extreme.pk}/")
    paths += ["/artifacts/key/xss-extreme-0/", "/artifacts/key/xss-extreme-1/"]
    paths += ["/artifacts/?view=list", "/artifacts/?tab=unkeyed&view=list"]
    paths += [
        f"/artifacts/key/{quote(v, safe='')}/" for v in VECTORS[:10]
    ]  # keys in URLs: 404 pages
    return run, paths


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("bypass_csp", [False, True], ids=["csp-on", "sanitiser-only"])
def test_no_vector_runs_in_chromium(chromium, live_server, bypass_csp):
    _, paths = seed_hostile_artifacts()
    context = chromium.new_context(bypass_csp=bypass_csp, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    origin = live_server.url
    dialogs: list[str] = []
    outbound: list[str] = []
    navigations: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    def route(route_):
        url = route_.request.url
        if (
            url.startswith(origin)
            or url.startswith("data:")
            or url.startswith("https://example.com/")
        ):
            route_.continue_()
        else:
            outbound.append(url)
            route_.abort()

    page.route("**/*", route)
    try:
        for path in paths:
            target = origin + path
            page.goto(target)
            page.wait_for_timeout(150)
            for element in page.locator("main b, main p, main td").all()[:5]:
                element.dispatch_event("mouseover")  # fire handlers if any survived
            if page.url != target:
                navigations.append(f"{target} -> {page.url}")
            marker = page.evaluate("() => window.__xss === undefined ? null : String(window.__xss)")
            assert marker is None, f"script ran on {path}"
    finally:
        context.close()
    assert dialogs == []
    assert navigations == []
    assert outbound == []
    print(
        f"{len(VECTORS)} vectors on {len(paths)} pages ({'CSP bypassed' if bypass_csp else 'CSP on'})"
    )
