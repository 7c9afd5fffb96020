"""Checks of what a client or an import gives the store, against the domain model.

Every refusal is a ValidationError whose message names the field or geometry problem.
"""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import shapely

from geoservice.domain.model import (
    FIRST_DATE,
    LAST_DATE,
    MAX_LIST_ITEMS,
    SAFE_INTEGER,
    Collection,
    Field,
)

TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5, "MultiPolygon": 6}


class ValidationError(ValueError):
    """Input that the store refuses; the message says what was wrong."""


class Conflict(ValidationError):
    """A request that the current state of a feature does not allow (e.g. support for a rejected one)."""


# Characters that are no text: control characters other than tab and line breaks, the bidi overrides
# and isolates that make text read differently from how it is stored, lone surrogates, non-characters.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff\ufffe\uffff]")
DATE_RANGE = (dt.date.fromisoformat(FIRST_DATE), dt.date.fromisoformat(LAST_DATE))


def check_text(name: str, value, max_length: int | None = None) -> str:
    """Text a person wrote: a string of printable characters, at most max_length of them."""
    if not isinstance(value, str):
        raise ValidationError(f"{name}: expected text, got {type(value).__name__}")
    if max_length and len(value) > max_length:
        raise ValidationError(f"{name}: longer than {max_length} characters")
    found = NOT_TEXT.search(value)
    if found:
        raise ValidationError(
            f"{name}: character U+{ord(found.group()):04X} at position {found.start() + 1} "
            "is not allowed in text (control and direction characters are refused)"
        )
    return value


def check_integer(name: str, value, minimum: int = -SAFE_INTEGER, maximum: int = SAFE_INTEGER) -> int:
    """A whole number (not a boolean) from minimum to maximum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}: expected an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise ValidationError(f"{name}: must be from {minimum} to {maximum}, got {value}")
    return value


def check_number(name: str, value) -> float:
    """A finite number of at most the size of a safe integer."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{name}: expected a number, got {value!r}")
    if not (math.isfinite(value) and abs(value) <= SAFE_INTEGER):
        raise ValidationError(f"{name}: must be a finite number of at most {SAFE_INTEGER} in size")
    return float(value)


def parse_date(name: str, text) -> dt.date:
    """A calendar date YYYY-MM-DD within the service's range of dates."""
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: expected a date YYYY-MM-DD, got {text!r}") from None
    return _within_range(name, day, day)


def parse_moment(name: str, text) -> dt.datetime:
    """An ISO 8601 date-time (UTC when no offset is given) within the service's range of dates."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationError(f"{name}: expected an ISO 8601 date-time, got {text!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return _within_range(name, moment, moment.replace(tzinfo=None).date())


def _within_range(name: str, value, day: dt.date):
    if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
        raise ValidationError(f"{name}: must lie from {FIRST_DATE} to {LAST_DATE}")
    return value


def _check_string(f: Field, value):
    check_text(f.name, value, f.max_length)
    if f.values and value not in f.values:
        raise ValidationError(f"{f.name}: {value!r} is not one of {', '.join(f.values)}")
    return value


def _check_integer(f: Field, value):
    return check_integer(f.name, value, f.minimum, f.maximum)


def _check_number(f: Field, value):
    return check_number(f.name, value)


def _check_date(f: Field, value):
    return parse_date(f.name, value).isoformat()


def _check_datetime(f: Field, value):
    return format_datetime(parse_moment(f.name, value))


def _check_boolean(f: Field, value):
    if not isinstance(value, bool):
        raise ValidationError(f"{f.name}: expected true or false, got {value!r}")
    return value


def _check_integer_list(f: Field, value):
    if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
        raise ValidationError(f"{f.name}: expected a list of at most {MAX_LIST_ITEMS} integers")
    for item in value:
        check_integer(f.name, item, f.minimum, f.maximum)
    if len(set(value)) < len(value):
        raise ValidationError(f"{f.name}: names an id more than once")
    return value


CHECKS = {
    "string": _check_string,
    "integer": _check_integer,
    "number": _check_number,
    "date": _check_date,
    "datetime": _check_datetime,
    "boolean": _check_boolean,
    "integer-list": _check_integer_list,
}


def format_datetime(moment: dt.datetime) -> str:
    """The stored form of a date-time: UTC, ISO 8601 with milliseconds and Z (as GeoPackage wants)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def check_properties(collection: Collection, properties: dict) -> dict:
    """Typed, complete properties for a new or replaced feature; derived fields are dropped."""
    if not isinstance(properties, dict):
        raise ValidationError("properties: expected an object")
    fields = collection.field_map
    unknown = sorted(set(properties) - set(fields))
    if unknown:
        raise ValidationError(f"unknown field(s) for {collection.name}: {', '.join(unknown)}")
    clean = {}
    for f in collection.fields:
        value = properties.get(f.name)
        if f.derived:
            continue
        if value is None:
            if f.required:
                raise ValidationError(f"{f.name}: required")
            clean[f.name] = None
            continue
        clean[f.name] = CHECKS[f.kind](f, value)
    _check_consistency(collection, clean)
    return clean


