"""Queued Scrapy requests as JSON: the serializer of the shared Redis queue (SCHEDULER_SERIALIZER).

scrapy-redis pickles requests by default, and unpickling runs code: anyone able to write to the
shared Redis could then run code on every worker. JSON carries only data. A request comes back
as a plain `scrapy.Request` (a `_class` naming another class is refused) whose callback and
errback are looked up by name on the worker's spider.

`dumps(request.to_dict(spider=...))` -> bytes; `loads(bytes)` -> the dict for request_from_dict.
Bytes (headers, body) travel as {"$bytes": base64}; a dict with non-text keys (headers) as
{"$pairs": [[key, value], ...]}.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_BYTES = "$bytes"
_PAIRS = "$pairs"


def dumps(request: dict[str, Any]) -> bytes:
    if "_class" in request:
        raise TypeError(f"only plain scrapy.Request objects can be queued, not {request['_class']}")
    return json.dumps(_encode(request), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    decoded = _decode(json.loads(data))
    if not isinstance(decoded, dict) or "url" not in decoded:
        raise ValueError("a queued request must be a JSON object with a 'url'")
    if "_class" in decoded:
        raise ValueError(f"queued request names a class ({decoded['_class']!r}); only plain requests are run")
    return decoded


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and not ({_BYTES, _PAIRS} & set(value)):
            return {key: _encode(item) for key, item in value.items()}
        return {_PAIRS: [[_encode(key), _encode(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    # Request.meta set by a middleware (an object, a datetime): it would not survive the trip.
    raise TypeError(f"cannot queue a request holding a {type(value).__name__} ({value!r:.80}) in Redis")


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if set(value) == {_PAIRS}:
            return {_decode(key): _decode(item) for key, item in value[_PAIRS]}
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value
