"""Neighbourhood maps: a folium (Leaflet) page for the city, for every wijk and for every buurt, of
what is planned there and when, what residents asked for, and where the two meet.

The pages load Leaflet and its plugins from the service (/maps/static, installed from the npm
registry at set-up), the base map from the configured tile host and nothing else. User-written
text reaches a page only escaped: in popups, tooltips and the tables under the map.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import folium
import numpy as np
import shapely
from folium.plugins import MarkerCluster, VectorGridProtobuf
from folium.utilities import JsCode
from tqdm import tqdm

from geoservice.derived import derivation
from geoservice.domain.model import FASEN, STATUSSEN, SUPPORTABLE, THEMAS
from geoservice.domain.policy import Maps, Policy
from geoservice.query import crs
from geoservice.store import Page, Query, Store

STATIC = {
    "leaflet": "node_modules/leaflet/dist",
    "markercluster": "node_modules/leaflet.markercluster/dist",
    "vectorgrid": "node_modules/leaflet.vectorgrid/dist",
}
BASE_MAPS = {
    "pdok": (
        "https://service.pdok.nl/brt/achtergrondkaart/wmts/v2_0/standaard/EPSG:3857/{z}/{x}/{y}.png",
        'Achtergrond: <a href="https://www.pdok.nl">PDOK</a> BRT-Achtergrondkaart, © Kadaster',
    ),
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-bijdragers',
    ),
}
BOUNDARY_SOURCE = "Grenzen: Bron: CBS, Kadaster"


def tile_host(base_map: str) -> str:
    """The scheme and host the base map's tiles come from."""
    return "/".join(BASE_MAPS[base_map][0].split("/")[:3])


THEMA_COLOURS = dict(zip(THEMAS, ("#6d6875", "#7f4f24", "#2d6a4f", "#f4a261", "#e9c46a", "#0077b6", "#c1121f")))
STATUS_COLOURS = dict(zip(STATUSSEN, ("#adb5bd", "#4361ee", "#7209b7", "#f77f00", "#2a9d8f", "#6c757d", "#6c757d")))
KOPPELKANS_COLOUR = "#ff006e"
SIMPLIFY_M = 1.0  # geometry detail kept, in metres: about a pixel when zoomed in on a street
DECIMALS = 5  # CRS84 degrees: about 1 m
SAFE_CODE = re.compile(r"[A-Za-z0-9_-]+")
MAP_DEFAULTS = Maps()


def _geometries(page, tolerance: float = SIMPLIFY_M) -> list[dict]:
    simplified = shapely.simplify(page.geometries, tolerance, preserve_topology=True)
    lonlat = shapely.set_precision(crs.from_storage(simplified, crs.CRS84), 10**-DECIMALS)
    return [shapely.geometry.mapping(g) for g in lonlat]


def _features(page, properties: list[dict]) -> list[dict]:
    return [{"type": "Feature", "geometry": g, "properties": p} for g, p in zip(_geometries(page), properties)]


@dataclass
class Layers:
    """What the maps show of the whole municipality, read once for a batch of maps."""

    projects: object
    proposals: object
    koppelkansen: object
    wijken: object
    buurten: object
    _codes: dict = field(default_factory=dict, repr=False)

    def part(self, page, key: str | None, code: str | None):
        """The features of one of the pages whose `key` is `code` (all of them for no key)."""
        if key is None:
            return page
        codes = self._codes.get((id(page), key))
        if codes is None:  # read once per page and key, then compared as an array for every map
            codes = self._codes[(id(page), key)] = np.array([p[key] for p in page.properties], dtype=object)
        rows = np.flatnonzero(codes == code)
        return Page([page.ids[i] for i in rows], [page.properties[i] for i in rows], page.geometries[rows], len(rows))

    @classmethod
    def read(cls, store: Store, policy: Policy) -> Layers:
        derivation.keep_up(store, policy)
        read = lambda name: store.query(Query.every(name))  # noqa: E731 - published features only
        return cls(read("projecten"), read("voorstellen"), read("koppelkansen"), read("wijken"), read("buurten"))


