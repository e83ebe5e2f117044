"""What JSON we accept, decided once: for request bodies (api/parsers.py) and for every write
(services, through rendering.validate_data), so nothing stored can fail a later read or page.

Refused, each with a message naming where it is:
- text that is not UTF-8 (400, as Prefect's server), and lone surrogates (`"\\ud800"`): not
  Unicode, so not storable (PostgreSQL and orjson refuse them);
- U+0000 in any string or object key: PostgreSQL's jsonb and text columns refuse it;
- NaN and Infinity (not JSON), and numbers that overflow a double;
- integers outside 64 bits (-2**63 .. 2**64-1): orjson, which writes every answer, cannot;
- nesting deeper than MAX_DEPTH levels (arrays and objects).
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

import orjson

MAX_DEPTH = 100
INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


class JSONInputError(ValueError):
    """Input that is not storable JSON. `status` 400 when the bytes are not UTF-8, else 422."""

    def __init__(self, message: str, path: str = "body", status: int = 422):
        super().__init__(f"{path}: {message}")
        self.message = message
        self.path = path
        self.status = status


def _string_problem(text: str) -> str | None:
    match = _BAD_CHAR.search(text)
    if match is None:
        return None
    if match.group() == "\x00":
        return "contains U+0000 (a NUL character), which cannot be stored."
    return f"contains a lone surrogate (\\u{ord(match.group()):04x}), which is not valid Unicode."


def _scalar_problem(value) -> str | None:
    kind = type(value)
    if kind is str:
        return _string_problem(value)
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            return "an integer outside 64 bits; send larger numbers as strings."
    elif kind is float:
        if not math.isfinite(value):
            return "NaN and Infinity are not valid JSON; send null."
    elif value is not None and kind is not bool:
        if isinstance(value, int) and not isinstance(value, bool):
            return _scalar_problem(int(value))
        if isinstance(value, float):
            return _scalar_problem(float(value))
        if isinstance(value, str):
            return _string_problem(str(value))
        if not isinstance(value, dict | list | tuple):
            return f"{kind.__name__} is not JSON."
    return None


def _child(path: str, name) -> str:
    return f"{path}.{name}"  # list items by index too (runs.0.name), as DRF names them


def _locate(value, path: str, max_depth: int) -> tuple[str, str]:
    """(path, message) of the first problem in `value` (the slow walk, run only on failure)."""
    stack = [(value, 1, path)]
    while stack:
        item, depth, where = stack.pop()
        if type(item) in (dict, list, tuple):
            if depth > max_depth:
                return where, f"nested deeper than {max_depth} levels."
            pairs = item.items() if type(item) is dict else enumerate(item)
            for name, child in pairs:
                if type(item) is dict:
                    if not isinstance(name, str):
                        return where, "object keys must be strings."
                    problem = _string_problem(name)
                    if problem:
                        return _child(where, repr(name)[1:-1]), f"a key {problem}"
                stack.append((child, depth + 1, _child(where, name)))
        else:
            problem = _scalar_problem(item)
            if problem:
                return where, problem
    return path, "is not storable JSON."


def _short(path: str) -> str:
    return path if len(path) <= 120 else f"{path[:100]}…"


def _fast_ok(value, max_depth: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is dict:
            if depth > max_depth:
                return False
            for name in item:
                if type(name) is not str or _BAD_CHAR.search(name):
                    return False
            children = item.values()
        elif kind is list or kind is tuple:
            if depth > max_depth:
                return False
            children = item
        else:
            if item is not None and kind is not bool and _scalar_problem(item):
                return False
            continue
        for child in children:
            child_kind = type(child)
            if child_kind is dict or child_kind is list or child_kind is tuple:
                stack.append((child, depth + 1))
            elif child is not None and child_kind is not bool and _scalar_problem(child):
                return False
    return True


def check(value: Any, path: str = "body", *, max_depth: int = MAX_DEPTH) -> None:
    """Raise JSONInputError if `value` (decoded JSON, or what a caller of services passes) holds
    anything listed in the module's docstring. One iterative walk: no recursion limit to hit;
    the path of the problem is looked for only when there is one."""
    if not _fast_ok(value, max_depth):
        where, message = _locate(value, path, max_depth)
        raise JSONInputError(message, _short(where))


def _checked_int(text: str) -> int:
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise JSONInputError("an integer outside 64 bits; send larger numbers as strings.")
    return value


def _refuse_constant(name: str):
    raise JSONInputError(f"{name} is not valid JSON; send null.")


def loads(raw: bytes, path: str = "body") -> Any:
    """Decode a request body strictly: UTF-8 (a leading BOM is ignored, as Prefect's server
    does), JSON, then `check`. Raises JSONInputError."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JSONInputError(
            f"the body is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON.", status=400
        ) from None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise JSONInputError(*reversed(_why_not_json(text, str(exc), path))) from None
    if _may_hold_big_ints(value):
        # orjson reads an integer literal beyond 64 bits as a float: read it again with exact
        # integers, which check() measures (and names where they are)
        check(json.loads(text), path)
    check(value, path)
    return value


def _why_not_json(text: str, reason: str, path: str) -> tuple[str, str]:
    """(path, message) for a body orjson refused: the standard library reads it again to name
    what and where (it reads NaN, lone surrogates and integers beyond 64 bits)."""
    if "depth" in reason or "recursion" in reason:
        return path, f"nested deeper than {MAX_DEPTH} levels."
    if "infinity" in reason:
        return path, "a number too large for a double; send it as a string."
    try:
        value = json.loads(text, parse_int=_checked_int, parse_constant=_refuse_constant)
    except JSONInputError as exc:
        return path, exc.message
    except RecursionError:
        return path, f"nested deeper than {MAX_DEPTH} levels."
    except ValueError as exc:
        return path, f"Invalid JSON: {exc}"
    where, message = _locate(value, path, MAX_DEPTH)
    return _short(where), message


def _may_hold_big_ints(value) -> bool:
    """Whether a float decoded by orjson could have been an integer literal beyond 64 bits."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is float and item.is_integer() and abs(item) >= 2**63:
            return True
    return False
