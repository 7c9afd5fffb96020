"""Calendars (iCalendar, RFC 5545) of the planned works of a wijk or buurt: every project as an
event from its start to its end, and every inspraak deadline as a day. UIDs are stable and each
event carries SEQUENCE and LAST-MODIFIED, so a calendar app updates a changed work in place."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import icalendar

from geoservice.query import crs
from geoservice.query.filters import equals
from geoservice.store import Query, Store

AREAS = {"wijken": ("wijkcode", "wijknaam", "Wijk", "District"),
         "buurten": ("buurtcode", "buurtnaam", "Buurt", "Neighbourhood")}  # fmt: skip
# SEQUENCE: the seconds from this moment to the project's last change; it grows with every change a
# second or more after the one before, and fits the 32 bits RFC 5545 gives it until 2088.
SEQUENCE_EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def calendar(store: Store, area: str, code: str, base: str, language: str) -> bytes:
    """The calendar of one wijk or buurt; NotFound when there is no such area."""
    code_field, name_field, *kind = AREAS[area]
    name = store.get(area, code).properties[0][name_field]
    projects = store.query(Query.every("projecten", equals(code_field, code)))
    points = crs.from_storage(projects.geometries, crs.CRS84) if projects.ids else []
    host = urlsplit(base).hostname
    places = _places(store)
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{host}//Wijkplan geoservice//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{kind[language == 'en']} {name}: {'works' if language == 'en' else 'werken'}")
    calendar.add("x-wr-timezone", "Europe/Amsterdam")
    for fid, properties, geometry in zip(projects.ids, projects.properties, points):
        item = f"{base}/collections/projecten/items/{fid}"
        place = places.get(properties["buurtcode"], "")
        calendar.add_component(_work(fid, properties, (geometry, place), item, host, language))
        if properties["inspraak_tot"]:
            calendar.add_component(_deadline(fid, properties, (geometry, place), item, host, language))
    return calendar.to_ical()


def _places(store: Store) -> dict[str, str]:
    """Per buurt code the place as a reader names it: buurt, wijk, municipality."""
    buurten = store.query(Query.every("buurten")).properties
    return {b["buurtcode"]: f"{b['buurtnaam']}, {b['wijknaam']}, {b['gemeentenaam']}" for b in buurten}


def _event(uid: str, properties: dict, where: tuple, item: str) -> icalendar.Event:
    """What the two kinds of event share: uid, place, link and the version of the project."""
    changed = dt.datetime.fromisoformat(properties["bijgewerkt"].replace("Z", "+00:00"))
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("sequence", int((changed - SEQUENCE_EPOCH).total_seconds()))
    event.add("url", f"{item}?f=html")
    geometry, place = where
    event.add("location", place)
    if not geometry.is_empty:
        point = geometry.representative_point()
        event.add("geo", (round(point.y, 6), round(point.x, 6)))
    return event


def _work(fid, properties: dict, where: tuple, item: str, host: str, language: str) -> icalendar.Event:
    event = _event(f"project-{fid}@{host}", properties, where, item)
    phase = "phase" if language == "en" else "fase"
    event.add("summary", f"{properties['titel']} ({phase}: {properties['fase']})")
    event.add("description", f"{properties['omschrijving'] or ''}\n{item}?f=html".strip())
    event.add("dtstart", dt.date.fromisoformat(properties["start"]))
    event.add("dtend", dt.date.fromisoformat(properties["eind"]) + dt.timedelta(days=1))  # the end day included
    event.add("categories", [properties["thema"], properties["soort"]])
    return event


def _deadline(fid, properties: dict, where: tuple, item: str, host: str, language: str) -> icalendar.Event:
    event = _event(f"project-{fid}-inspraak@{host}", properties, where, item)
    heading = "Responses close" if language == "en" else "Inspraak sluit"
    event.add("summary", f"{heading}: {properties['titel']}")
    event.add("description", f"{item}?f=html")
    day = dt.date.fromisoformat(properties["inspraak_tot"])
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    return event
