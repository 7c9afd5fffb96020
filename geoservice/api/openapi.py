"""The OpenAPI 3.0 document of the service, derived from the domain model and self-contained
(no remote references), so that clients and test tools can rely on it."""

from __future__ import annotations

from geoservice import __version__
from geoservice.derived import derivation
from geoservice.domain.model import COLLECTIONS, Collection
from geoservice.publish import tiles
from geoservice.publish.geojson import JSONFG
from geoservice.query import crs
from geoservice.query.params import DEFAULT_LIMIT, MAX_LIMIT

REF = "#/components/{kind}/{name}"


def ref(kind: str, name: str) -> dict:
    return {"$ref": REF.format(kind=kind, name=name)}


def _named(collection_name: str, kind: str) -> str:
    """The name of a collection's schema, in UpperCamelCase (projecten-punten, New: ProjectenPuntenNew)."""
    return "".join(part.capitalize() for part in collection_name.split("-")) + kind


def _query(name: str, schema: dict, description: str, **extra) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema, **extra}


PARAMETERS = {
    "f": _query("f", {"type": "string", "enum": ["json", "html"]}, "Output format (default: from Accept)."),
    "f-json": _query("f", {"type": "string", "enum": ["json"]}, "Output format: JSON only."),
    "f-features": _query(
        "f",
        {"type": "string", "enum": ["json", "html", "jsonfg"]},
        "Output format: GeoJSON, HTML or JSON-FG (default: from Accept).",
    ),
    "lang": _query("lang", {"type": "string"}, "Language of titles and descriptions: nl (default) or en."),
    "limit": _query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
        f"Items per page, at most {MAX_LIMIT}.",
        style="form",
        explode=False,
    ),
    "offset": _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip."),
    "cursor": _query(
        "cursor",
        {"type": "string", "maxLength": 40},
        "Where the next page starts, as its `next` link gives it (with the default order; not with offset).",
    ),
    "bbox": _query(
        "bbox",
        {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
        "minx,miny,maxx,maxy in bbox-crs (default CRS84); features that intersect it.",
        style="form",
        explode=False,
    ),
    "bbox-crs": _query("bbox-crs", {"type": "string", "format": "uri", "enum": list(crs.SUPPORTED)}, "CRS of bbox."),
    "crs": _query(
        "crs",
        {"type": "string", "format": "uri", "enum": list(crs.SUPPORTED)},
        "CRS of the geometries in the response (default CRS84).",
    ),
    "datetime": _query(
        "datetime",
        {"type": "string"},
        "RFC 3339 instant or interval (../2027-12-31); features whose time meets it.",
        style="form",
        explode=False,
    ),
    "filter": _query("filter", {"type": "string", "minLength": 1}, "A CQL2 filter (text or JSON, see filter-lang)."),
    "filter-lang": _query(
        "filter-lang",
        {"type": "string", "enum": ["cql2-text", "cql2-json", "cql-text"], "default": "cql2-text"},
        "Language of filter; cql-text is the draft name that GDAL's OAPIF driver sends "
        "(dates may then be quoted text).",
    ),
    "filter-crs": _query(
        "filter-crs",
        {"type": "string", "format": "uri", "enum": list(crs.SUPPORTED)},
        "CRS of the geometries in filter (default CRS84).",
    ),
    "sortby": _query(
        "sortby",
        {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "Fields to sort on, comma-separated; prefix - for descending.",
        style="form",
        explode=False,
    ),
    "properties": _query(
        "properties",
        {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
        "Only these properties, comma-separated.",
        style="form",
        explode=False,
    ),
    "skipGeometry": _query("skipGeometry", {"type": "boolean", "default": False}, "Leave geometries out."),
    "featureId": {
        "name": "featureId",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "Id of the feature.",
    },
    "Participant-Id": {
        "name": "Participant-Id",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": "Pseudonymous id of the participant a participation client acts for "
        "(required for that role's writes).",
    },
    "Content-Crs": {
        "name": "Content-Crs",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "enum": [f"<{uri}>" for uri in crs.SUPPORTED]},
        "description": "CRS of the geometry in the body (default CRS84).",
    },
    "If-None-Match": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "The ETag of a version the client holds: 304 while it is current (public reads).",
    },
}
UNCHANGED = {"description": "Unchanged: the client holds the current version (its ETag or date)."}
ITEMS_PARAMETERS = [
    "f-features",
    "lang",
    "limit",
    "offset",
    "cursor",
    "bbox",
    "bbox-crs",
    "crs",
    "filter",
    "filter-lang",
    "filter-crs",
    "sortby",
    "properties",
    "skipGeometry",
]