# -- pages ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Area:
    """A map: the city (code None), a wijk or a buurt."""

    kind: str  # "stad", "wijk" or "buurt"
    code: str | None
    name: str

    @property
    def path(self) -> str:
        """The page's path below the maps folder (a code that is no plain name gets no page)."""
        if self.kind == "stad":
            return "overzicht.html"
        if not SAFE_CODE.fullmatch(self.code):
            raise ValueError(f"{self.kind}code {self.code!r} cannot name a map file")
        return f"{self.kind}/{self.code}.html"

    @property
    def depth(self) -> int:
        """How far the page lies below the service root (for relative links)."""
        return 1 if self.kind == "stad" else 2


def areas(layers: Layers) -> list[Area]:
    city = layers.wijken.properties[0]["gemeentenaam"] if layers.wijken.properties else "de gemeente"
    return [
        Area("stad", None, city),
        *[Area("wijk", p["wijkcode"], p["wijknaam"]) for p in layers.wijken.properties],
        *[Area("buurt", p["buurtcode"], p["buurtnaam"]) for p in layers.buurten.properties],
    ]


def render(layers: Layers, area: Area, settings: Maps = MAP_DEFAULTS, reflects: tuple[int, str] | None = None) -> str:
    """The HTML page of one area's map: its features in the page, or above settings.tegels_vanaf
    features drawn from the service's vector tiles; reflects: the change of the change log it is
    up to date with (number, time), which it shows."""
    key = {"stad": None, "wijk": "wijkcode", "buurt": "buurtcode"}[area.kind]
    projects, proposals, koppelkansen = (
        layers.part(page, key, area.code) for page in (layers.projects, layers.proposals, layers.koppelkansen)
    )
    root = "../" * area.depth
    static = "../" * (area.depth - 1) + "static"
    fmap = _base(settings.ondergrond, static)
    _boundaries(fmap, layers, area)
    _feature_script(fmap, root, key, area.code)
    if len(projects.ids) + len(proposals.ids) + len(koppelkansen.ids) > settings.tegels_vanaf:
        groups, grids = [], _tile_layers(fmap, root, static)
    else:
        groups, grids = _project_layers(fmap, projects), []
        _proposal_layers(fmap, proposals, static)
        _koppelkans_layer(fmap, koppelkansen)
    folium.LayerControl(collapsed=True).add_to(fmap)  # a button that opens the layer list (tap, hover, keyboard)
    _phase_filter(fmap, groups, grids)
    _legend(fmap)
    _page_style(fmap)
    _compact_on_phones(fmap)
    _title(fmap, area)
    page = fmap.get_root().render().replace("<html>", '<html lang="nl">', 1)
    tables = _tables(area, projects, proposals, koppelkansen, reflects)
    return page.replace("</body>", tables + "</body>", 1)


def _base(base_map: str, static: str) -> folium.Map:
    url, attribution = BASE_MAPS[base_map]
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, height="75vh")
    fmap.default_js = [("leaflet", f"{static}/leaflet/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{static}/leaflet/leaflet.css")]
    folium.TileLayer(
        url, attr=f"{attribution} | {BOUNDARY_SOURCE}", name="Achtergrondkaart", max_zoom=19, control=False
    ).add_to(fmap)
    return fmap


def _boundaries(fmap: folium.Map, layers: Layers, area: Area) -> None:
    """The area's boundary over its surroundings; the view fitted to it."""
    if area.kind == "buurt":
        own = layers.part(layers.buurten, "buurtcode", area.code)
        around = layers.part(layers.buurten, "wijkcode", own.properties[0]["wijkcode"])
    else:
        around = layers.wijken
        own = layers.part(around, None if area.kind == "stad" else "wijkcode", area.code)
    plain = [{} for _ in around.ids]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": _features(around, plain)},
        name="Omgeving",
        control=False,
        style_function=lambda f: {"color": "#555", "weight": 1, "fill": False, "dashArray": "4 4"},
        interactive=False,
    ).add_to(fmap)
    outline = {"type": "FeatureCollection", "features": _features(own, [{} for _ in own.ids])}
    folium.GeoJson(
        outline,
        name="Grens",
        control=False,
        interactive=False,
        style_function=lambda f: {"color": "#111", "weight": 3, "fill": False},
    ).add_to(fmap)
    minx, miny, maxx, maxy = crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(
        *shapely.total_bounds(own.geometries)
    )
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])


