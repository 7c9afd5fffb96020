"""Atom feeds (RFC 4287) of what the public may see happen in the city, a wijk, a buurt, a project
or a proposal: proposals published, every phase or status change with its explanation, published
reactions, koppelkansen found, and an inspraak period about to close. Newest first, in pages
(RFC 5005), each entry with a stable id, a link to the item and a GeoRSS point."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import shapely
from babel.dates import format_date
from babel.numbers import format_decimal

from geoservice.domain.model import STATE_MEANINGS
from geoservice.query import crs
from geoservice.query.filters import equals, history_of, koppelkansen_of
from geoservice.store import Query, Store, changes, participation

PAGE_SIZE = 50
CLOSING_DAYS = 7  # an inspraak period is "about to close" this many days before inspraak_tot
TIME_ZONE = ZoneInfo("Europe/Amsterdam")
ATOM, GEORSS = "http://www.w3.org/2005/Atom", "http://www.georss.org/georss"
SCOPES = ("stad", "wijken", "buurten", "projecten", "voorstellen")
FEATURES = ("projecten", "voorstellen")  # the scopes that are one feature
ET.register_namespace("", ATOM)
ET.register_namespace("georss", GEORSS)


@dataclass(frozen=True)
class Scope:
    """What a feed follows: the city, or one wijk, buurt, project or proposal."""

    kind: str
    key: str | int | None = None

    @property
    def path(self) -> str:
        return "/feeds/stad.atom" if self.kind == "stad" else f"/feeds/{self.kind}/{self.key}.atom"


@dataclass(frozen=True)
class Entry:
    """One thing that happened: uid is stable, the texts are per language."""

    uid: str
    updated: dt.datetime
    title: dict[str, str]
    summary: dict[str, str]
    item: tuple[str, object]  # (collection, id) of the feature it is about
    point: shapely.Geometry | None  # in the storage CRS


# -- what a scope holds -------------------------------------------------------------------------
def title(store: Store, scope: Scope, language: str) -> str:
    """The feed's title; NotFound for an area or feature the public cannot see."""
    if scope.kind == "stad":
        return {"nl": "Wijkplan: alles in de stad", "en": "Neighbourhood plan: the whole city"}[language]
    name_field = {"wijken": "wijknaam", "buurten": "buurtnaam"}.get(scope.kind, "titel")
    name = store.get(scope.kind, scope.key).properties[0][name_field]
    kind = {"wijken": ("Wijk", "District"), "buurten": ("Buurt", "Neighbourhood"),
            "projecten": ("Project", "Project"), "voorstellen": ("Voorstel", "Proposal")}[scope.kind]  # fmt: skip
    return f"{kind[language == 'en']}: {name}"


def entries(store: Store, scope: Scope, now: dt.datetime) -> list[Entry]:
    """Everything of the scope the public may see, newest first."""
    found = [
        *_steps(store, scope),
        *_reactions(store, scope),
        *_koppelkansen(store, scope),
        *_closing(store, scope),
    ]
    return sorted((e for e in found if e.updated <= now), key=lambda e: (e.updated, e.uid), reverse=True)


def _area(scope: Scope):
    return {"wijken": equals("wijkcode", scope.key), "buurten": equals("buurtcode", scope.key)}.get(scope.kind)


def _steps(store: Store, scope: Scope) -> list[Entry]:
    """Public phase and status changes (a proposal's submission shows as its publication)."""
    condition = history_of(scope.kind, scope.key) if scope.kind in FEATURES else _area(scope)
    page = store.query(Query.every("statuswijzigingen", condition))
    return [
        _step(fid, p, geometry)
        for fid, p, geometry in zip(page.ids, page.properties, page.geometries)
        if not (p["collectie"] == "voorstellen" and p["naar"] == "ingediend")
    ]


def _step(fid, step: dict, geometry) -> Entry:
    name, before, after = step["titel"], step["van"], step["naar"]
    if step["collectie"] == "voorstellen" and after == "gepubliceerd":
        heading = {"nl": f"Nieuw voorstel: {name}", "en": f"New proposal: {name}"}
    elif before is None:
        heading = {"nl": f"Nieuw in het wijkbeheerplan: {name}", "en": f"New in the plan: {name}"}
    else:
        heading = {language: f"{name}: {before} → {after}" for language in ("nl", "en")}
    meaning = STATE_MEANINGS.get(after, {"nl": "", "en": ""})
    note = step.get("toelichting") or ""
    return Entry(
        f"statuswijzigingen/{fid}",
        max(_moment(step["tijdstip"]), _moment(step["gepubliceerd"] or step["tijdstip"])),
        heading,
        {language: "\n".join(t for t in (meaning[language], note) if t) for language in ("nl", "en")},
        (step["collectie"], step["object_id"]),
        geometry,
    )


def _proposals(store: Store, scope: Scope):
    """The published proposals of the scope (None for a project: it has no reactions)."""
    if scope.kind == "projecten":
        return None
    if scope.kind == "voorstellen":
        return store.get("voorstellen", scope.key)
    return store.query(Query.every("voorstellen", _area(scope)))


def _reactions(store: Store, scope: Scope) -> list[Entry]:
    proposals = _proposals(store, scope)
    if proposals is None:
        return []
    shown = {fid: (p["titel"], g) for fid, p, g in zip(proposals.ids, proposals.properties, proposals.geometries)}
    return [
        Entry(
            f"voorstellen/{r['voorstel']}/reacties/{r['id']}",
            _moment(r["gepubliceerd"]),
            {"nl": f"Reactie op {shown[r['voorstel']][0]}", "en": f"Reaction to {shown[r['voorstel']][0]}"},
            {"nl": r["tekst"], "en": r["tekst"]},
            ("voorstellen", r["voorstel"]),
            shown[r["voorstel"]][1],
        )
        for r in participation.published_reactions(store, None if scope.kind == "stad" else list(shown))
        if r["voorstel"] in shown
    ]


