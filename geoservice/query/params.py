"""The query parameters of the items endpoints, read strictly: anything unknown or malformed is
a BadRequest that says what was wrong."""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import shapely

from geoservice.domain.model import SAFE_INTEGER, Collection
from geoservice.domain.validation import ValidationError, check_number, parse_date, parse_moment
from geoservice.query import cql2, crs, filters
from geoservice.query.selection import Query

DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
COMMON = {"f", "lang"}
ITEM_PARAMS = COMMON | {"crs"}
ITEMS_PARAMS = ITEM_PARAMS | {
    "limit",
    "offset",
    "cursor",
    "bbox",
    "bbox-crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
}


class BadRequest(ValueError):
    """A request the service refuses with 400; the message names the parameter and the problem."""


@dataclass
class ItemsRequest:
    """A read request of items, ready for the store and the serialiser."""

    query: Query
    crs: str
    properties: list[str] | None
    skip_geometry: bool


def read_items(collection: Collection, params) -> ItemsRequest:
    """The items request of a collection from its query parameters (a multi-dict)."""
    _refuse_unknown(collection, params, ITEMS_PARAMS)
    sortby = _sortby(collection, params)
    query = Query(
        collection.name,
        limit=_limit(params),
        offset=_integer(params, "offset", 0),
        sortby=sortby,
        filter=_filter(collection, params),
        after=_cursor(collection, params, sortby),
    )
    return ItemsRequest(query, output_crs(params), _properties(collection, params), _boolean(params, "skipGeometry"))


def keyset(collection: Collection, sortby: list) -> bool:
    """Whether pages of the collection continue after their last feature (its id is the row's, and
    the order is the default one) rather than at an offset."""
    return collection.id_field == "id" and not sortby


def cursor(after: int) -> str:
    """The cursor of the page after the feature with this id (opaque to clients)."""
    return base64.urlsafe_b64encode(f"na:{after}".encode()).decode().rstrip("=")


def _cursor(collection: Collection, params, sortby: list) -> int | None:
    text = params.get("cursor")
    if text is None:
        return None
    if "offset" in params or not keyset(collection, sortby):
        raise BadRequest("cursor: continues a page of the default order; not with offset or sortby")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    kind, _, number = decoded.partition(":")
    if kind != "na" or not (number.isascii() and number.isdigit()) or len(number) > 16:
        raise BadRequest("cursor: not a cursor this service gave (follow the next link)")
    return int(number)


def read_item(params) -> str:
    """The output CRS of a single-item request."""
    _refuse_unknown(None, params, ITEM_PARAMS)
    return output_crs(params)


def output_crs(params) -> str:
    return _crs(params, "crs")


def _crs(params, name: str) -> str:
    """A CRS parameter (CRS84 when absent); BadRequest for one the service does not offer."""
    try:
        return crs.check(params.get(name, crs.CRS84), name)
    except crs.CrsError as error:
        raise BadRequest(str(error)) from None


def _refuse_unknown(collection: Collection | None, params, allowed: set) -> None:
    fields = set(collection.field_map) if collection else set()
    for name in params:
        if name not in allowed and name not in fields:
            raise BadRequest(f"unknown query parameter {name!r}")
        if len(params.getlist(name)) > 1:
            raise BadRequest(f"query parameter {name!r} is given more than once")