GEOMETRY = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"],
        },
        "coordinates": ref("schemas", "Coordinates"),
    },
}
COORDINATES = {
    "type": "array",
    "description": "A position (numbers), or positions nested as the geometry type asks.",
    "items": {"oneOf": [{"type": "number"}, ref("schemas", "Coordinates")]},
}
LINK = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
PROBLEM = {
    "type": "object",
    "description": "Problem details (RFC 9457). code and description are extension members: the OGC API "
    "exception's, which OGC clients (GDAL, QGIS) show; description repeats detail.",
    "required": ["type", "title", "status", "detail", "code", "description"],
    "properties": {
        "type": {"type": "string", "description": "about:blank: the status says what kind of problem it is."},
        "title": {"type": "string", "description": "The status's phrase."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What was wrong, naming the parameter, field or value."},
        "instance": {"type": "string", "description": "The request's id (urn:uuid), as logged."},
        "code": {"type": "string", "description": "The OGC exception code, e.g. InvalidParameterValue."},
        "description": {"type": "string", "description": "The same as detail (OGC API exception)."},
    },
}
ERRORS = {
    "400": "A parameter or the body is not acceptable; the description says why.",
    "401": "A bearer token is required.",
    "403": "The token's role may not do this.",
    "404": "No such collection or feature.",
    "409": "The state of the feature does not allow this (e.g. support for a rejected proposal).",
    "413": "The body is too large.",
    "415": "The body is not GeoJSON in a known charset.",
    "429": "Too many writes by this client; Retry-After says when to try again.",
}
WRITE_ERRORS = ("400", "401", "403", "404", "409", "429")


def _path_parameter(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


TILE_PARAMETERS = {
    "collectionId": "The collection.",
    "tileMatrixSetId": "The tile matrix set (OGC 2D TMS).",
    "tileMatrix": "The zoom level.",
    "tileRow": "The row of the tile, counted from the top.",
    "tileCol": "The column of the tile, counted from the left.",
}


def _response(description: str, media: dict) -> dict:
    return {"description": description, "content": media}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _features_media(schema: dict) -> dict:
    return {
        "application/geo+json": {"schema": schema},
        JSONFG: {"schema": schema},
        "text/html": {"schema": {"type": "string"}},
    }


def _errors(*codes: str) -> dict:
    return {code: ref("responses", code) for code in codes}


def _properties_schema(collection: Collection, writable: bool) -> dict:
    fields = [f for f in collection.fields if not (writable and f.derived)]
    properties = {}
    for f in fields:
        schema = f.schema()
        if not f.required or f.derived:
            schema["nullable"] = True
        properties[f.name] = schema
    schema = {"type": "object", "properties": properties}
    required = [f.name for f in fields if f.required and not f.derived]
    if required and writable:
        schema["required"] = required
    if writable:
        schema["additionalProperties"] = False
    return schema


NOTE = {"type": "string", "maxLength": 2000, "description": "Why the change is made (kept in statuswijzigingen)."}
PRIVATE = {
    "type": "object",
    "additionalProperties": False,
    "description": "Never published: contact details "
    "for the municipality, and whether the point is near the submitter's home (then shown generalised).",
    "properties": {"contact": {"type": "string", "maxLength": 300}, "nabij_woning": {"type": "boolean"}},
}
SIMILAR = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "titel": {"type": "string"},
            "status": {"type": "string"},
            "steun": {"type": "integer"},
            "afstand_m": {"type": "number"},
            "gelijkenis": {"type": "number"},
            "links": {"type": "array", "items": ref("schemas", "Link")},
        },
    },
}


def _feature_schema(collection: Collection, writable: bool) -> dict:
    geometry = ref("schemas", "Geometry") if writable else {"allOf": [ref("schemas", "Geometry")], "nullable": True}
    properties = {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": geometry,
        "properties": _properties_schema(collection, writable),
    }
    properties["id"] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    properties["links"] = {"type": "array", "items": ref("schemas", "Link")}
    properties["bbox"] = {"type": "array", "items": {"type": "number"}}
    if writable:
        properties["toelichting"] = NOTE
        if collection.participant_fields:
            properties["prive"] = PRIVATE
    elif collection.participant_fields:
        properties["vergelijkbaar"] = SIMILAR
    schema = {"type": "object", "required": ["type", "geometry", "properties"], "properties": properties}
    if writable:
        schema["additionalProperties"] = False
    return schema


