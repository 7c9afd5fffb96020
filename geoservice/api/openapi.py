"""The OpenAPI 3.0 document of the service, derived from the domain model and self-contained
(no remote references), so that clients and test tools can rely on it."""

from __future__ import annotations

from geoservice import __version__
from geoservice.domain.model import COLLECTIONS, Collection
from geoservice.publish import tiles
from geoservice.publish.geojson import JSONFG
from geoservice.query import crs
from geoservice.query.params import DEFAULT_LIMIT, MAX_LIMIT

REF = "#/components/{kind}/{name}"


def ref(kind: str, name: str) -> dict:
    return {"$ref": REF.format(kind=kind, name=name)}


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
        "coordinates": {"type": "array"},
    },
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
EXCEPTION = {
    "type": "object",
    "required": ["status", "detail", "code", "description"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "description": {"type": "string"},
    },
}
ERRORS = {
    "400": "A parameter or the body is not acceptable; the description says why.",
    "401": "A bearer token is required.",
    "403": "The token's role may not do this.",
    "404": "No such collection or feature.",
    "405": "The collection does not allow this method.",
    "409": "The state of the feature does not allow this (e.g. support for a rejected proposal).",
    "413": "The body is too large.",
    "415": "The body is not GeoJSON in a known charset.",
    "429": "Too many writes by this client; Retry-After says when to try again.",
}
WRITE_ERRORS = ("400", "401", "403", "404", "409", "429")


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
            "links": {"type": "array", "items": ref("schemas", "link")},
        },
    },
}


def _feature_schema(collection: Collection, writable: bool) -> dict:
    geometry = ref("schemas", "geometry") if writable else {"allOf": [ref("schemas", "geometry")], "nullable": True}
    properties = {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": geometry,
        "properties": _properties_schema(collection, writable),
    }
    properties["id"] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    properties["links"] = {"type": "array", "items": ref("schemas", "link")}
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
        f"{name}-feature": _feature_schema(collection, writable=False),
        f"{name}-features": {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": ref("schemas", f"{name}-feature")},
                "links": {"type": "array", "items": ref("schemas", "link")},
                "numberMatched": {"type": "integer", "minimum": 0},
                "numberReturned": {"type": "integer", "minimum": 0},
            },
        },
    }
    if collection.editable:
        schemas[f"{name}-new"] = _feature_schema(collection, writable=True)
        schemas[f"{name}-change"] = {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string", "enum": ["Feature"]},
                "geometry": ref("schemas", "geometry"),
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
                "200": _response("A page of features.", _features_media(ref("schemas", f"{name}-features"))),
                "304": UNCHANGED,
                **_errors("400", "404"),
            },
        }
    }
    if collection.editable:
        operations["post"] = _write(collection, "create", "Add a feature.", f"{name}-new", "201", body=True)
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
        answer = _response("Done.", {"application/geo+json": {"schema": ref("schemas", f"{name}-feature")}})
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
                "200": _response("The feature.", _features_media(ref("schemas", f"{name}-feature"))),
                "304": UNCHANGED,
                **_errors("400", "404"),
            },
        }
    }
    if collection.editable:
        operations["put"] = _write(collection, "replace", "Replace a feature.", f"{name}-new", "200", body=True)
        operations["patch"] = _write(
            collection,
            "update",
            "Change some properties or the geometry.",
            f"{name}-change",
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
    "application/problem+json": {"schema": ref("schemas", "exception")},
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
                ref("schemas", "voorstellen-new"),
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

    collection = {
        "name": "collection",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": list(COLLECTIONS)},
    }
    fmt = {
        "name": "format",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "enum": ["gpkg", "geojson", "csv"]},
    }
    wijk = {"name": "wijkcode", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "/catalogus": _plain("catalogue", "DCAT-AP catalogue of the datasets", "application/ld+json"),
        "/velden": _plain("field-dictionary", "Field dictionary of every collection"),
        "/downloads/{collection}.{format}": file("download", "A collection as a file", [collection, fmt]),
        "/downloads/wijken/{wijkcode}.gpkg": file("download-wijk", "Everything of one wijk as GeoPackage", [wijk]),
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

    def path(name: str, values: list[str] | None = None) -> dict:
        return {"name": name, "in": "path", "required": True,
                "schema": {"type": "string", **({"enum": values} if values else {})}}  # fmt: skip

    offset = {"name": "offset", "in": "query", "required": False,
              "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999}}  # fmt: skip
    atom, kinds = "application/atom+xml", ["wijken", "buurten", "projecten", "voorstellen"]
    return {
        "/feeds/stad.atom": followed("feed-city", "What happens in the city (Atom)", [offset], atom),
        "/feeds/{kind}/{key}.atom": followed(
            "feed",
            "What happens in a wijk, buurt, project or proposal (Atom)",
            [path("kind", kinds), path("key"), offset],
            atom,
        ),
        "/kalenders/{area}/{code}.ics": followed(
            "calendar",
            "The works planned in a wijk or buurt (iCalendar)",
            [path("area", kinds[:2]), path("code")],
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
        return {"name": name, "in": "path", "required": True, "schema": schema}

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
                        "The API document.",
                        {
                            "application/vnd.oai.openapi+json;version=3.0": {"schema": {"type": "object"}},
                            "text/html": {"schema": {"type": "string"}},
                        },
                    ),
                    **_errors("400"),
                },
            }
        },
    }
    schemas = {"geometry": GEOMETRY, "link": LINK, "exception": EXCEPTION}
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
            "contact": {"name": metadata["contact"]["name"], "url": metadata["contact"]["url"]},
            "license": {"name": metadata["license"]["name"], "url": metadata["license"]["url"]},
        },
        "servers": [{"url": config["server"]["url"]}],
        "paths": paths,
        "components": {
            "parameters": PARAMETERS,
            "schemas": schemas,
            "responses": {code: _response(text, REFUSAL) for code, text in ERRORS.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
