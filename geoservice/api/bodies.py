"""What a request brings: path ids, and JSON bodies decoded and checked before anything is written
(size, media type, charset, members, geometry and its CRS)."""

from __future__ import annotations

import codecs

import orjson
import shapely
from starlette.requests import Request

from geoservice.api.http import HttpError
from geoservice.domain.lifecycle import PRIVATE
from geoservice.domain.model import SAFE_INTEGER, Collection
from geoservice.domain.validation import check_text
from geoservice.query import crs
from geoservice.store import NotFound
from geoservice.store.private import Private

MAX_BODY_BYTES = 1_000_000
TEXT_CHARSETS = (
    "utf-8",
    "utf-16",
    "utf-16-le",
    "utf-16-be",
    "utf-32",
    "utf-32-le",
    "utf-32-be",
    "iso8859-1",
    "ascii",
    "cp1252",
)
JSON_TYPES = ("application/geo+json", "application/json", "application/merge-patch+json")
FEATURE_MEMBERS = {"type", "id", "geometry", "properties"}
READ_ONLY_MEMBERS = {"links", "bbox"}
MAX_NOTE_LENGTH = 2000
MAX_CONTACT_LENGTH = 300


def number_id(text: str, where: str) -> int:
    """A feature's (or reaction's) number from a path; NotFound for text no feature can have."""
    if not (text.isascii() and text.isdigit()) or len(text) > 16 or int(text) > SAFE_INTEGER:
        raise NotFound(f"{where}/{text[:40]}")
    return int(text)


def _charset(parameters: str) -> str:
    """The text encoding a Content-Type's parameters name (UTF-8 when they name none)."""
    charset = "utf-8"
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"')
    try:
        known = codecs.lookup(charset).name
    except LookupError:
        known = None
    if known not in TEXT_CHARSETS:
        raise HttpError(
            415, "UnsupportedMediaType", f"charset {charset!r}: use UTF-8 (or UTF-16, UTF-32, ISO-8859-1, Windows-1252)"
        )
    return known


def path_id(request: Request, collection: Collection):
    """The id in the path of an item of the collection."""
    text = request.path_params["item_id"]
    return text if collection.id_field != "id" else number_id(text, collection.name)


async def feature_body(request: Request, members: set, partial: bool, feature_id=None):
    """(properties, geometry in the storage CRS, the other members) of a GeoJSON Feature body;
    members: what the body may carry besides the feature; feature_id: the one it replaces."""
    document = await json_body(request)
    if not isinstance(document, dict) or (not partial and document.get("type") != "Feature"):
        raise HttpError(400, "InvalidValue", "body: expected a GeoJSON Feature")
    _check_members(document, members, feature_id)
    extra = {k: document[k] for k in members & set(document)}
    properties = document.get("properties", {} if partial else None)
    if not isinstance(properties, dict):
        raise HttpError(400, "InvalidValue", "properties: expected an object")
    geometry = document.get("geometry")
    if geometry is None:
        if partial:
            return properties, None, extra
        raise HttpError(400, "InvalidValue", "geometry: required")
    return properties, _geometry(request, geometry), extra


def _check_members(document: dict, members: set, feature_id) -> None:
    """Refuse members the write would not apply: unknown ones, the service's own, another id."""
    read_only = sorted(READ_ONLY_MEMBERS & set(document))
    if read_only:
        raise HttpError(400, "InvalidValue", f"{', '.join(read_only)}: written by the service; leave out")
    foreign = sorted(set(document) - FEATURE_MEMBERS - members)
    if foreign:
        raise HttpError(
            400,
            "InvalidValue",
            f"body: member(s) {', '.join(foreign)} not accepted here "
            f"(accepted: {', '.join(sorted(FEATURE_MEMBERS | members))})",
        )
    if "id" in document and (feature_id is None or str(document["id"]) != str(feature_id)):
        raise HttpError(400, "InvalidValue", "id: the service gives ids; a replacement keeps the one in its path")


def _geometry(request: Request, geometry):
    """A GeoJSON geometry (2D; coordinates numbers) in the storage CRS."""
    try:
        shape = shapely.from_geojson(orjson.dumps(geometry))
    except (shapely.errors.GEOSException, TypeError, ValueError) as error:
        raise HttpError(400, "InvalidValue", f"geometry: not a GeoJSON geometry ({error})") from None
    if shape.has_z:
        raise HttpError(400, "InvalidValue", "geometry: give x and y only; heights are not stored")
    source = (request.headers.get("Content-Crs") or f"<{crs.CRS84}>").strip().strip("<>")
    try:
        return crs.to_storage(shape, crs.check(source, "Content-Crs"))
    except crs.CrsError as error:
        raise HttpError(400, "InvalidParameterValue", str(error)) from None


async def json_body(request: Request):
    """The JSON of a body: of a JSON media type, in a text charset, at most MAX_BODY_BYTES."""
    media_type, _, parameters = (request.headers.get("Content-Type") or "").partition(";")
    if media_type.strip().lower() not in JSON_TYPES:
        raise HttpError(415, "UnsupportedMediaType", f"Content-Type must be one of {', '.join(JSON_TYPES)}")
    charset = _charset(parameters)
    declared = request.headers.get("Content-Length") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise HttpError(413, "PayloadTooLarge", f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        return orjson.loads(bytes(raw).decode(charset))
    except (UnicodeDecodeError, orjson.JSONDecodeError) as error:
        raise HttpError(400, "InvalidValue", f"body: not JSON in {charset} ({error})") from None


def private_details(extra: dict, raster_m: float) -> Private:
    """What a submitter gives in private: {"contact": text, "nabij_woning": true|false}."""
    given = extra[PRIVATE]
    if not isinstance(given, dict) or set(given) - {"contact", "nabij_woning"}:
        raise HttpError(400, "InvalidValue", "prive: expected an object with contact and/or nabij_woning")
    contact, near_home = given.get("contact"), given.get("nabij_woning", False)
    if contact is not None:
        check_text("prive.contact", contact, MAX_CONTACT_LENGTH)
    if not isinstance(near_home, bool):
        raise HttpError(400, "InvalidValue", "prive.nabij_woning: expected true or false")
    return Private(contact, raster_m if near_home else None)


def note(extra: dict) -> str | None:
    """The municipality's explanation of a change, if the body gives one."""
    note = extra.get("toelichting")
    return None if note is None else check_text("toelichting", note, MAX_NOTE_LENGTH)