def _collection_schemas(collection: Collection) -> dict:
    name = collection.name
    schemas = {
        _named(name, "Feature"): _feature_schema(collection, writable=False),
        _named(name, "Features"): {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": ref("schemas", _named(name, "Feature"))},
                "links": {"type": "array", "items": ref("schemas", "Link")},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
    }
    if collection.editable:
        schemas[_named(name, "New")] = _feature_schema(collection, writable=True)
        schemas[_named(name, "Change")] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": ref("schemas", "Geometry"),
                "toelichting": NOTE,
                "properties": {
                    "type": "object",
                    "properties": _properties_schema(collection, True)["properties"],
                    "additionalProperties": False,
                },
            },
        }
    return schemas


def _items_operations(collection: Collection) -> dict:
    name = collection.name
    equalities = [
        _query(
            f.name,
            {k: v for k, v in f.schema().items() if k in ("type", "format", "enum")},
            f"Only features whose {f.name} equals this value.",
        )
        for f in collection.fields
        if f.kind != "integer-list"
    ]
    parameters = [ref("parameters", p) for p in ITEMS_PARAMETERS] + equalities
    if collection.temporal:
        parameters.append(ref("parameters", "datetime"))
    operations = {
        "get": {
            "tags": [name],
            "operationId": f"get-{name}-items",
            "summary": f"Features of {name}",
            "parameters": [*parameters, ref("parameters", "If-None-Match")],
            "responses": {
                "200": _response("A page of features.", _features_media(ref("schemas", _named(name, "Features")))),
                "304": UNCHANGED,
                **_errors("400", "404"),
            },
        }
    }
    if collection.editable:
        operations["post"] = _write(collection, "create", "Add a feature.", _named(name, "New"), "201", body=True)
    return operations


def _write(
    collection: Collection,
    action: str,
    summary: str,
    body_schema: str | None,
    status: str,
    body: bool,
    media_types=("application/geo+json", "application/json"),
) -> dict:
    name = collection.name
    if body:
        parameters = [ref("parameters", "crs"), ref("parameters", "Content-Crs"), ref("parameters", "Participant-Id")]
        answer = _response("Done.", {"application/geo+json": {"schema": ref("schemas", _named(name, "Feature"))}})
    else:
        parameters, answer = [ref("parameters", "Participant-Id")], {"description": "Done."}
    operation = {
        "tags": [name],
        "operationId": f"{action}-{name}-item",
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": {status: answer, **_errors(*WRITE_ERRORS, *(("413", "415") if body else ()))},
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": ref("schemas", body_schema)} for media in media_types},
        }
    return operation


def _item_operations(collection: Collection) -> dict:
    name = collection.name
    operations = {
        "get": {
            "tags": [name],
            "operationId": f"get-{name}-item",
            "summary": f"One feature of {name}",
            "parameters": [ref("parameters", p) for p in ("f-features", "lang", "crs", "If-None-Match")],
            "responses": {
                "200": _response("The feature.", _features_media(ref("schemas", _named(name, "Feature")))),
                "304": UNCHANGED,
                **_errors("400", "404"),
            },
        }
    }
    if collection.editable:
        operations["put"] = _write(collection, "replace", "Replace a feature.", _named(name, "New"), "200", body=True)
        operations["patch"] = _write(
            collection,
            "update",
            "Change some properties or the geometry.",
            _named(name, "Change"),
            "200",
            body=True,
            media_types=("application/geo+json", "application/json", "application/merge-patch+json"),
        )
        operations["delete"] = _write(collection, "delete", "Delete a feature.", None, "204", body=False)
    operations["parameters"] = [ref("parameters", "featureId")]
    return operations


def _plain(operation_id: str, summary: str, media_type: str = "application/json") -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [ref("parameters", "f"), ref("parameters", "lang")],
            "responses": {
                "200": _response(
                    summary, {media_type: {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
                ),
                **_errors("400"),
            },
        }
    }


