"""Duplicate hints: open published proposals near a new one, in the same categorie, with a
similar text."""

from __future__ import annotations

import re
import unicodedata

import shapely

from geoservice.domain.model import SUPPORTABLE
from geoservice.domain.policy import Policy
from geoservice.query.filters import all_of, equals, intersects
from geoservice.store import Query, Store

STOPWORDS = frozenset(
    [
        "aan",
        "als",
        "bij",
        "dat",
        "de",
        "den",
        "der",
        "die",
        "dit",
        "een",
        "en",
        "er",
        "het",
        "hier",
        "in",
        "is",
        "met",
        "na",
        "naar",
        "niet",
        "of",
        "om",
        "onze",
        "op",
        "te",
        "tot",
        "van",
        "veel",
        "voor",
        "wat",
        "we",
        "wij",
        "zo",
        "zijn",
        "graag",
        "meer",
    ]
)


def words(text: str) -> frozenset:
    """The meaningful words of a text: case and accents folded, short and common words left out."""
    plain = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return frozenset(w for w in re.findall(r"[a-z0-9]+", plain) if len(w) > 2 and w not in STOPWORDS)


def similarity(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def similar_proposals(store: Store, policy: Policy, props: dict, geometry, limit: int = 5) -> list[dict]:
    """Open published proposals near a geometry (storage CRS) in the same categorie with a similar
    text, most similar first."""
    reach = policy.deelname.vergelijkbaar_binnen_m
    around = shapely.box(*shapely.buffer(geometry, reach).bounds)  # a box: the index answers it alone
    page = store.query(
        Query("voorstellen", all_of(intersects(around), equals("categorie", props.get("categorie"))), limit=1000)
    )
    mine = words(f"{props.get('titel') or ''} {props.get('omschrijving') or ''}")
    found = []
    for fid, p, distance in zip(page.ids, page.properties, shapely.distance(page.geometries, geometry)):
        score = similarity(mine, words(f"{p['titel']} {p['omschrijving'] or ''}"))
        if distance <= reach and p["status"] in SUPPORTABLE and score >= policy.deelname.vergelijkbaar_vanaf:
            found.append(
                {
                    "id": fid,
                    "titel": p["titel"],
                    "status": p["status"],
                    "steun": p["steun"],
                    "afstand_m": round(float(distance), 1),
                    "gelijkenis": round(score, 2),
                }
            )
    return sorted(found, key=lambda f: (-f["gelijkenis"], f["afstand_m"]))[:limit]
