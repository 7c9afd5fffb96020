"""Filters built from the simple query parameters, as pygeofilter nodes like CQL2 gives."""

from __future__ import annotations

import datetime as dt

from pygeofilter import ast, values

from geoservice.domain.model import Collection
from geoservice.query.cql2 import GEOMETRY_PROPERTY


def all_of(*nodes):
    """The conjunction of the given filters (None where there is none)."""
    present = [n for n in nodes if n is not None]
    if not present:
        return None
    return ast.And.from_items(*present) if len(present) > 1 else present[0]


def equals(name: str, value) -> ast.Node:
    return ast.Equal(ast.Attribute(name), value)


def intersects(geometry) -> ast.Node:
    """Features whose geometry intersects a shapely geometry in the storage CRS."""
    return ast.GeometryIntersects(ast.Attribute(GEOMETRY_PROPERTY), geometry)


def history_of(kind: str, feature_id) -> ast.Node:
    """The steps of statuswijzigingen of one project or proposal (kind: its collection)."""
    return all_of(equals("collectie", kind), equals("object_id", feature_id))


def koppelkansen_of(kind: str, feature_id) -> ast.Node:
    """The koppelkansen of one proposal, or of one project (on either side of a pair)."""
    if kind == "voorstellen":
        return equals("voorstel", feature_id)
    return ast.Or(equals("project", feature_id), equals("ander_project", feature_id))


def published(collection: Collection):
    """What the public may see of a collection (None: everything)."""
    if collection.public_when is None:
        return None
    return ast.IsNull(ast.Attribute(collection.public_when), True)


def during(collection: Collection, begin: dt.date | dt.datetime | None, end: dt.date | dt.datetime | None):
    """Features whose time (instant or start/end period) meets the interval; open ends as None."""
    names = collection.temporal
    operand = ast.Attribute(names[0]) if len(names) == 1 else values.Interval(*map(ast.Attribute, names))
    return ast.Not(ast.TimeDisjoint(operand, values.Interval(begin, end)))