def _participation(
    operation_id: str, summary: str, status: str, answer: dict, body: dict | None = None, role: bool = True, extra=()
) -> dict:
    operation = {
        "tags": ["voorstellen"],
        "operationId": operation_id,
        "summary": summary,
        "parameters": [ref("parameters", "Participant-Id")],
        "responses": {status: _response(summary, _json(answer)), **_errors(*WRITE_ERRORS, *extra)},
    }
    if role:
        operation["security"] = [{"bearer": []}]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": _json(body)}
    return operation


# A refusal: problem details, or for a browser (f=html, or Accept: text/html) the same as a page.
REFUSAL = {
    "application/problem+json": {"schema": ref("schemas", "Problem")},
    "text/html": {"schema": {"type": "string"}},
}

# Bodies of the participation paths.
SUPPORT = {
    "type": "object",
    "properties": {
        "voorstel": {"type": "integer"},
        "steun": {"type": "integer"},
        "gesteund": {"type": "boolean"},
        "gewijzigd": {"type": "boolean"},
    },
}
REACTION = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "tekst": {"type": "string"},
        "status": {"type": "string"},
        "voorstel": {"type": "integer"},
        "reacties": {"type": "integer"},
        "ingediend": {"type": "string"},
        "gepubliceerd": {"type": "string", "nullable": True},
    },
}
REACTIONS = {
    "type": "object",
    "properties": {"voorstel": {"type": "integer"}, "reacties": {"type": "array", "items": REACTION}},
}
REACTION_TEXT = {
    "type": "object",
    "required": ["tekst"],
    "additionalProperties": False,
    "properties": {"tekst": {"type": "string", "minLength": 1, "maxLength": 2000}},
}
MODERATION = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {"status": {"type": "string", "enum": ["gepubliceerd", "afgewezen"]}},
}


def participation_paths() -> dict:
    """Support, reactions and the duplicate check of proposals."""
    item = "/collections/voorstellen/items/{featureId}"
    path_id = [ref("parameters", "featureId")]
    add_support = _participation("support", "Support a proposal (once per participant)", "201", SUPPORT)
    add_support["responses"]["200"] = _response("Supported already.", _json(SUPPORT))
    return {
        f"{item}/steun": {
            "parameters": path_id,
            "get": _participation("get-support", "Support of a proposal", "200", SUPPORT, role=False),
            "post": add_support,
            "delete": _participation("withdraw-support", "Withdraw support", "200", SUPPORT),
        },
        f"{item}/reacties": {
            "parameters": path_id,
            "get": _participation("get-reactions", "Published reactions", "200", REACTIONS, role=False),
            "post": _participation(
                "react", "React (published after moderation)", "201", REACTION, REACTION_TEXT, extra=("413", "415")
            ),
        },
        f"{item}/reacties/{{reactionId}}": {
            "parameters": [
                *path_id,
                {"name": "reactionId", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "patch": _participation(
                "moderate-reaction", "Publish or reject a reaction", "200", REACTION, MODERATION, extra=("413", "415")
            ),
        },
        "/collections/voorstellen/vergelijkbaar": {
            "post": _participation(
                "check-proposal",
                "Dry run: what a submission would be told, and similar published proposals nearby",
                "200",
                {"type": "object", "properties": {"vergelijkbaar": SIMILAR}},
                ref("schemas", _named("voorstellen", "New")),
                role=False,
                extra=("413", "415"),
            ),
        },
    }


def metadata_paths() -> dict:
    """The catalogue, the field dictionary and the downloads."""

    def file(operation_id: str, summary: str, parameters: list) -> dict:
        media = {
            "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}},
            "application/geo+json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
        }
        return {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "parameters": parameters,
                "responses": {"200": _response(summary, media), "304": UNCHANGED, **_errors("404")},
            }
        }

    files = [f"{name}.{fmt}" for name in COLLECTIONS for fmt in ("gpkg", "geojson", "csv")]
    collection_file = _path_parameter("file", {"type": "string", "enum": files}, "A collection and a format.")
    wijk_file = _path_parameter("file", {"type": "string", "pattern": r"^[A-Za-z0-9]+\.gpkg$"}, "wijkcode.gpkg")
    return {
        "/catalogus": _plain("catalogue", "DCAT-AP catalogue of the datasets", "application/ld+json"),
        "/velden": _plain("field-dictionary", "Field dictionary of every collection"),
        "/downloads/{file}": file("download", "A collection as a file", [collection_file]),
        "/downloads/wijken/{file}": file("download-wijk", "Everything of one wijk as GeoPackage", [wijk_file]),
    }


def following_paths() -> dict:
    """The Atom feeds and the calendars."""

    def followed(operation_id: str, summary: str, parameters: list, media_type: str) -> dict:
        return {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "parameters": [*parameters, ref("parameters", "lang")],
                "responses": {
                    "200": _response(summary, {media_type: {"schema": {"type": "string"}}}),
                    "304": UNCHANGED,
                    **_errors("400", "404"),
                },
            }
        }

    def path(name: str, schema: dict, description: str) -> dict:
        return _path_parameter(name, {"type": "string", **schema}, description)

    offset = {"name": "offset", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999}}  # fmt: skip
    atom, kinds = "application/atom+xml", ["wijken", "buurten", "projecten", "voorstellen"]
    return {
        "/feeds/stad.atom": followed("feed-city", "What happens in the city (Atom)", [offset], atom),
        "/feeds/{kind}/{feed}": followed(
            "feed",
            "What happens in a wijk, buurt, project or proposal (Atom)",
            [
                path("kind", {"enum": kinds}, "What the feed follows."),
                path("feed", {"pattern": r"^[^/]+\.atom$"}, "Its code or id and .atom (WK026801.atom, 12.atom)."),
                offset,
            ],
            atom,
        ),
        "/kalenders/{area}/{calendar}": followed(
            "calendar",
            "The works planned in a wijk or buurt (iCalendar)",
            [
                path("area", {"enum": kinds[:2]}, "A wijk or a buurt."),
                path("calendar", {"pattern": r"^[^/]+\.ics$"}, "Its code and .ics (WK026801.ics)."),
            ],
            "text/calendar",
        ),
    }


