"""Stored values as the API shows them, the same from every backend."""

from __future__ import annotations

import datetime as dt

import orjson

from geoservice.domain.model import Field
from geoservice.domain.validation import format_datetime

DECODED_KINDS = ("integer-list", "object", "boolean", "date", "datetime")


def decode_value(f: Field, value):
    """A stored value of a field as the API shows it (lists and objects from JSON or arrays, dates as text)."""
    if value is None:
        return None
    if f.kind in ("integer-list", "object"):
        if isinstance(value, (str, bytes)):
            return orjson.loads(value)
        return list(value) if f.kind == "integer-list" else dict(value)
    if f.kind == "boolean":
        return bool(value)
    if f.kind == "datetime" and isinstance(value, dt.datetime):
        return format_datetime(value)
    if f.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return value
