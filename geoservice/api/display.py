"""How values read on the service's pages: dates as dates in the page's language, quantities with
their thousands grouped, allowed values as labels, counts per value as short lists, empty as empty.
Everything comes out as plain text; the templates escape it."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from starlette.datastructures import QueryParams

from geoservice.domain.model import Collection, Field

TIME_ZONE = "Europe/Amsterdam"
LOCATION_FIELDS = ("wijkcode", "buurtcode")
GROUPS = {
    "what": {"nl": "Wat", "en": "What"},
    "when": {"nl": "Wanneer", "en": "When"},
    "where": {"nl": "Waar", "en": "Where"},
    "numbers": {"nl": "Cijfers", "en": "Figures"},
    "record": {"nl": "Over dit gegeven", "en": "About this record"},
}
SUMMARY_FIELDS = ("fase", "status", "steun", "inspraak_tot")
RECORD_FIELDS = ("bron", "bijgewerkt", "afdeling", "gemeentecode", "gemeentenaam", "jaar")


def text(field: Field | None, value, language: str) -> str:
    """A value as a reader sees it: '' for nothing."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    kind = field.kind if field else None
    if kind == "date":
        return format_date(dt.date.fromisoformat(value), "d MMM y", locale=language)
    if kind == "datetime":
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return format_datetime(moment, "d MMM y HH:mm", tzinfo=TIME_ZONE, locale=language)
    if isinstance(value, bool):
        return {"nl": ("nee", "ja"), "en": ("no", "yes")}[language][value]
    if isinstance(value, dict):
        return "; ".join(f"{label(k)}: {text(field, v, language)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(text(field, v, language) for v in value)
    if isinstance(value, int | float):
        return format_decimal(value, locale=language) if field and field.unit else str(value)
    return label(value) if field and field.values else str(value)


def label(value) -> str:
    """An allowed value as a label: its first letter a capital."""
    value = str(value)
    return value[:1].upper() + value[1:]


def table(collection: Collection, columns: list[str], features: list[dict], language: str) -> list[list[str]]:
    """The cells of an items table: per feature, the text of each column."""
    fields = collection.field_map
    return [[text(fields.get(c), f["properties"].get(c), language) for c in columns] for f in features]


def headings(collection: Collection, columns: list[str], language: str) -> list[str]:
    """The column headings of an items table: the titles of the fields."""
    fields = collection.field_map
    return [fields[c].title_in(language) if c in fields else c for c in columns]


def summary(collection: Collection, properties: dict, language: str) -> list[tuple[str, str]]:
    """What a follower looks for first: the phase or status, the support, until when to respond."""
    fields = collection.field_map
    return [
        (fields[name].title_in(language), text(fields[name], properties[name], language))
        for name in SUMMARY_FIELDS
        if name in fields and properties.get(name) is not None
    ]


def groups(collection: Collection, properties: dict, language: str) -> list[dict]:
    """The properties of one feature in groups (what, when, where, figures, the record), each a
    list of (field title, text), empty values left out, in the collection's order."""
    grouped = {name: [] for name in GROUPS}
    for field in collection.fields:
        shown = text(field, properties.get(field.name), language)
        if shown and field.name != collection.title_field:
            grouped[_group_of(field)].append((field.title_in(language), shown))
    return [{"heading": GROUPS[name][language], "rows": rows} for name, rows in grouped.items() if rows]


def _group_of(field: Field) -> str:
    if field.name in RECORD_FIELDS:
        return "record"
    if field.kind in ("date", "datetime"):
        return "when"
    if field.name in LOCATION_FIELDS or field.name.endswith(("naam", "code")):
        return "where"
    if field.unit or field.kind == "object":
        return "numbers"
    return "what"


FORM_KEPT_OUT = ("f", "offset", "cursor", "bbox")  # what a new filter sets again or starts over
ALL = {"nl": "alle", "en": "all"}


def filter_form(collection: Collection, query: QueryParams, language: str) -> dict:
    """The filter form of an items page: a choice per queryable with allowed values (the current
    one selected), the current bbox, and the other parameters of the query, kept as they are."""
    choices = [
        {
            "name": f.name,
            "title": f.title_in(language),
            "selected": query.get(f.name, ""),
            "options": [(value, label(value)) for value in f.values],
        }
        for f in collection.queryable_fields
        if f.values
    ]
    chosen = {c["name"] for c in choices}
    kept = [(k, v) for k, v in query.multi_items() if k not in chosen and k not in FORM_KEPT_OUT]
    return {"choices": choices, "bbox": query.get("bbox", ""), "kept": kept, "all": ALL[language]}


def without_empty(query: QueryParams) -> QueryParams:
    """The query without parameters left empty (what a form sends for 'any')."""
    return QueryParams([(k, v) for k, v in query.multi_items() if v != ""])