SUBSCRIPTION_BODY = {
    "type": "object",
    "required": ["url"],
    "additionalProperties": False,
    "properties": {
        "url": {"type": "string", "format": "uri", "maxLength": 2000},
        "gebied": {"type": "string", "description": "wijk- or buurtcode"},
        "soorten": {"type": "array", "minItems": 1, "items": {
            "type": "string", "enum": ["aanmaken", "wijzigen", "verwijderen", "steunen", "reageren", "afleiden",
                                       "herstellen"]}},
        "objecten": {"type": "array", "minItems": 1, "maxItems": 100, "items": {"type": "integer", "minimum": 1},
                     "description": "ids of proposals"},
    },
}  # fmt: skip
SUBSCRIPTION = {"type": "object", "properties": {"id": {"type": "integer"}, "url": {"type": "string"},
                                                 "secret": {"type": "string"}}}  # fmt: skip


def tile_paths() -> dict:
    """The tile matrix sets and the vector tiles of every collection (OGC API - Tiles)."""

    def path_parameter(name: str, schema: dict) -> dict:
        return _path_parameter(name, schema, TILE_PARAMETERS[name])

    def get(operation_id: str, summary: str, parameters: list, media: dict, errors=("400", "404")) -> dict:
        responses = {"200": _response(summary, media), **_errors(*errors)}
        return {"get": {"tags": ["tiles"], "operationId": operation_id, "summary": summary,
                        "parameters": parameters, "responses": responses}}  # fmt: skip

    collection = path_parameter("collectionId", {"type": "string", "enum": list(COLLECTIONS)})
    matrix_set = path_parameter("tileMatrixSetId", {"type": "string", "enum": list(tiles.SCHEMES)})
    cell = [path_parameter(n, {"type": "integer", "minimum": 0}) for n in ("tileMatrix", "tileRow", "tileCol")]
    formats = {
        "name": "f",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["json", "tilejson"]},
    }
    json_only = ref("parameters", "f-json")
    tile = get("tile", "A vector tile", [collection, matrix_set, *cell, ref("parameters", "If-None-Match")],
               {tiles.MVT: {"schema": {"type": "string", "format": "binary"}}})  # fmt: skip
    tile["get"]["responses"]["304"] = UNCHANGED
    collection_tiles = "/collections/{collectionId}/tiles"
    return {
        "/tileMatrixSets": get("tile-matrix-sets", "The tile matrix sets", [json_only], _json({"type": "object"})),
        "/tileMatrixSets/{tileMatrixSetId}": get(
            "tile-matrix-set", "A tile matrix set", [matrix_set, json_only], _json({"type": "object"})
        ),
        collection_tiles: get(
            "tilesets", "The vector tilesets of a collection", [collection, json_only], _json({"type": "object"})
        ),
        f"{collection_tiles}/{{tileMatrixSetId}}": get(
            "tileset",
            "A vector tileset (f=tilejson: TileJSON 3.0)",
            [collection, matrix_set, formats],
            _json({"type": "object"}),
        ),
        f"{collection_tiles}/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}": tile,
    }