COLLECTION_OF = {"project": "projecten", "voorstel": "voorstellen", "koppelkans": "koppelkansen"}
# What a popup shows under the feature's title: a label and the fields it joins (with a dash).
POPUP_LINES = {
    "project": [["Thema", "thema"], ["Fase", "fase"], ["Planjaar", "planjaar"], ["Periode", "start", "eind"],
                ["Inspraak tot", "inspraak_tot"]],
    "voorstel": [["Status", "status"], ["Categorie", "categorie"], ["Ingediend", "ingediend"], ["Steun", "steun"],
                 ["Reacties", "reacties"]],
    "koppelkans": [["Soort", "soort"], ["Planjaar", "planjaar"], ["Tussenliggende jaren", "tussenliggende_jaren"],
                   ["Afstand (m)", "afstand_m"]],
}  # fmt: skip
# How each layer is drawn: a colour (or one per value of a field) and the rest of its style.
LOOKS = {
    "project": {"by": "thema", "colours": THEMA_COLOURS, "style": {"weight": 5, "opacity": 0.85, "fillOpacity": 0.35,
                                                                   "radius": 7}},
    "voorstel": {"by": "status", "colours": STATUS_COLOURS, "style": {"weight": 3, "opacity": 1, "fillOpacity": 0.7,
                                                                      "radius": 6}},
    "koppelkans": {"colour": KOPPELKANS_COLOUR, "style": {"weight": 4, "dashArray": "6 4", "fillOpacity": 0.15,
                                                          "radius": 11}},
}  # fmt: skip
# The page's `wijkplan` object (SPEC: the page's settings as JSON).
FEATURE_SCRIPT = """
    var wijkplan = (function (spec) {
      function text(value) {
        return String(value).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
      }
      function shown(value) { return /^\\d{4}-\\d\\d-\\d\\dT/.test(value) ? value.slice(0, 10) : value; }
      function popup(p) {
        var rows = spec.lines[p.laag].map(function (line) {
          var values = line.slice(1).map(function (f) { return p[f]; })
            .filter(function (v) { return v !== undefined && v !== null && v !== ""; });
          return values.length ? "<br>" + text(line[0]) + ": " + text(values.map(shown).join(" – ")) : "";
        }).join("");
        var url = spec.root + "collections/" + spec.collections[p.laag] + "/items/" + encodeURIComponent(p.id);
        return "<b>" + text(p.titel) + "</b>" + rows + '<br><a href="' + url + '?f=html" target="_top">details</a>'
          + ' · <a href="' + url + '?f=json" target="_top">GeoJSON</a>';
      }
      var self = {
        fasen: null,  // the phases of projects shown (null: all)
        popup: popup,
        bind: function (feature, layer) {  // a feature held in the page: lines are not filled
          layer.setStyle(self.style(feature.properties, feature.geometry.type.indexOf("LineString") < 0));
          layer.bindPopup(popup(feature.properties));
          layer.bindTooltip(text(feature.properties.titel));
        },
        tiled: function (feature, laag) {  // a tile's feature, known by its layer and id
          var p = feature.properties;
          p.laag = laag;
          p.id = feature.id !== undefined ? feature.id : p.code;
          return p.id;
        },
        drawn: function (p) {
          return (!spec.area || p[spec.area[0]] === spec.area[1])
            && (p.laag !== "project" || !self.fasen || self.fasen.indexOf(p.fase) >= 0);
        },
        style: function (p, filled) {  // (a tile's lines are never filled, whatever filled says)
          var look = spec.looks[p.laag], colour = look.by ? look.colours[p[look.by]] : look.colour;
          return Object.assign({color: colour, fillColor: colour, fill: filled !== false}, look.style);
        },
        hit: function (grids, point) {  // the topmost feature the tiles in view draw at a point
          var found = null;
          grids.forEach(function (grid) {
            Object.keys(grid._vectorTiles).filter(function (key) { return grid._tiles[key]; }).forEach(function (key) {
              var tile = grid._vectorTiles[key], at = point.subtract(tile.getOffset());
              Object.values(tile._features).forEach(function (drawn) {
                if (!drawn.feature._pxBounds) drawn.feature.makeInteractive();
                if (drawn.feature._containsPoint(at)) found = drawn.feature;
              });
            });
          });
          return found;
        }
      };
      return self;
    })(SPEC);"""


