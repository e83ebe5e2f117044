"""The API's one JSON encoder and renderer: orjson (UUIDs, datetimes and stored JSON passed through
as `orjson.Fragment` need no conversion in Python).

Timestamps have one form in every answer, Prefect's server's (pydantic's): UTC with `Z`,
microseconds when there are any: `2026-12-01T10:23:07.531926Z`, `2026-12-01T10:23:07Z`."""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer

OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def json_bytes(data) -> bytes:
    """Every API answer's body (JSONResponse and the DRF renderer both call this)."""
    return orjson.dumps(data, option=OPTIONS)


class ORJSONRenderer(JSONRenderer):
    """`application/json`, as DRF's JSONRenderer negotiates it, encoded by json_bytes()."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return json_bytes(data)
