"""The pygeoapi configuration: the YAML file, completed from the domain model and the store."""

from __future__ import annotations

import copy
from pathlib import Path

import pygeoapi
from pygeoapi.util import yaml_load

from geoservice.domain.model import COLLECTIONS, DEMO_SOURCE, TABLES, Collection
from geoservice.domain.policy import Policy
from geoservice.publish.maps import BASE_MAPS
from geoservice.query import crs
from geoservice.query.filters import equals
from geoservice.settings import Settings
from geoservice.store import Query

TEMPLATES = Path(__file__).parent / "templates"  # the service's own pages; pygeoapi's for the rest
PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"
FAMILIES_NOTE = {
    "nl": " Punten, lijnen en vlakken samen; QGIS en andere clients die een laag één geometrietype geven, tekenen "
    "alles met {name}-punten, {name}-lijnen en {name}-vlakken.",
    "en": " Points, lines and areas together; QGIS and other clients that give a layer one geometry type draw "
    "everything with {name}-punten, {name}-lijnen and {name}-vlakken.",
}
DEMO_NOTE = {
    "nl": " DEMO: fictieve, gegenereerde gegevens op echte CBS-grenzen; geen echte plannen.",
    "en": " DEMO: fictitious generated data on real CBS boundaries; not real plans.",
}


def load_config(settings: Settings, store) -> dict:
    """The complete pygeoapi configuration for these settings and their store."""
    with open(settings.config, encoding="utf-8") as handle:
        config = yaml_load(handle)
    config["server"]["url"] = settings.api_url
    tiles, attribution = BASE_MAPS[Policy.load(settings.policy).kaarten.ondergrond]
    config["server"]["map"] = {"url": tiles, "attribution": f"{attribution} | Bron: CBS, Kadaster"}
    config["server"]["templates"] = {"path": str(TEMPLATES), "static": str(PYGEOAPI_STATIC)}
    resources = config.get("resources") or {}
    config["resources"] = {
        name: _resource(collection, resources.get(collection.table, {}), settings, store)
        for name, collection in COLLECTIONS.items()
    }
    return config


def _resource(collection: Collection, extra: dict, settings: Settings, store) -> dict:
    resource = copy.deepcopy(extra)
    description = dict(collection.description)
    if collection.mixed:
        description = {
            lang: text + FAMILIES_NOTE[lang].format(name=collection.name) for lang, text in description.items()
        }
    if TABLES[collection.table].editable and _is_demo(store, collection):
        description = {lang: text + DEMO_NOTE[lang] for lang, text in description.items()}
    resource.update(
        {
            "type": "collection",
            "title": dict(collection.title),
            "description": description,
            "keywords": resource.get("keywords", []),
            "links": [*resource.get("links", []), *_related(collection, settings.api_url)],
            "extents": {"spatial": {"bbox": _extent(store, collection), "crs": crs.CRS84}},
            "providers": [
                {
                    "type": "feature",
                    "name": "geoservice.api.provider.StoreProvider",
                    "data": settings.store,
                    "table": collection.name,
                    "id_field": collection.id_field,
                    "title_field": collection.title_field,
                    "storage_crs": crs.STORAGE,
                    "crs": list(crs.SUPPORTED),
                }
            ],
        }
    )
    return resource


def _related(collection: Collection, base: str) -> list[dict]:
    """Links between a mixed collection and its collections of one geometry family."""
    if collection.source:
        return [
            {
                "type": "application/json",
                "rel": "related",
                "href": f"{base}/collections/{collection.source}",
                "title": f"Alle geometrietypen: {collection.source}",
            }
        ]
    return [
        {
            "type": "application/json",
            "rel": "related",
            "href": f"{base}/collections/{collection.name}-{f.name}",
            "title": f"Alleen de {f.words['nl']} (één geometrietype, voor QGIS)",
        }
        for f in collection.families
        if collection.mixed
    ]


def _is_demo(store, collection: Collection) -> bool:
    query = Query(collection.name, limit=1, filter=equals("bron", DEMO_SOURCE), published_only=False)
    return bool(store.query(query).ids)


def _extent(store, collection: Collection) -> list[float]:
    """The bounding box of the collection in CRS84 (densified edges); the municipality when empty, and
    for collections with unpublished features (whose extent would tell where those lie)."""
    own = None if collection.public_when else store.extent(collection.table)
    bounds = own or store.extent("buurten")
    if bounds is None:
        return [3.2, 50.7, 7.3, 53.6]
    return [round(v, 6) for v in crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(*bounds, densify_pts=21)]