def _feature_script(fmap: folium.Map, root: str, key: str | None, code: str | None) -> None:
    """The page's `wijkplan` object, made before the map: how features look, what is drawn (the
    area's own features, those whose key is code, and projects in the phases shown) and their
    popups and tooltips, in which every value is escaped."""
    spec = {
        "root": root,
        "collections": COLLECTION_OF,
        "lines": POPUP_LINES,
        "looks": LOOKS,
        "area": [key, code] if key else None,
    }
    made = FEATURE_SCRIPT.replace("SPEC", json.dumps(spec).replace("<", "\\u003c"))
    fmap.get_root().script.add_child(folium.Element(made))


def _shown(laag: str, page) -> list[dict]:
    """What a feature in the page carries: its layer and id, title, and what its popup shows."""
    fields = {"titel", *(f for line in POPUP_LINES[laag] for f in line[1:])}
    return [{"laag": laag, "id": fid, **{f: p[f] for f in fields}} for fid, p in zip(page.ids, page.properties)]


def _in_page(features: list[dict], **options) -> folium.GeoJson:
    """A layer of features held in the page, styled and bound by the page's script."""
    bind = JsCode("function (feature, layer) { wijkplan.bind(feature, layer); }")
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        on_each_feature=bind,
        marker=folium.CircleMarker(),
        **options,
    )


def _project_layers(fmap: folium.Map, projects) -> list[folium.GeoJson]:
    """A layer per planjaar, coloured by thema."""
    features = _features(projects, _shown("project", projects))
    years = sorted({p["planjaar"] for p in projects.properties})
    layers = []
    for year in years:
        chosen = [f for f, p in zip(features, projects.properties) if p["planjaar"] == year]
        layers.append(_in_page(chosen, name=f"Projecten {year}").add_to(fmap))
    return layers


def _proposal_layers(fmap: folium.Map, proposals, static: str) -> None:
    """Published proposals coloured by status: points clustered, lines and areas as they are."""
    features = _features(proposals, _shown("voorstel", proposals))
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    others = [f for f in features if f["geometry"]["type"] != "Point"]
    cluster = MarkerCluster(name="Voorstellen (punten)", options={"maxClusterRadius": 40})
    cluster.default_js = [("markercluster", f"{static}/markercluster/leaflet.markercluster.js")]
    cluster.default_css = [
        ("markercluster_css", f"{static}/markercluster/MarkerCluster.css"),
        ("markercluster_default_css", f"{static}/markercluster/MarkerCluster.Default.css"),
    ]
    cluster.add_to(fmap)
    _in_page(points, control=False).add_to(cluster)
    _in_page(others, name="Voorstellen (lijnen en vlakken)").add_to(fmap)


def _koppelkans_layer(fmap: folium.Map, koppelkansen) -> None:
    features = _features(koppelkansen, _shown("koppelkans", koppelkansen))
    _in_page(features, name="Koppelkansen").add_to(fmap)


def _tile_layers(fmap: folium.Map, root: str, static: str) -> list[VectorGridProtobuf]:
    """Projects, proposals and koppelkansen drawn from the service's vector tiles (WebMercatorQuad),
    each the area's own only; a click on the map opens the popup of the topmost feature there (the
    tiles of each layer would hide the layers under it from the pointer)."""
    grids = []
    for laag, collection in COLLECTION_OF.items():
        options = f"""{{
          rendererFactory: L.canvas.tile, maxNativeZoom: 20,
          getFeatureId: function (feature) {{ return wijkplan.tiled(feature, "{laag}"); }},
          vectorTileLayerStyles: {{
            "{collection}": function (p) {{ return wijkplan.drawn(p) ? wijkplan.style(p) : []; }}
          }}
        }}"""
        url = f"{root}collections/{collection}/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
        grid = VectorGridProtobuf(url, collection.capitalize(), options)
        grid.default_js = [("vectorgrid", f"{static}/vectorgrid/Leaflet.VectorGrid.bundled.min.js")]
        grids.append(grid.add_to(fmap))
    script = f"""
    document.addEventListener("DOMContentLoaded", function () {{
      var map = {fmap.get_name()}, grids = [{", ".join(g.get_name() for g in grids)}];
      map.on("click", function (e) {{
        var shape = wijkplan.hit(grids, e.layerPoint);
        if (shape) L.popup().setLatLng(e.latlng).setContent(wijkplan.popup(shape.properties)).openOn(map);
      }});
    }});"""
    fmap.get_root().script.add_child(folium.Element(script))
    return grids


