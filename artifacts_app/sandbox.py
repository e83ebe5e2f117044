"""HTML artifacts: shown only inside `<iframe sandbox="allow-scripts" srcdoc="...">`.

Without `allow-same-origin` the frame runs in an opaque origin: its scripts cannot read the
dashboard's cookies, storage or DOM, nor call our API with the viewer's session. On top of that
the server puts a strict Content-Security-Policy first in the document:
- inline scripts and styles run (self-contained Plotly/Bokeh/Altair exports need them), but no
  script, style, font or frame is fetched from anywhere;
- images may come from https: and data: URLs (reports embed charts);
- no fetch/XHR/WebSocket (connect-src), no forms, no plugins, no <base> rewriting.
The template escapes the whole document into the attribute (Django autoescape), so the artifact
can never close the attribute or the iframe tag.
"""

from __future__ import annotations

HTML_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'unsafe-inline'",
        "style-src 'unsafe-inline'",
        "img-src https: data:",
        "font-src data:",
        "media-src data:",
        "connect-src 'none'",
        "frame-src 'none'",
        "worker-src 'none'",
        "object-src 'none'",
        "form-action 'none'",
        "base-uri 'none'",
    ]
)
SANDBOX = (
    "allow-scripts"  # never allow-same-origin, allow-forms, allow-popups or allow-top-navigation
)
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{HTML_CSP}">'


def srcdoc(html) -> str:
    """The document for the iframe's srcdoc: our CSP first, then the artifact's HTML. Returned
    unescaped; the template's autoescape turns it into a safe attribute value."""
    body = html if isinstance(html, str) else ""
    return f'<!doctype html><meta charset="utf-8">{CSP_META}{body}'
