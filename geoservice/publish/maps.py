"""Neighbourhood maps: a folium (Leaflet) page for the city, for every wijk and for every buurt, of
what is planned there and when, what residents asked for, and where the two meet.

A page holds what changes rarely: the layout, the area's boundary, the controls and the legend.
The features are in a data file per wijk beside the wijk pages (`wijk/<code>.json`), which the
page's script (static/wijkplan.js) loads, draws and lists in the tables under the map; a buurt's
page loads its wijk's file, the city's page every file. A change rewrites the data file of its
wijk, not the pages. Every file is written aside and renamed into place.

The pages load Leaflet and its plugins from the service (/maps/static, installed from the npm
registry at set-up), the base map from the configured tile host and nothing else. User-written
text reaches a page only escaped: in popups, tooltips and the tables under the map.
"""

from __future__ import annotations

import datetime as dt
import hashlib
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
import orjson
import shapely
from folium.utilities import JsCode
from pygeofilter import ast
from tqdm import tqdm

from geoservice.domain.model import FASEN, STATUSSEN, SUPPORTABLE, THEMAS
from geoservice.domain.policy import Maps, Policy
from geoservice.query import crs
from geoservice.store import Page, Query, Store

STATIC = {
    "leaflet": "node_modules/leaflet/dist",
    "markercluster": "node_modules/leaflet.markercluster/dist",
    "vectorgrid": "node_modules/leaflet.vectorgrid/dist",
    "wijkplan": "geoservice/publish/static",
}
SCRIPT = Path(__file__).parent / "static" / "wijkplan.js"  # what the map pages run
STAMP = "volgnummer"  # in the maps folder: the number and time of the last change the maps reflect
LAYOUT = "opmaak"  # in the maps folder: what the pages were made by (see layout)
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
    """What the maps show, read once for a batch of maps: the features of each layer (of all wijken,
    or of some), the wijken and the buurten."""

    features: dict[str, Page]  # by layer: "project", "voorstel", "koppelkans"
    wijken: Page
    buurten: Page
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

    @property
    def wijkcodes(self) -> list[str]:
        """The wijken that have a data file: those of the wijken and those the buurten lie in."""
        return sorted({p["wijkcode"] for p in (*self.wijken.properties, *self.buurten.properties)})

    @classmethod
    def read(cls, store: Store, among: set[str] | None = None) -> Layers:
        """The layers of the whole municipality, or with the features of only the wijken among (the
        derived collections as stored: the map follower derives what is due first)."""
        wijken, buurten = store.query(Query.every("wijken")), store.query(Query.every("buurten"))
        layers = cls({}, wijken, buurten)
        chosen = layers.wijkcodes if among is None else sorted(among & set(layers.wijkcodes))
        selection = None if among is None else ast.In(ast.Attribute("wijkcode"), chosen, False)
        for laag, collection in COLLECTION_OF.items():  # published features only
            layers.features[laag] = store.query(Query.every(collection, selection)) if chosen else _nothing()
        return layers


def _nothing() -> Page:
    return Page([], [], np.array([], dtype=object), 0)


# -- pages ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Area:
    """A map: the city (code None), a wijk or a buurt."""

    kind: str  # "stad", "wijk" or "buurt"
    code: str | None
    name: str
    wijkcode: str | None = None  # of a buurt: the wijk it lies in

    @property
    def path(self) -> str:
        """The page's path below the maps folder (ValueError for a code that is no plain name)."""
        return "overzicht.html" if self.kind == "stad" else f"{self.kind}/{_file_name(self.code)}.html"

    @property
    def depth(self) -> int:
        """How far the page lies below the service root (for relative links)."""
        return 1 if self.kind == "stad" else 2

    @property
    def key(self) -> str | None:
        """The field that holds the code of the area a feature lies in."""
        return {"stad": None, "wijk": "wijkcode", "buurt": "buurtcode"}[self.kind]


def _file_name(code: str) -> str:
    if not SAFE_CODE.fullmatch(code):
        raise ValueError(f"code {code!r} cannot name a map file")
    return code


def data_path(wijkcode: str) -> str:
    """The path of a wijk's data file below the maps folder."""
    return f"wijk/{_file_name(wijkcode)}.json"