def _phase_filter(fmap: folium.Map, groups: list[folium.GeoJson], grids: list[VectorGridProtobuf]) -> None:
    """A control with a checkbox per fase that shows or hides the projects in it (in the layers
    the page holds, and in those drawn from tiles)."""
    names = ", ".join(g.get_name() for g in groups)
    grid_names = ", ".join(g.get_name() for g in grids)
    boxes = "".join(
        f'<label style="display: block"><input type="checkbox" value="{f}" checked> {f}</label>' for f in FASEN
    )
    script = f"""
    document.addEventListener("DOMContentLoaded", function () {{
      var layers = [{names}], grids = [{grid_names}];
      var all = layers.map(function (l) {{ return l.getLayers(); }});
      var control = L.control({{position: "topleft"}});
      control.onAdd = function () {{
        var div = L.DomUtil.create("details", "leaflet-control-layers leaflet-control wijkplan-fasen wijkplan-inklap");
        div.innerHTML = '<summary>Fase</summary><fieldset>' +
          '<legend class="wijkplan-verborgen">Toon projecten in fase</legend>{boxes}</fieldset>';
        L.DomEvent.disableClickPropagation(div);
        div.addEventListener("change", function () {{
          var shown = Array.from(div.querySelectorAll("input:checked")).map(function (i) {{ return i.value; }});
          wijkplan.fasen = shown;
          grids.forEach(function (grid) {{ grid.redraw(); }});
          layers.forEach(function (layer, n) {{
            layer.clearLayers();
            all[n].forEach(function (f) {{
              if (shown.indexOf(f.feature.properties.fase) >= 0) {{ layer.addLayer(f); }}
            }});
          }});
        }});
        return div;
      }};
      control.addTo({fmap.get_name()});
    }});"""
    fmap.get_root().script.add_child(folium.Element(script))


def _legend(fmap: folium.Map) -> None:
    def swatch(colour: str, label: str) -> str:
        return f'<i style="background:{colour}"></i>{html.escape(label)}<br>'

    content = (
        "<b>Projecten (thema)</b><br>"
        + "".join(swatch(c, t) for t, c in THEMA_COLOURS.items())
        + "<b>Voorstellen (status)</b><br>"
        + "".join(
            swatch(c, s)
            for s, c in STATUS_COLOURS.items()
            if s in ("gepubliceerd", "in uitwerking", "in uitvoering", "gerealiseerd", "afgewezen")
        )
        + f"<b>Koppelkans</b><br>{swatch(KOPPELKANS_COLOUR, 'voorstel of project bij gepland werk')}"
    )
    style = """<style>.wijkplan-legenda {background: white; padding: 6px 8px; font: 12px sans-serif;
      border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.4)}
      .wijkplan-legenda i {display: inline-block; width: 12px; height: 12px; margin-right: 5px}</style>"""
    fmap.get_root().header.add_child(folium.Element(style))
    script = f"""
    document.addEventListener("DOMContentLoaded", function () {{
      var legend = L.control({{position: "bottomright"}});
      legend.onAdd = function () {{
        var div = L.DomUtil.create("details", "wijkplan-legenda wijkplan-inklap");
        div.innerHTML = '<summary>Legenda</summary>{content}';
        L.DomEvent.disableClickPropagation(div);
        return div;
      }};
      legend.addTo({fmap.get_name()});
    }});"""
    fmap.get_root().script.add_child(folium.Element(script))


def _page_style(fmap: folium.Map) -> None:
    """The style of what the page shows under the map (tables and lists)."""
    style = """<style>.wijkplan-tabel {font: 13px sans-serif; margin: 1em; overflow-x: auto}
      .wijkplan-tabel table {border-collapse: collapse}
      .wijkplan-tabel td, .wijkplan-tabel th {border: 1px solid #ccc; padding: 2px 6px; text-align: left}</style>"""
    fmap.get_root().header.add_child(folium.Element(style))


