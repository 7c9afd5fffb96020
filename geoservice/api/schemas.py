"""JSON Schemas of a collection, from the domain model: the schema of its features (OGC API -
Features Part 5, with the roles of id, geometry and time, and the geometry type declared) and its
queryables (Part 3)."""

from __future__ import annotations

from geoservice.domain.model import Collection

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
TIME_ROLES = {1: ("primary-instant",), 2: ("primary-interval-start", "primary-interval-end")}


def _document(url: str, title: str, properties: dict, closed: bool) -> dict:
    document = {"$schema": JSON_SCHEMA, "$id": url, "type": "object", "title": title, "properties": properties}
    if closed:
        document["additionalProperties"] = False
    return document


def _geometry(collection: Collection) -> dict:
    return {"x-ogc-role": "primary-geometry", "format": collection.geometry_format}


def schema(collection: Collection, url: str, title: str) -> dict:
    """The schema of the collection's features: id, geometry (with its type) and every property in
    the order of the model, with its roles."""
    roles = dict(zip(collection.temporal, TIME_ROLES.get(len(collection.temporal), ())))
    properties = {
        "id": {
            "type": "integer" if collection.id_field == "id" else "string",
            "title": "Id",
            "x-ogc-role": "id",
            "readOnly": True,
        },
        "geometry": _geometry(collection),
    }
    for sequence, f in enumerate(collection.fields, start=1):
        properties[f.name] = {
            **f.schema(),
            "x-ogc-propertySeq": sequence,
            **({"x-ogc-role": roles[f.name]} if f.name in roles else {}),
        }
    return _document(url, title, properties, closed=False)


def queryables(collection: Collection, url: str, title: str) -> dict:
    """What a filter may name: the geometry and the properties that can be compared."""
    properties = {"geometry": _geometry(collection)}
    for f in collection.queryable_fields:
        properties[f.name] = {**f.schema(), **({"x-ogc-role": "id"} if f.name == collection.id_field else {})}
    return _document(url, title, properties, closed=True)
