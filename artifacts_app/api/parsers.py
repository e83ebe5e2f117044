"""The API's one parser: UTF-8 JSON, decoded strictly and checked in one walk (jsoncheck), so
input that cannot be stored, or answered again, is refused before any view runs."""

from __future__ import annotations

from django.utils.http import parse_header_parameters
from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from artifacts_app import jsoncheck


class NotUTF8(exceptions.APIException):
    """Bytes that are not UTF-8: 400, as Prefect's server answers them."""

    status_code = 400
    default_code = "not_utf8"


def field_path(path: str) -> str:
    """`body.data[3]` -> `data[3]` (our 422 bodies name fields); `body` stays."""
    return path.removeprefix("body.") if path != "body" else path


class StrictJSONParser(BaseParser):
    """`application/json` in UTF-8 only: another `charset` is 415; bytes that are not UTF-8
    are 400; anything else jsoncheck refuses (invalid JSON, NaN, lone surrogates, U+0000,
    integers outside 64 bits, nesting deeper than jsoncheck.MAX_DEPTH) is 422 naming the field."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            charset = parse_header_parameters(media_type or "")[1].get("charset")
        except ValueError:  # a header longer than Django parses
            charset = None
        if charset is not None and charset.strip("\"' ").lower() not in ("utf-8", "utf8"):
            raise exceptions.UnsupportedMediaType(
                media_type,
                detail=f"Unsupported charset {charset!r}: send JSON encoded as UTF-8.",
            )
        raw = stream.read() if stream is not None else b""
        try:
            return jsoncheck.loads(raw)
        except jsoncheck.JSONInputError as exc:
            if exc.status == 400:
                raise NotUTF8(exc.message) from None
            path = field_path(exc.path)
            raise exceptions.ValidationError(
                {"detail": f"{path}: {exc.message}", "errors": {path: [exc.message]}}
            ) from None