def check_settable(collection: Collection, given: dict, current: dict | None = None) -> None:
    """Refuse values for fields the service computes, unless they equal the current ones (so that
    a feature read from the API can be written back)."""
    if not isinstance(given, dict):
        raise ValidationError("properties: expected an object")
    for name, value in given.items():
        f = collection.field_map.get(name)
        if f is not None and f.derived and value is not None and (current is None or current.get(name) != value):
            now = "" if current is None else f" (it is {current.get(name)!r})"
            raise ValidationError(f"{name}: computed by the service{now}; leave it out")


def _check_consistency(collection: Collection, props: dict) -> None:
    if props.get("start") and props.get("eind") and props["eind"] < props["start"]:
        raise ValidationError("eind: before start")
    if props.get("status") == "afgewezen" and not props.get("reden"):
        raise ValidationError("reden: required when status is afgewezen")
    if (props.get("status") == "samengevoegd") != (
        props.get("samengevoegd_met") is not None
    ) and "samengevoegd_met" in collection.field_map:
        raise ValidationError("samengevoegd_met: required when status is samengevoegd, and only then")


def _extent(geoms) -> np.ndarray:
    bounds = shapely.bounds(geoms)
    return np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])


def check_geometries(collection: Collection, geometries, boundary=None) -> None:
    """Refuse empty, invalid, oversized or misplaced geometries, naming the first offender."""
    geoms = np.asarray(geometries, dtype=object)
    types = shapely.get_type_id(geoms)
    problems = [
        (shapely.is_missing(geoms) | shapely.is_empty(geoms), lambda g: "missing or empty"),
        (
            ~np.isin(types, [TYPE_IDS[t] for t in collection.geometry_types]),
            lambda g: (
                f"type {g.geom_type} not allowed in {collection.name} (allowed: {', '.join(collection.geometry_types)})"
            ),
        ),
        (
            shapely.get_num_coordinates(geoms) > collection.max_vertices,
            lambda g: f"more than {collection.max_vertices} vertices",
        ),
        (~shapely.is_valid(geoms), lambda g: f"invalid ({shapely.is_valid_reason(g)})"),
        (_extent(geoms) > collection.max_extent_m, lambda g: f"larger than {collection.max_extent_m:g} m across"),
    ]
    if boundary is not None:
        problems.append((~shapely.covers(boundary, geoms), lambda g: "not inside the municipality"))
    for failed, describe in problems:
        if failed.any():
            index = int(np.flatnonzero(failed)[0])
            label = f"geometry of feature {index + 1}" if len(geoms) > 1 else "geometry"
            raise ValidationError(f"{label}: {describe(geoms[index])}")
