"""The API's one renderer: JSON by orjson (UUIDs, datetimes and stored JSON passed through as
`orjson.Fragment` need no conversion in Python)."""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer


class ORJSONRenderer(JSONRenderer):
    """`application/json`, as DRF's JSONRenderer negotiates it, encoded by orjson."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data)
