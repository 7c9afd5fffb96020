"""Links from a feature to the things related to it, so that a client can follow them without
knowing the URL patterns: a proposal's history, reactions, support, koppelkansen and projects; a
project's koppelkansen and history; a wijk's buurten, map, history and GeoPackage; a buurt's wijk;
the Atom feed of each, and the calendar of a wijk or buurt."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from geoservice.domain.model import Collection
from geoservice.publish.downloads import wijk_link
from geoservice.publish.geojson import GEOJSON, link

JSON = "application/json"


def links(base: str, collection: Collection, fid, properties: dict, maps: Path) -> list[dict]:
    """The related links of one feature (maps: the folder of the built maps, linked when there)."""
    kind = collection.table
    items = f"{base}/collections"
    found = []
    if kind in ("voorstellen", "projecten"):
        found.append(_history(items, f"collectie={kind}&object_id={fid}&sortby=tijdstip"))
    if kind == "voorstellen":
        item = f"{items}/voorstellen/items/{fid}"
        found += [
            link(f"{item}/reacties", "related", JSON, "Gepubliceerde reacties"),
            link(f"{item}/steun", "related", JSON, "Steun"),
            link(f"{items}/koppelkansen/items?voorstel={fid}", "related", GEOJSON, "Koppelkansen"),
            *(
                link(f"{items}/projecten/items/{pid}", "related", GEOJSON, f"Gekoppeld project {pid}")
                for pid in properties.get("projecten") or ()
            ),
        ]
    elif kind == "projecten":
        query = f"filter=project%20%3D%20{fid}%20OR%20ander_project%20%3D%20{fid}"
        found.append(link(f"{items}/koppelkansen/items?{query}", "related", GEOJSON, "Koppelkansen"))
    elif kind == "wijken":
        found += [
            link(f"{items}/buurten/items?wijkcode={quote(fid)}", "related", GEOJSON, "Buurten van de wijk"),
            _history(items, f"wijkcode={quote(fid)}&sortby=-tijdstip"),
            wijk_link(base, fid),
        ]
    elif kind == "buurten":
        found += [
            link(f"{items}/wijken/items/{properties['wijkcode']}", "related", GEOJSON, "De wijk"),
            _history(items, f"buurtcode={quote(fid)}&sortby=-tijdstip"),
        ]
    return found + _following(base, kind, fid) + _map(base, kind, fid, maps)


def _following(base: str, kind: str, fid) -> list[dict]:
    """The feed of a wijk, buurt, project or proposal, and the calendar of a wijk or buurt."""
    if kind not in ("wijken", "buurten", "projecten", "voorstellen"):
        return []
    key = quote(str(fid))
    found = [link(f"{base}/feeds/{kind}/{key}.atom", "alternate", "application/atom+xml", "Atom-feed")]
    if kind in ("wijken", "buurten"):
        found.append(link(f"{base}/kalenders/{kind}/{key}.ics", "alternate", "text/calendar", "Agenda (iCalendar)"))
    return found


def _history(items: str, query: str) -> dict:
    return link(f"{items}/statuswijzigingen/items?{query}", "related", GEOJSON, "Geschiedenis (statuswijzigingen)")


def _map(base: str, kind: str, code, maps: Path) -> list[dict]:
    area = {"wijken": "wijk", "buurten": "buurt"}.get(kind)
    if area is None or not (maps / area / f"{code}.html").exists():
        return []
    return [link(f"{base}/maps/{area}/{code}.html", "related", "text/html", f"Kaart van de {area}")]