def _compact_on_phones(fmap: folium.Map) -> None:
    """Phase filter and legend are open on a wide screen and folded to their titles on a narrow one,
    where the map needs the room; the attribution drops Leaflet's own prefix."""
    style = """<style>.wijkplan-inklap summary {cursor: pointer; font-weight: bold; padding: 2px 0}
      .wijkplan-inklap fieldset {border: 0; margin: 0; padding: 0}
      .wijkplan-verborgen {position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0)}
      .leaflet-control-layers-toggle {width: 44px; height: 44px}</style>"""
    fmap.get_root().header.add_child(folium.Element(style))
    script = f"""
    document.addEventListener("DOMContentLoaded", function () {{
      var wide = window.matchMedia("(min-width: 700px)").matches;
      document.querySelectorAll(".wijkplan-inklap").forEach(function (d) {{ d.open = wide; }});
      {fmap.get_name()}.attributionControl.setPrefix(false);
    }});"""
    fmap.get_root().script.add_child(folium.Element(script))


def _title(fmap: folium.Map, area: Area) -> None:
    kind = {"stad": "Gemeente", "wijk": "Wijk", "buurt": "Buurt"}[area.kind]
    alternates = "".join(
        f'<link rel="alternate" type="{media_type}" title="{label}" href="{href}">'
        for media_type, label, href in following(area)
    )
    fmap.get_root().header.add_child(
        folium.Element(
            f'<title>{kind} {html.escape(area.name)} – wijkplan</title><link rel="icon" href="data:,">{alternates}'
        )
    )


def following(area: Area) -> list[tuple[str, str, str]]:
    """(media type, label, address relative to the map) of the feed and calendar of a map's area."""
    if area.kind == "stad":
        return [("application/atom+xml", "Atom-feed van de stad", "../feeds/stad.atom")]
    collection, code = {"wijk": "wijken", "buurt": "buurten"}[area.kind], quote(area.code)
    return [
        ("application/atom+xml", f"Atom-feed van de {area.kind}", f"../../feeds/{collection}/{code}.atom"),
        ("text/calendar", f"Agenda van de {area.kind}", f"../../kalenders/{collection}/{code}.ics"),
    ]


def _tables(area: Area, projects, proposals, koppelkansen, reflects: tuple[int, str] | None) -> str:
    """The same features as tables under the map (the accessible alternative), and how current they are."""

    def table(caption: str, heads: list[str], rows: list[list]) -> str:
        head = "".join(f"<th scope='col'>{h}</th>" for h in heads)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in row) + "</tr>"
            for row in rows
        )
        return f"<table><caption><b>{caption}</b> ({len(rows)})</caption><tr>{head}</tr>{body}</table>"

    parts = [
        table(
            "Projecten",
            ["Titel", "Thema", "Fase", "Planjaar", "Start", "Eind"],
            [[p["titel"], p["thema"], p["fase"], p["planjaar"], p["start"], p["eind"]] for p in projects.properties],
        ),
        table(
            "Voorstellen",
            ["Titel", "Soort", "Categorie", "Status", "Steun", "Ingediend"],
            [
                [p["titel"], p["soort"], p["categorie"], p["status"], p["steun"], (p["ingediend"] or "")[:10]]
                for p in proposals.properties
            ],
        ),
        table(
            "Koppelkansen",
            ["Titel", "Soort", "Planjaar", "Afstand (m)"],
            [[p["titel"], p["soort"], p["planjaar"], p["afstand_m"]] for p in koppelkansen.properties],
        ),
    ]
    heading = {"stad": "Gemeente", "wijk": "Wijk", "buurt": "Buurt"}[area.kind]
    title = f"{heading} {html.escape(area.name)}"
    # tabindex: on a narrow screen the tables scroll sideways inside their box, also by keyboard
    opening = f'<section class="wijkplan-tabel" tabindex="0" aria-label="{title}">'
    follow = " · ".join(
        f'<a href="{href}" type="{media_type}">{label}</a>' for media_type, label, href in following(area)
    )
    current = _updated(reflects)
    return f"{opening}<h1>{title}</h1>{current}<p>Volgen: {follow}</p>{''.join(parts)}</section>\n"