def areas(layers: Layers) -> list[Area]:
    city = layers.wijken.properties[0]["gemeentenaam"] if layers.wijken.properties else "de gemeente"
    return [
        Area("stad", None, city),
        *[Area("wijk", p["wijkcode"], p["wijknaam"]) for p in layers.wijken.properties],
        *[Area("buurt", p["buurtcode"], p["buurtnaam"], p["wijkcode"]) for p in layers.buurten.properties],
    ]


def render(layers: Layers, area: Area, settings: Maps = MAP_DEFAULTS) -> str:
    """The HTML page of one area's map: its boundary, controls and legend, and the script that loads
    its features from the data files (drawn in the page, or above settings.tegels_vanaf features
    from the service's vector tiles) and lists them under the map."""
    static = "../" * (area.depth - 1) + "static"
    fmap = _base(settings.ondergrond, static, scripts=True)
    _boundaries(fmap, layers, area)
    control = folium.LayerControl(collapsed=True).add_to(fmap)  # a button that opens the layer list
    _start(fmap, control, _spec(layers, area, settings, static))
    _legend(fmap)
    _page_style(fmap)
    _compact_on_phones(fmap)
    _title(fmap, area)
    page = fmap.get_root().render().replace("<html>", '<html lang="nl">', 1)
    return page.replace("</body>", _section(area) + "</body>", 1)


def _spec(layers: Layers, area: Area, settings: Maps, static: str) -> dict:
    """What the page's script needs to know (see static/wijkplan.js)."""
    sources = {"stad": layers.wijkcodes, "wijk": [area.code], "buurt": [area.wijkcode]}[area.kind]
    return {
        "root": "../" * area.depth,
        "static": static,
        "kaarten": "../" * (area.depth - 1),
        "bijgewerkt": STAMP,
        "gegevens": sources,
        "area": [area.key, area.code] if area.key else None,
        "tegelsVanaf": settings.tegels_vanaf,
        "collections": COLLECTION_OF,
        "lines": POPUP_LINES,
        "tables": TABLES,
        "looks": LOOKS,
        "fasen": FASEN,
    }


def _start(fmap: folium.Map, control: folium.LayerControl, spec: dict) -> None:
    """Starts the page's script once the map is made (before the controls fold on a phone)."""
    made = json.dumps(spec).replace("<", "\\u003c")
    script = f"""
    document.addEventListener("DOMContentLoaded", function () {{
      wijkplan.start({made}, {fmap.get_name()}, {control.get_name()});
    }});"""
    fmap.get_root().script.add_child(folium.Element(script))