def _koppelkansen(store: Store, scope: Scope) -> list[Entry]:
    """The koppelkansen of the scope, each dated by when the service found it."""
    condition = koppelkansen_of(scope.kind, scope.key) if scope.kind in FEATURES else _area(scope)
    page = store.query(Query.every("koppelkansen", condition))
    found = {code: change for change in changes.naming(store, "koppelkansen", changes.DERIVED) for code in change.ids}
    return [
        Entry(
            f"koppelkansen/{code}/{found[code].sequence}",
            _moment(found[code].moment),
            {"nl": f"Koppelkans: {p['titel']}", "en": f"Opportunity to combine: {p['titel']}"},
            {
                "nl": f"Werk en wensen op {_metres(p, 'nl')} m van elkaar: samen oppakken scheelt overlast en geld.",
                "en": f"Works and wishes {_metres(p, 'en')} m apart: doing them together saves nuisance and money.",
            },
            ("koppelkansen", code),
            geometry,
        )
        for code, p, geometry in zip(page.ids, page.properties, page.geometries)
        if code in found
    ]


def _metres(koppelkans: dict, language: str) -> str:
    return format_decimal(koppelkans["afstand_m"], locale=language)


def _closing(store: Store, scope: Scope) -> list[Entry]:
    """Projects whose inspraak period closes within CLOSING_DAYS (dated by when that began)."""
    if scope.kind == "voorstellen":
        return []
    page = (
        store.get("projecten", scope.key)
        if scope.kind == "projecten"
        else store.query(Query.every("projecten", _area(scope)))
    )
    found = []
    for fid, p, geometry in zip(page.ids, page.properties, page.geometries):
        if p["inspraak_tot"] is None:
            continue
        last_day = dt.date.fromisoformat(p["inspraak_tot"])
        begins = dt.datetime.combine(last_day - dt.timedelta(days=CLOSING_DAYS), dt.time(), TIME_ZONE)
        day = {language: format_date(last_day, "d MMMM y", locale=language) for language in ("nl", "en")}
        found.append(
            Entry(
                f"projecten/{fid}/inspraak/{last_day.isoformat()}",
                begins,
                {
                    "nl": f"Inspraak sluit op {day['nl']}: {p['titel']}",
                    "en": f"Responses close on {day['en']}: {p['titel']}",
                },
                {
                    "nl": f"Reageren op de plannen kan tot en met {day['nl']}.",
                    "en": f"You can respond to the plans until {day['en']}.",
                },
                ("projecten", fid),
                geometry,
            )
        )
    return found


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# -- the document -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Feed:
    """A page of a feed as the service publishes it."""

    base: str
    scope: Scope
    title: str
    publisher: str
    language: str
    page_url: str  # the HTML page of what the feed follows

    def document(self, found: list[Entry], offset: int) -> bytes:
        """The Atom document of the page that starts at offset."""
        feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": self.language})
        _text(feed, "id", self._tag(self.scope.path))
        _text(feed, "title", self.title)
        _text(feed, "updated", _stamp(found[0].updated if found else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
        ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = self.publisher
        self._link(feed, "alternate", "text/html", self.page_url)
        for rel, start in _pages(offset, len(found)):
            self._link(feed, rel, "application/atom+xml", self._address(start))
        for entry in found[offset : offset + PAGE_SIZE]:
            self._entry(feed, entry)
        return ET.tostring(feed, encoding="utf-8", xml_declaration=True)

    def _entry(self, feed: ET.Element, entry: Entry) -> None:
        element = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(element, "id", self._tag(entry.uid))
        _text(element, "title", entry.title[self.language])
        _text(element, "updated", _stamp(entry.updated))
        _text(element, "summary", entry.summary[self.language]).set("type", "text")
        item = f"{self.base}/collections/{entry.item[0]}/items/{entry.item[1]}"
        self._link(element, "alternate", "text/html", f"{item}?f=html")
        self._link(element, "related", "application/geo+json", f"{item}?f=json")
        if entry.point is not None:
            point = crs.from_storage(shapely.point_on_surface(entry.point), crs.CRS84)
            ET.SubElement(element, f"{{{GEORSS}}}point").text = f"{point.y:.6f} {point.x:.6f}"

    def _tag(self, uid: str) -> str:
        """A stable entry id (a tag URI, RFC 4151) under the service's host."""
        return f"tag:{urlsplit(self.base).hostname},2024:wijkplan/{uid.removeprefix('/')}"

    def _address(self, offset: int) -> str:
        query = f"?lang={self.language}" + (f"&offset={offset}" if offset else "")
        return f"{self.base}{self.scope.path}{query}"

    def _link(self, parent: ET.Element, rel: str, media_type: str, href: str) -> None:
        ET.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "type": media_type, "href": href})


def _pages(offset: int, total: int) -> list[tuple[str, int]]:
    """The paging links of RFC 5005 (self, first, last, previous, next) with their offsets."""
    last = max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)
    links = [("self", offset), ("first", 0), ("last", last)]
    if offset > 0:
        links.append(("previous", max(0, offset - PAGE_SIZE)))
    if offset + PAGE_SIZE < total:
        links.append(("next", offset + PAGE_SIZE))
    return links


def _text(parent: ET.Element, name: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{name}")
    element.text = value
    return element


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
