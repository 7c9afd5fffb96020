"""A QGIS project (.qgs) that opens every collection of the service over OGC API - Features, in a
project in RD New (EPSG:28992), with projects coloured by thema, proposals by status and labels.

QGIS gives a layer the geometry type of the first feature it reads, so a collection that mixes
points, lines and areas is a group of its collections of one geometry family: QGIS draws them all."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pyproj

from geoservice.domain.model import COLLECTIONS, TABLES
from geoservice.publish.maps import KOPPELKANS_COLOUR, STATUS_COLOURS, THEMA_COLOURS

CATEGORIES = {"projecten": ("thema", THEMA_COLOURS), "voorstellen": ("status", STATUS_COLOURS)}
SYMBOL_LAYERS = {
    "marker": ("SimpleMarker", "color"),
    "line": ("SimpleLine", "line_color"),
    "fill": ("SimpleFill", "color"),
}
AREAS = {"wijken": "#000000", "buurten": "#777777"}


ORDER = ("statuswijzigingen", "koppelkansen", "voorstellen", "projecten", "buurten", "wijken")
SYMBOL_OF_FAMILY = {"punten": "marker", "lijnen": "line", "vlakken": "fill"}


def project(base: str) -> bytes:
    """The project file for the service at base."""
    root = ET.Element("qgis", {"projectname": "Wijkplan", "version": "3.22.0"})
    ET.SubElement(root, "title").text = "Wijkplan"
    _crs(ET.SubElement(root, "projectCrs"), "EPSG:28992")
    spatial = ET.SubElement(ET.SubElement(root, "properties"), "SpatialRefSys")
    ET.SubElement(spatial, "ProjectionsEnabled", {"type": "int"}).text = "1"
    tree = ET.SubElement(root, "layer-tree-group")
    layers = ET.SubElement(root, "projectlayers")
    for name in ORDER:
        collection = TABLES[name]
        parent = tree
        members = [COLLECTIONS[f"{name}-{f.name}"] for f in collection.families] if collection.mixed else [collection]
        if collection.mixed:
            parent = ET.SubElement(
                tree, "layer-tree-group", {"name": collection.title["nl"], "checked": "Qt::Checked", "expanded": "1"}
            )
        for member in members:
            source = f"url='{base}' typename='{member.name}' srsname='EPSG:28992' restrictToRequestBBOX='1'"
            ET.SubElement(
                parent,
                "layer-tree-layer",
                {
                    "id": member.name,
                    "name": member.title["nl"],
                    "source": source,
                    "providerKey": "OAPIF",
                    "checked": "Qt::Checked",
                    "expanded": "0",
                },
            )
            layers.append(_layer(member, source))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _symbol_type(collection) -> str:
    """The symbol type of a collection of one geometry family."""
    [family] = collection.families
    return SYMBOL_OF_FAMILY[family.name]


def _crs(parent: ET.Element, authid: str) -> None:
    """A CRS as QGIS writes it: its WKT and its authority id."""
    system = ET.SubElement(parent, "spatialrefsys", {"nativeFormat": "Wkt"})
    ET.SubElement(system, "wkt").text = pyproj.CRS.from_user_input(authid).to_wkt()
    ET.SubElement(system, "authid").text = authid


def _layer(collection, source: str) -> ET.Element:
    layer = ET.Element("maplayer", {"type": "vector", "labelsEnabled": "1"})
    ET.SubElement(layer, "id").text = collection.name
    ET.SubElement(layer, "datasource").text = source
    ET.SubElement(layer, "layername").text = collection.title["nl"]
    _crs(ET.SubElement(layer, "srs"), "OGC:CRS84")
    ET.SubElement(layer, "provider", {"encoding": "UTF-8"}).text = "OAPIF"
    layer.append(_renderer(collection.table, _symbol_type(collection)))
    layer.append(_labels(collection.title_field))
    return layer


def _renderer(name: str, symbol_type: str) -> ET.Element:
    if name in CATEGORIES:
        field, colours = CATEGORIES[name]
        renderer = ET.Element(
            "renderer-v2",
            {"type": "categorizedSymbol", "attr": field, "symbollevels": "0", "forceraster": "0", "enableorderby": "0"},
        )
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for number, (value, colour) in enumerate(colours.items()):
            ET.SubElement(
                categories, "category", {"value": value, "label": value, "symbol": str(number), "render": "true"}
            )
            symbols.append(_symbol(str(number), symbol_type, colour))
        return renderer
    colour = AREAS.get(name, KOPPELKANS_COLOUR if name == "koppelkansen" else "#4361ee")
    renderer = ET.Element(
        "renderer-v2", {"type": "singleSymbol", "symbollevels": "0", "forceraster": "0", "enableorderby": "0"}
    )
    symbols = ET.SubElement(renderer, "symbols")
    symbols.append(_symbol("0", symbol_type, colour, outline_only=name in AREAS))
    return renderer


def _symbol(name: str, symbol_type: str, colour: str, outline_only: bool = False) -> ET.Element:
    rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"
    symbol = ET.Element(
        "symbol", {"type": symbol_type, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"}
    )
    cls, colour_key = SYMBOL_LAYERS[symbol_type]
    symbol_layer = ET.SubElement(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    options = ET.SubElement(symbol_layer, "Option", {"type": "Map"})
    values = {
        colour_key: rgb,
        "outline_color": rgb,
        "line_width": "0.8",
        "size": "2.6",
        "style": "no" if outline_only else "solid",
        "outline_width": "0.6" if outline_only else "0.2",
    }
    for key, value in values.items():
        ET.SubElement(options, "Option", {"type": "QString", "name": key, "value": value})
    return symbol


def _labels(field: str) -> ET.Element:
    labeling = ET.Element("labeling", {"type": "simple"})
    settings = ET.SubElement(labeling, "settings", {"calloutType": "simple"})
    ET.SubElement(
        settings, "text-style", {"fieldName": field, "fontSize": "8", "textColor": "30,30,30,255", "isExpression": "0"}
    )
    ET.SubElement(settings, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.7", "bufferColor": "255,255,255,255"})
    ET.SubElement(settings, "rendering", {"scaleVisibility": "1", "scaleMin": "1", "scaleMax": "10000"})
    return labeling