def _updated(reflects: tuple[int, str] | None) -> str:
    """When the map was brought up to date: the time (UTC) and number of the last change it shows."""
    if reflects is None or not reflects[1]:
        return ""
    number, moment = reflects
    when = dt.datetime.fromisoformat(moment).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    return f'<p class="wijkplan-bijgewerkt">Bijgewerkt op {when} UTC (wijziging {number})</p>'


# -- files ------------------------------------------------------------------------------
def build(
    store: Store,
    policy: Policy,
    directory: str | Path,
    only: set[str] | None = None,
    progress: bool = False,
    reflects: tuple[int, str] | None = None,
) -> list[Path]:
    """Write the maps (all, or only the areas whose codes are given, and the city) and the index;
    reflects: the change they are up to date with, as the maps show it."""
    directory = Path(directory)
    layers = Layers.read(store, policy)
    chosen = [a for a in areas(layers) if only is None or a.code is None or a.code in only]
    written = []
    for area in tqdm(chosen, desc="kaarten", unit="kaart", disable=not progress):
        written.append(write_whole(directory / area.path, render(layers, area, policy.kaarten, reflects)))
    write_whole(directory / "index.html", index(layers, policy.kaarten.ondergrond))
    return written


def write_whole(path: Path, text: str) -> Path:
    """Write a file whole: readers see the old page or the new one, never half of one (also when
    two processes write it at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".partial", delete=False) as f:
        f.write(text)
    os.chmod(f.name, 0o644)  # readable as any other page
    Path(f.name).replace(path)
    return path


def wijk_label(wijk: dict, year: int) -> str:
    """What is going on in a wijk, from its summary: projects planned this year, open proposals."""
    planned = (wijk.get("projecten_per_planjaar") or {}).get(str(year), 0)
    open_ = sum(n for status, n in (wijk.get("voorstellen_per_status") or {}).items() if status in SUPPORTABLE)
    return f"{planned} projecten in {year}, {open_} open voorstellen"


def index(layers: Layers, base_map: str = "pdok") -> str:
    """The page that leads to every map: the city with its wijken (a click opens a wijk's map), and
    every map as a link with the wijk's counts."""
    all_areas = areas(layers)
    city = all_areas[0]
    year = dt.date.today().year
    labels = {p["wijkcode"]: wijk_label(p, year) for p in layers.wijken.properties}
    fmap = _base(base_map, "static")
    properties = [
        {
            "naam": html.escape(p["wijknaam"]),
            "tekst": labels[p["wijkcode"]],
            "href": Area("wijk", p["wijkcode"], "").path,
        }
        for p in layers.wijken.properties
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": _features(layers.wijken, properties)},
        name="Wijken",
        style_function=lambda f: {"color": "#0b5394", "weight": 2, "fillOpacity": 0.1},
        highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.25},
        tooltip=folium.GeoJsonTooltip(["naam", "tekst"], labels=False),
        on_each_feature=JsCode(
            "function (feature, layer) { layer.on('click', function () {"
            " window.location.href = feature.properties.href; }); }"
        ),
    ).add_to(fmap)
    minx, miny, maxx, maxy = crs.transformer(crs.STORAGE, crs.CRS84).transform_bounds(
        *shapely.total_bounds(layers.wijken.geometries)
    )
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    fmap.get_root().header.add_child(folium.Element(
        f'<title>Kaarten van {html.escape(city.name)} – wijkplan</title><link rel="icon" href="data:,">'
    ))  # fmt: skip

    def items(kind: str) -> str:
        return "".join(
            f'<li><a href="{a.path}">{html.escape(a.name)}</a> ({html.escape(a.code)})'
            f"{': ' + html.escape(labels[a.code]) if a.code in labels else ''}</li>"
            for a in all_areas
            if a.kind == kind
        )

    lists = (
        f'<section class="wijkplan-tabel"><h1>Kaarten van {html.escape(city.name)}</h1>'
        f'<p><a href="{city.path}">De hele gemeente</a></p><h2>Wijken</h2><ul>{items("wijk")}</ul>'
        f"<h2>Buurten</h2><ul>{items('buurt')}</ul></section>"
    )
    _page_style(fmap)
    page = fmap.get_root().render().replace("<html>", '<html lang="nl">', 1)
    return page.replace("</body>", lists + "</body>", 1)
