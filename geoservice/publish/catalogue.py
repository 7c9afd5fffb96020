"""Metadata for open-data users: a DCAT-AP catalogue (JSON-LD) of the collections and their
distributions, and the field dictionary of every collection, both derived from the domain model
and the service configuration."""

from __future__ import annotations

from geoservice.domain.model import TABLES, Collection
from geoservice.publish import downloads

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "locn": "http://www.w3.org/ns/locn#",
}
BOUNDARY_COLLECTIONS = ("wijken", "buurten")
RD = "http://www.opengis.net/def/crs/EPSG/0/28992"


def catalogue(config: dict, base: str) -> dict:
    """The DCAT-AP catalogue: one dataset per collection, each with its API and file distributions."""
    metadata = config["metadata"]
    identification = metadata["identification"]
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalogus",
        "@type": "dcat:Catalog",
        "dct:title": {"@language": "nl", "@value": identification["title"]["nl"]},
        "dct:description": {"@language": "nl", "@value": identification["description"]["nl"]},
        "dct:publisher": _publisher(metadata),
        "dct:license": {"@id": metadata["license"]["url"]},
        "foaf:homepage": {"@id": f"{base}/"},
        "dcat:service": {
            "@type": "dcat:DataService",
            "dct:title": "OGC API - Features",
            "dcat:endpointURL": {"@id": f"{base}/"},
            "dcat:endpointDescription": {"@id": f"{base}/openapi.json"},
            "dct:conformsTo": {"@id": "http://www.opengis.net/spec/ogcapi-features-1/1.0"},
        },
        "dcat:dataset": [_dataset(config, base, c) for c in TABLES.values()],
    }


def _publisher(metadata: dict) -> dict:
    contact = metadata["contact"]
    return {
        "@type": "foaf:Agent",
        "foaf:name": metadata["provider"]["name"],
        "foaf:homepage": {"@id": metadata["provider"]["url"]},
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": contact["name"],
            "vcard:hasEmail": {"@id": f"mailto:{contact['email']}"},
        },
    }


def _dataset(config: dict, base: str, collection: Collection) -> dict:
    resource = config["resources"][collection.name]
    licence = config["metadata"]["license"]["url"]
    minx, miny, maxx, maxy = resource["extents"]["spatial"]["bbox"]
    rights = "Bron: CBS, Kadaster" if collection.name in BOUNDARY_COLLECTIONS else None
    dataset = {
        "@id": f"{base}/collections/{collection.name}",
        "@type": "dcat:Dataset",
        "dct:identifier": collection.name,
        "dct:title": [{"@language": lang, "@value": text} for lang, text in collection.title.items()],
        "dct:description": [{"@language": lang, "@value": text} for lang, text in resource["description"].items()],
        "dcat:keyword": resource.get("keywords", []),
        "dct:license": {"@id": licence},
        "dct:spatial": {
            "@type": "dct:Location",
            "dcat:bbox": {
                "@type": "http://www.opengis.net/ont/geosparql#wktLiteral",
                "@value": f"POLYGON(({minx} {miny},{maxx} {miny},{maxx} {maxy},{minx} {maxy},{minx} {miny}))",
            },
        },
        "dct:conformsTo": {"@id": f"{base}/velden#{collection.name}"},
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": "OGC API - Features",
                "dcat:accessURL": {"@id": f"{base}/collections/{collection.name}/items"},
                "dcat:mediaType": "application/geo+json",
                "dct:license": {"@id": licence},
            },
            *[
                {
                    "@type": "dcat:Distribution",
                    "dct:title": link["title"],
                    "dcat:downloadURL": {"@id": link["href"]},
                    "dcat:mediaType": link["type"],
                    "dct:license": {"@id": licence},
                }
                for link in downloads.links(base, collection.name)
            ],
        ],
    }
    if rights:
        dataset["dct:rights"] = rights
    return dataset


def field_dictionary() -> dict:
    """Per collection: its fields with title, description, type, allowed values, and whether they
    are required or computed by the service."""
    return {
        name: {
            "titel": collection.title["nl"],
            "identificatie": collection.id_field,
            "velden": [
                {
                    "naam": f.name,
                    "titel": f.title,
                    "omschrijving": f.description or None,
                    "type": f.kind,
                    "waarden": list(f.values) or None,
                    "verplicht": f.required and not f.derived,
                    "afgeleid": f.derived,
                    "maximale_lengte": f.max_length,
                    "minimum": f.minimum,
                }
                for f in collection.fields
            ],
        }
        for name, collection in TABLES.items()
    }
