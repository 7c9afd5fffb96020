"""Checks of what a client or an import gives the store, against the domain model.

Every refusal is a ValidationError whose message names the field or geometry problem.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import shapely

from .model import Collection, Field, allowed_transition

TYPE_IDS = {"Point": 0, "LineString": 1, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5,
            "MultiPolygon": 6}


class ValidationError(ValueError):
    """Input that the store refuses; the message says what was wrong."""


class Conflict(ValidationError):
    """A request that the current state of a feature does not allow (e.g. support for a rejected one)."""


def _check_string(f: Field, value):
    if not isinstance(value, str):
        raise ValidationError(f"{f.name}: expected text, got {type(value).__name__}")
    if f.max_length and len(value) > f.max_length:
        raise ValidationError(f"{f.name}: longer than {f.max_length} characters")
    if f.values and value not in f.values:
        raise ValidationError(f"{f.name}: {value!r} is not one of {', '.join(f.values)}")
    return value


def _check_integer(f: Field, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{f.name}: expected an integer, got {value!r}")
    if f.minimum is not None and value < f.minimum:
        raise ValidationError(f"{f.name}: must be at least {f.minimum:g}")
    return value


def _check_number(f: Field, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{f.name}: expected a number, got {value!r}")
    return float(value)


def _check_date(f: Field, value):
    try:
        return dt.date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValidationError(f"{f.name}: expected a date YYYY-MM-DD, got {value!r}") from None


def _check_datetime(f: Field, value):
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{f.name}: expected an ISO 8601 date-time, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return format_datetime(parsed)


def _check_boolean(f: Field, value):
    if not isinstance(value, bool):
        raise ValidationError(f"{f.name}: expected true or false, got {value!r}")
    return value


def _check_integer_list(f: Field, value):
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise ValidationError(f"{f.name}: expected a list of integers, got {value!r}")
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


def _check_consistency(collection: Collection, props: dict) -> None:
    if props.get("start") and props.get("eind") and props["eind"] < props["start"]:
        raise ValidationError("eind: before start")
    if props.get("status") == "afgewezen" and not props.get("reden"):
        raise ValidationError("reden: required when status is afgewezen")
    if props.get("status") == "samengevoegd" and props.get("samengevoegd_met") is None:
        raise ValidationError("samengevoegd_met: required when status is samengevoegd")


def check_transition(collection: Collection, old: dict, new: dict) -> None:
    """Refuse a phase/status change that the domain's lifecycle does not allow."""
    if collection.lifecycle is None:
        return
    key, _ = collection.lifecycle
    if not allowed_transition(collection, old[key], new[key]):
        raise ValidationError(f"{key}: cannot go from {old[key]!r} to {new[key]!r}")


def _extent(geoms) -> np.ndarray:
    bounds = shapely.bounds(geoms)
    return np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])


def check_geometries(collection: Collection, geometries, boundary=None) -> None:
    """Refuse empty, invalid, oversized or misplaced geometries, naming the first offender."""
    geoms = np.asarray(geometries, dtype=object)
    types = shapely.get_type_id(geoms)
    problems = [
        (shapely.is_missing(geoms) | shapely.is_empty(geoms), lambda g: "missing or empty"),
        (~np.isin(types, [TYPE_IDS[t] for t in collection.geometry_types]),
         lambda g: f"type {g.geom_type} not allowed in {collection.name} "
                   f"(allowed: {', '.join(collection.geometry_types)})"),
        (shapely.get_num_coordinates(geoms) > collection.max_vertices,
         lambda g: f"more than {collection.max_vertices} vertices"),
        (~shapely.is_valid(geoms), lambda g: f"invalid ({shapely.is_valid_reason(g)})"),
        (_extent(geoms) > collection.max_extent_m,
         lambda g: f"larger than {collection.max_extent_m:g} m across"),
    ]
    if boundary is not None:
        problems.append((~shapely.covers(boundary, geoms), lambda g: "not inside the municipality"))
    for failed, describe in problems:
        if failed.any():
            index = int(np.flatnonzero(failed)[0])
            label = f"geometry of feature {index + 1}" if len(geoms) > 1 else "geometry"
            raise ValidationError(f"{label}: {describe(geoms[index])}")