def _base(base_map: str, static: str, scripts: bool = False) -> folium.Map:
    """A map on the base map; scripts: with the cluster plugin and the maps' own script."""
    url, attribution = BASE_MAPS[base_map]
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, height="75vh")
    fmap.default_js = [("leaflet", f"{static}/leaflet/leaflet.js")]
    fmap.default_css = [("leaflet_css", f"{static}/leaflet/leaflet.css")]
    if scripts:
        fmap.default_js += [
            ("markercluster", f"{static}/markercluster/leaflet.markercluster.js"),
            ("wijkplan", f"{static}/wijkplan/wijkplan.js"),
        ]
        fmap.default_css += [
            ("markercluster_css", f"{static}/markercluster/MarkerCluster.css"),
            ("markercluster_default_css", f"{static}/markercluster/MarkerCluster.Default.css"),
        ]
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
# The tables under the map (the accessible alternative): a caption and columns of a label and a field.
TABLES = {
    "project": ["Projecten", [["Titel", "titel"], ["Thema", "thema"], ["Fase", "fase"], ["Planjaar", "planjaar"],
                              ["Start", "start"], ["Eind", "eind"]]],
    "voorstel": ["Voorstellen", [["Titel", "titel"], ["Soort", "soort"], ["Categorie", "categorie"],
                                 ["Status", "status"], ["Steun", "steun"], ["Ingediend", "ingediend"]]],
    "koppelkans": ["Koppelkansen", [["Titel", "titel"], ["Soort", "soort"], ["Planjaar", "planjaar"],
                                    ["Afstand (m)", "afstand_m"]]],
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


def _section(area: Area) -> str:
    """What the page shows under the map: a heading, the feeds to follow, and (once the script has
    loaded the data) how current it is and the features as tables."""
    heading = {"stad": "Gemeente", "wijk": "Wijk", "buurt": "Buurt"}[area.kind]
    title = f"{heading} {html.escape(area.name)}"
    follow = " · ".join(
        f'<a href="{href}" type="{media_type}">{label}</a>' for media_type, label, href in following(area)
    )
    # tabindex: on a narrow screen the tables scroll sideways inside their box, also by keyboard
    return (
        f'<section class="wijkplan-tabel" tabindex="0" aria-label="{title}" aria-busy="true"><h1>{title}</h1>'
        f"<p>Volgen: {follow}</p><noscript><p>Zonder JavaScript staan de {_listed(area)}.</p></noscript></section>\n"
    )


def _listed(area: Area) -> str:
    """Links to the area's projects, proposals and koppelkansen in the API's own pages."""
    where = f"&amp;{area.key}={quote(area.code)}" if area.key else ""
    links = [
        f'<a href="{"../" * area.depth}collections/{collection}/items?f=html{where}">{collection}</a>'
        for collection in COLLECTION_OF.values()
    ]
    return f"{', '.join(links[:-1])} en {links[-1]} in de API"


# -- data -------------------------------------------------------------------------------
# What a feature in a data file carries besides its layer and id: its wijk and buurt (a map shows its own),
# and what its popup and its row in the tables show.
CARRIED = {
    laag: sorted({"titel", "wijkcode", "buurtcode", *(f for line in POPUP_LINES[laag] for f in line[1:]),
                  *(f for _, f in TABLES[laag][1])})
    for laag in COLLECTION_OF
}  # fmt: skip


def data(layers: Layers, wijkcode: str) -> bytes:
    """The data file of a wijk: its projects, proposals and koppelkansen as GeoJSON (CRS84)."""
    features = []
    for laag, page in layers.features.items():
        part = layers.part(page, "wijkcode", wijkcode)
        carried = [
            {"laag": laag, "id": fid, **{f: p[f] for f in CARRIED[laag]}} for fid, p in zip(part.ids, part.properties)
        ]
        features += _features(part, carried)
    return orjson.dumps({"type": "FeatureCollection", "features": features})


def layout(settings: Maps) -> str:
    """What the pages are made by: this module, the page script and the map settings (pages made
    otherwise are made again)."""
    made = Path(__file__).read_bytes() + SCRIPT.read_bytes() + repr(settings).encode()
    return hashlib.sha256(made).hexdigest()[:16]


def made_by(directory: Path, settings: Maps) -> bool:
    """Whether the pages in directory were made by this code under these settings."""
    try:
        return (directory / LAYOUT).read_text() == layout(settings)
    except FileNotFoundError:
        return False


# -- files ------------------------------------------------------------------------------
def build(store: Store, policy: Policy, directory: str | Path, progress: bool = False) -> list[Path]:
    """Write every page, every data file and the index (pages and data files of areas no longer
    there are removed); the files written."""
    directory = Path(directory)
    layers = Layers.read(store)
    written = [write_whole(directory / data_path(code), data(layers, code)) for code in layers.wijkcodes]
    for area in tqdm(areas(layers), desc="kaarten", unit="kaart", disable=not progress):
        written.append(write_whole(directory / area.path, render(layers, area, policy.kaarten)))
    written.append(write_whole(directory / "index.html", index(layers, policy.kaarten.ondergrond)))
    write_whole(directory / LAYOUT, layout(policy.kaarten))
    _remove_others(directory, set(written))
    return written


def refresh(store: Store, policy: Policy, directory: str | Path, among: set[str] | None = None) -> list[Path]:
    """Write the data files of the wijken among (wijk or buurt codes; None: all) and the index: what
    changes to features bring; the files written."""
    directory = Path(directory)
    layers = Layers.read(store, among)
    chosen = [code for code in layers.wijkcodes if among is None or code in among]
    written = [write_whole(directory / data_path(code), data(layers, code)) for code in chosen]
    written.append(write_whole(directory / "index.html", index(layers, policy.kaarten.ondergrond)))
    return written


def _remove_others(directory: Path, kept: set[Path]) -> None:
    """Remove the pages and data files of areas that are no longer there."""
    for kind in ("wijk", "buurt"):
        for path in (directory / kind).glob("*"):
            if path.suffix in (".html", ".json") and path not in kept:
                path.unlink(missing_ok=True)


def write_whole(path: Path, content: str | bytes) -> Path:
    """Write a file whole: readers see the old file or the new one, never half of one (also when
    two processes write it at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".partial", delete=False) as f:
        f.write(content.encode() if isinstance(content, str) else content)
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
