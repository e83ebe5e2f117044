"""The API's one JSON encoder and renderer: orjson (UUIDs, datetimes and stored JSON passed through
as `orjson.Fragment` need no conversion in Python).

Timestamps have one form in every answer, Prefect's server's (pydantic's): UTC with `Z`,
microseconds when there are any: `2026-12-01T10:23:07.531926Z`, `2026-12-01T10:23:07Z`."""

from __future__ import annotations

import re

import orjson
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def json_bytes(data) -> bytes:
    """Every API answer's body (JSONResponse and the DRF renderer both call this). Nothing that
    can be written today fails here (jsoncheck refuses it); rows written before that check may
    hold a lone surrogate or an integer beyond 64 bits: they are answered repaired (U+FFFD, a
    float) rather than with a 500."""
    try:
        return orjson.dumps(data, option=OPTIONS)
    except orjson.JSONEncodeError:
        return orjson.dumps(_repaired(data), option=OPTIONS)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _repaired(value):
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else float(value)
    if isinstance(value, dict):
        return {_repaired(k) if isinstance(k, str) else k: _repaired(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_repaired(item) for item in value]
    return value


class ORJSONRenderer(JSONRenderer):
    """`application/json`, as DRF's JSONRenderer negotiates it, encoded by json_bytes()."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return json_bytes(data)


class AlwaysJSON(DefaultContentNegotiation):
    """The API answers JSON whatever the request's `Accept` says, as Prefect's server does (an
    `Accept: text/html` gets JSON there, not 406). The body's `Content-Type` is still checked
    (DRF's parser selection, unchanged). DRF's documented way to ignore `Accept`; parsing it cost
    3% of a `latest` request (benchmarks/README.md)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
