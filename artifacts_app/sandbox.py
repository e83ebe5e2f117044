"""HTML artifacts: shown only inside `<iframe sandbox="allow-scripts" src=".../html/">`.

Without `allow-same-origin` the frame runs in an opaque origin: its scripts cannot read the
dashboard's cookies, storage or DOM, nor call our API with the viewer's session.

Why `src` and not `srcdoc`: a srcdoc document inherits the CSP of the page around it, and the
dashboard's own policy (script-src 'self', style-src 'self') would then block every inline
script and style of the artifact, so Plotly/Bokeh exports would render blank. The document is
served by its own view instead, with its own strict policy as a header, which also carries the
`sandbox allow-scripts` directive, so even opened directly (not framed) it is an opaque origin:
- inline scripts and styles run (self-contained exports need them), but no script, style, font
  or frame is fetched from anywhere, and no eval;
- images may come from https: and data: URLs (reports embed charts);
- no fetch/XHR/WebSocket (connect-src), no forms, no plugins, no <base> rewriting;
- framed only by our own pages (and whoever may frame our embeds).
The same policy is also the first element of the document (a meta tag), so a saved copy keeps it.
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


def document(html) -> str:
    """The framed document: our CSP first, then the artifact's HTML, as is."""
    body = html if isinstance(html, str) else ""
    return f'<!doctype html><meta charset="utf-8">{CSP_META}{body}'


def header_policy(frame_ancestors: str) -> str:
    """The Content-Security-Policy header of the framed document."""
    sources = list(dict.fromkeys(["'self'", *frame_ancestors.split()]))
    return f"sandbox {SANDBOX}; {HTML_CSP}; frame-ancestors {' '.join(sources)}"