def _integer(params, name: str, default: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    return _whole(name, text)


def _whole(name: str, text: str, signed: bool = False) -> int:
    """A whole number written in decimal digits (with a minus sign when signed), of at most
    SAFE_INTEGER in size."""
    digits = text[1:] if signed and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 16 or int(digits) > SAFE_INTEGER:
        lowest = -SAFE_INTEGER if signed else 0
        raise BadRequest(f"{name}: {text!r} is not a whole number from {lowest} to {SAFE_INTEGER}")
    return int(text)


def _limit(params) -> int:
    limit = _integer(params, "limit", DEFAULT_LIMIT)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit: must be from 1 to {MAX_LIMIT}")
    return limit


def _boolean(params, name: str) -> bool:
    text = params.get(name)
    if text is None:
        return False
    if text.lower() not in ("true", "false"):
        raise BadRequest(f"{name}: expected true or false, got {text!r}")
    return text.lower() == "true"


def _names(params, name: str) -> list[str] | None:
    text = params.get(name)
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise BadRequest(f"{name}: name at least one field")
    return names


def _properties(collection: Collection, params) -> list[str] | None:
    names = _names(params, "properties")
    unknown = sorted(set(names or ()) - set(collection.field_map))
    if unknown:
        raise BadRequest(f"properties: unknown field(s) {', '.join(unknown)}")
    return names


def _sortby(collection: Collection, params) -> list[tuple[str, bool]]:
    keys = []
    for key in _names(params, "sortby") or ():
        name, ascending = (key[1:], key[0] != "-") if key[0] in "+-" else (key, True)
        field = collection.field_map.get(name)
        if field is None or field.kind == "integer-list":
            raise BadRequest(f"sortby: cannot sort on {name!r}")
        keys.append((name, ascending))
    return keys


def _filter(collection: Collection, params):
    """The conjunction of bbox, datetime, property equality and the CQL2 filter."""
    return filters.all_of(
        _bbox(params), _datetime(collection, params), *_equalities(collection, params), _cql2(collection, params)
    )


def _bbox(params):
    text = params.get("bbox")
    if text is None:
        if "bbox-crs" in params:
            raise BadRequest("bbox-crs: given without bbox")
        return None
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadRequest(f"bbox: {text!r} is not a list of numbers") from None
    if len(numbers) == 6:
        numbers = numbers[0:2] + numbers[3:5]
    if len(numbers) != 4 or not all(map(math.isfinite, numbers)) or numbers[0] > numbers[2] or numbers[1] > numbers[3]:
        raise BadRequest("bbox: expected minx,miny,maxx,maxy with min <= max")
    source = _crs(params, "bbox-crs")
    try:
        return filters.intersects(crs.area_to_storage(_box(*numbers), source))
    except crs.CrsError as error:
        raise BadRequest(f"bbox: {error}") from None


def _box(minx: float, miny: float, maxx: float, maxy: float):
    """The area of a bbox: a rectangle, or where it has no width or height a line or a point."""
    if minx < maxx and miny < maxy:
        return shapely.box(minx, miny, maxx, maxy)
    if (minx, miny) == (maxx, maxy):
        return shapely.Point(minx, miny)
    return shapely.LineString([(minx, miny), (maxx, maxy)])


def _datetime(collection: Collection, params):
    text = params.get("datetime")
    if text is None:
        return None
    if not collection.temporal:
        raise BadRequest(f"datetime: {collection.name} has no time to filter on")
    parts = text.split("/")
    if len(parts) > 2:
        raise BadRequest(f"datetime: cannot read {text!r}")
    bounds = [_moment(part) for part in parts]
    if len(bounds) == 1:
        bounds *= 2
    if bounds[0] is None and bounds[1] is None and len(parts) == 1:
        raise BadRequest("datetime: an instant cannot be open")
    return filters.during(collection, *bounds)


def _moment(text: str, name: str = "datetime"):
    """A date (GDAL writes 2027-01-01T) or a date-time; None for an open end."""
    if text in ("", ".."):
        return None
    try:
        if len(text.removesuffix("T")) == 10:
            return parse_date(name, text.removesuffix("T"))
        return parse_moment(name, text.replace("z", "Z"))
    except ValidationError as error:
        raise BadRequest(f"{error} (RFC 3339)") from None


def _equalities(collection: Collection, params) -> list:
    return [
        filters.equals(name, _typed(collection, name, value))
        for name, value in params.items()
        if name in collection.field_map and name not in ITEMS_PARAMS
    ]


def _typed(collection: Collection, name: str, text: str):
    """A query-string value as the field's type."""
    field = collection.field_map[name]
    if field.kind == "integer":
        return _whole(name, text, signed=True)
    try:
        if field.kind == "number":
            return check_number(name, float(text))
        if field.kind == "boolean":
            return {"true": True, "false": False}[text.lower()]
        if field.kind == "date":
            return parse_date(name, text)
        if field.kind == "datetime":
            return parse_moment(name, text.replace("z", "Z"))
    except ValidationError as error:
        raise BadRequest(str(error)) from None
    except (ValueError, KeyError):
        raise BadRequest(f"{name}: {text!r} is not a valid {field.kind}") from None
    if field.kind == "integer-list":
        raise BadRequest(f"{name}: a list field cannot be compared for equality")
    if field.values and text not in field.values:
        raise BadRequest(f"{name}: {text!r} is not one of {', '.join(field.values)}")
    return text


def _cql2(collection: Collection, params):
    text = params.get("filter")
    if text is None:
        if "filter-lang" in params or "filter-crs" in params:
            raise BadRequest("filter-lang and filter-crs need a filter")
        return None
    source = _crs(params, "filter-crs")
    try:
        node = _parse(text, params.get("filter-lang", "cql2-text"), collection)
        cql2.check(node, collection)
        cql2.transform_geometries(node, lambda geometry: crs.area_to_storage(geometry, source))
    except (cql2.FilterError, crs.CrsError) as error:
        raise BadRequest(f"filter: {error}") from None
    return node


def _parse(text: str, language: str, collection: Collection):
    if language == "cql2-text":
        return cql2.parse_text(text)
    if language == "cql-text":
        return cql2.dates_from_text(cql2.parse_text(text), collection)
    if language == "cql2-json":
        return cql2.parse_json(text)
    raise cql2.FilterError(
        f"filter-lang {language!r} is not supported; use cql2-text or cql2-json (or cql-text, the draft name GDAL uses)"
    )