def subscription_paths() -> dict:
    """Webhook subscriptions: made by a token holder, read and ended by its owner."""
    one = {"name": "subscription_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}

    def operation(operation_id: str, summary: str, status: str, answer: dict | None, errors=()) -> dict:
        responses = {status: _response(summary, _json(answer)) if answer else {"description": summary}}
        return {"tags": ["abonnementen"], "operationId": operation_id, "summary": summary,
                "security": [{"bearer": []}], "responses": {**responses, **_errors("401", "404", *errors)}}  # fmt: skip

    create = operation("subscribe", "Subscribe to changes (webhooks)", "201", SUBSCRIPTION, ("400", "413", "415"))
    create["requestBody"] = {"required": True, "content": _json(SUBSCRIPTION_BODY)}
    return {
        "/abonnementen": {"post": create},
        "/abonnementen/{subscription_id}": {
            "parameters": [one],
            "get": operation("subscription", "A subscription with its recent deliveries", "200", SUBSCRIPTION),
            "delete": operation("unsubscribe", "End a subscription", "204", None),
        },
    }


STAMP = {
    "type": "object",
    "nullable": True,
    "properties": {"volgnummer": {"type": "integer"}, "tijdstip": {"type": "string", "format": "date-time"}},
}
STATUS = {
    "type": "object",
    "properties": {
        "wijzigingen": STAMP,
        "kaarten": {**STAMP, "properties": {**STAMP["properties"], "achter_s": {"type": "number", "minimum": 0}}},
        "afgeleid": {"type": "object", "additionalProperties": STAMP},
    },
}
OPENAPI_MEDIA = {"application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}}}
HEADERS = {
    "API-Version": ("The full version of the API that answered (semantic versioning).", True),
    "X-Request-ID": ("The id of the request, as the service logged it: give it when reporting a problem.", True),
    "ETag": ("The version of the answer: send it in If-None-Match to be told 304 while it holds.", False),
    "Cache-Control": ("How long and by whom the answer may be kept (public reads: shared caches too).", False),
    "Vary": ("The request headers the answer depends on.", False),
    "Last-Modified": ("When the file or feed last changed.", False),
    "Link": ("The document's links (RFC 8288), for clients that read headers only.", False),
    "Content-Crs": ("The CRS of the geometries in the answer (OGC API - Features - Part 2).", False),
    "Location": ("Where what was made is now.", False),
    "Retry-After": ("Seconds after which trying again may succeed.", False),
    "Derived-Through-Change": ("The last change of the change log the derived collection reflects.", False),
    "Derived-At": ("When the derived collection was derived (UTC).", False),
    "access-control-allow-origin": (
        "*: any web page may read the answer (sent when the request has an Origin).",
        False,
    ),
}
ALWAYS = ("API-Version", "X-Request-ID")
DERIVED_ITEMS = tuple(f"/collections/{name}/items" for name in derivation.DERIVED)
# The tag of an operation that names none itself, by the start of its path (the first that fits).
TAGS = {
    "/collections/": None,  # the collection's own name
    "/catalogus": "metadata",
    "/velden": "metadata",
    "/downloads": "downloads",
    "/feeds": "volgen",
    "/kalenders": "volgen",
    "/": "service",
}
TAG_DESCRIPTIONS = {
    "service": "The landing page, the conformance classes, the collections and this document.",
    "metadata": "The DCAT-AP catalogue and the field dictionary.",
    "downloads": "Whole collections and wijken as files (GeoPackage, GeoJSON, CSV).",
    "volgen": "Atom feeds and iCalendar calendars of the city, wijken, buurten, projects and proposals.",
    "abonnementen": "Webhook subscriptions to changes.",
    "tiles": "Vector tiles (OGC API - Tiles, Mapbox Vector Tiles).",
}
DESCRIPTIONS = {
    "landing-page": "Where the API starts: links to everything it offers (JSON or HTML).",
    "conformance": "The OGC API conformance classes the service implements.",
    "collections": "Every collection with its extent, CRSs, links to its items, tiles, schema and downloads.",
    "openapi": "This document, as JSON or as an HTML page to try the API in.",
    "status": "The last change of the change log, the change the maps reflect and how long the oldest change "
    "they do not show yet has waited (achter_s: alert on it), and the change each derived collection reflects.",
    "openapi-json": "This document as JSON, at the address the Dutch API design rules ask for.",
    "get-support": "How many participants support the proposal, and whether the asking participant does.",
    "support": "Support a proposal, once per participant; 200 when the participant did already.",
    "withdraw-support": "Take back the participant's support of a proposal.",
    "get-reactions": "The published reactions to a proposal, oldest first.",
    "react": "React to a proposal; the reaction is published once a moderator has seen it.",
    "moderate-reaction": "A moderator publishes or rejects a reaction.",
    "check-proposal": "Nothing is stored: what a submission of this proposal would be told, and published "
    "proposals nearby that look like it.",
    "catalogue": "The datasets of the service as a DCAT-AP-NL catalogue (JSON-LD).",
    "field-dictionary": "Every field of every collection: its type, unit, values and meaning.",
    "download": "A whole collection as GeoPackage (RD New), GeoJSON (CRS84) or CSV, made from one "
    "snapshot of the store and kept current.",
    "download-wijk": "Everything of one wijk (its projects, proposals, koppelkansen and boundaries) as one GeoPackage.",
    "feed-city": "What happens in the whole municipality, newest first (Atom 1.0).",
    "feed": "What happens in a wijk, buurt, project or proposal, newest first (Atom 1.0).",
    "calendar": "The works planned in a wijk or buurt, as events (iCalendar).",
    "subscribe": "Subscribe a URL to changes of an area, kind or proposal: each change is posted to it, "
    "signed with the secret in the answer.",
    "subscription": "A subscription and its most recent deliveries.",
    "unsubscribe": "End a subscription.",
    "tile-matrix-sets": "The tile matrix sets the vector tiles come in.",
    "tile-matrix-set": "One tile matrix set (OGC Two Dimensional Tile Matrix Set).",
    "tilesets": "The vector tilesets of a collection.",
    "tileset": "A vector tileset: its tile matrix set and levels, as OGC tileset metadata or TileJSON.",
    "tile": "A vector tile of a collection (Mapbox Vector Tile), with every feature that meets it.",
}
COLLECTION_DESCRIPTIONS = {
    "get-{}-items": "{} A page of features, filtered by bbox, datetime, a CQL2 filter or property values; "
    "geometries in CRS84, RD New or ETRS89 (crs). Follow the next link for the following page.",
    "get-{}-item": "{} One feature, by id.",
    "create-{}-item": "Add a feature (GeoJSON; Content-Crs for another CRS than CRS84). {}",
    "replace-{}-item": "Replace a feature as a whole. {}",
    "update-{}-item": "Change some properties or the geometry of a feature (merge patch). {}",
    "delete-{}-item": "Delete a feature; its history is kept. {}",
    "collection-{}": "{} Its extent, CRSs and links.",
    "queryables-{}": "What can be filtered on in {}, as JSON Schema.",
    "schema-{}": "The properties of the features of {}, as JSON Schema.",
}


def _described(operation_id: str) -> str:
    """The description of an operation (KeyError: an operation nobody described)."""
    if operation_id in DESCRIPTIONS:
        return DESCRIPTIONS[operation_id]
    for pattern, text in COLLECTION_DESCRIPTIONS.items():
        before, after = pattern.split("{}")
        name = operation_id.removeprefix(before).removesuffix(after)
        if name in COLLECTIONS and operation_id == before + name + after:
            about = name if pattern.startswith(("queryables", "schema")) else COLLECTIONS[name].description["en"]
            return text.format(about)
    raise KeyError(f"no description for operation {operation_id}")


def _tag(path: str) -> str:
    for start, tag in TAGS.items():
        if path.startswith(start):
            return tag or path.split("/")[2]
    raise KeyError(path)


def _header_refs(names) -> dict:
    return {name: ref("headers", name) for name in names}


def _answer_headers(path: str, method: str, status: str, response: dict) -> dict:
    """The headers documented on an answer: those sent on every answer, and those of its kind."""
    names = list(ALWAYS)
    if method == "get" and status in ("200", "304"):
        names += ["ETag", "Cache-Control", "Vary", "Link", "access-control-allow-origin"]
        if path.startswith(("/downloads", "/feeds", "/kalenders")):
            names.append("Last-Modified")
        if path.startswith(DERIVED_ITEMS):
            names += ["Derived-Through-Change", "Derived-At"]
    if "application/geo+json" in response.get("content", {}):
        names.append("Content-Crs")
    if status == "201":
        names.append("Location")
    return _header_refs(names)


def _completed(paths: dict) -> dict:
    """Every operation with its tag and description, every answer with its headers, and a 400
    wherever parameters or a body can be wrong."""
    for path, item in paths.items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            operation.setdefault("tags", [_tag(path)])
            operation.setdefault("description", _described(operation["operationId"]))
            responses = operation["responses"]
            if "400" not in responses and (operation.get("parameters") or item.get("parameters") or method != "get"):
                responses["400"] = ref("responses", "400")
            for status, response in responses.items():
                if "$ref" not in response:
                    response["headers"] = _answer_headers(path, method, status, response)
    return paths


def _error_response(status: str, text: str) -> dict:
    names = [*ALWAYS, *(("Retry-After",) if status == "429" else ())]
    return {**_response(text, REFUSAL), "headers": _header_refs(names)}


def document(config: dict) -> dict:
    """The API document for a pygeoapi configuration completed by config.load_config."""
    metadata = config["metadata"]
    paths = {
        "/": _plain("landing-page", "Landing page"),
        "/conformance": _plain("conformance", "Conformance classes"),
        "/collections": _plain("collections", "Collections"),
        "/openapi": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "parameters": [ref("parameters", "f")],
                "responses": {
                    "200": _response(
                        "The API document.", {**OPENAPI_MEDIA, "text/html": {"schema": {"type": "string"}}}
                    ),
                    **_errors("400"),
                },
            }
        },
    }
    paths["/status"] = {
        "get": {
            "operationId": "status",
            "summary": "How current the maps and derived collections are",
            "responses": {"200": _response("The state of the service's followers.", _json(STATUS))},
        }
    }
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi-json",
            "summary": "This document as JSON",
            "responses": {"200": _response("The API document.", OPENAPI_MEDIA)},
        }
    }
    schemas = {"Geometry": GEOMETRY, "Coordinates": COORDINATES, "Link": LINK, "Problem": PROBLEM}
    for name, collection in COLLECTIONS.items():
        base = f"/collections/{name}"
        paths[base] = _plain(f"collection-{name}", f"The collection {name}")
        paths[f"{base}/queryables"] = _plain(f"queryables-{name}", f"Queryables of {name}", "application/schema+json")
        paths[f"{base}/schema"] = _plain(
            f"schema-{name}", f"Schema of the features of {name}", "application/schema+json"
        )
        paths[f"{base}/items"] = _items_operations(collection)
        paths[f"{base}/items/{{featureId}}"] = _item_operations(collection)
        schemas.update(_collection_schemas(collection))
    paths.update(participation_paths())
    paths.update(metadata_paths())
    paths.update(following_paths())
    paths.update(subscription_paths())
    paths.update(tile_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": metadata["identification"]["title"]["en"],
            "version": __version__,
            "description": metadata["identification"]["description"]["en"],
            "contact": {
                "name": metadata["contact"]["name"],
                "url": metadata["contact"]["url"],
                "email": metadata["contact"]["email"],
            },
            "license": {"name": metadata["license"]["name"], "url": metadata["license"]["url"]},
        },
        "servers": [{"url": config["server"]["url"], "description": "This service, version 1 of its API."}],
        "tags": [{"name": name, "description": COLLECTIONS[name].description["en"]} for name in COLLECTIONS]
        + [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items()],
        "paths": _completed(paths),
        "components": {
            "parameters": PARAMETERS,
            "schemas": schemas,
            "headers": {
                name: {"description": text, "required": always, "schema": {"type": "string"}}
                for name, (text, always) in HEADERS.items()
            },
            "responses": {code: _error_response(code, text) for code, text in ERRORS.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
