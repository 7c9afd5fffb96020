"""Filters (pygeofilter AST, geometries in the storage CRS) -> a parameterised SQL condition.

The dialect supplies what differs between SQLite (GeoPackage) and PostgreSQL (PostGIS): the
parameter mark, how literal values are passed, spatial predicates and case-insensitive text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import shapely
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

from geoservice.query.cql2 import FilterError

OPEN_BEGIN, OPEN_END = dt.date(1, 1, 1), dt.date(9999, 12, 31)
SPATIAL_OPS = {
    ast.GeometryIntersects: "intersects",
    ast.GeometryEquals: "equals",
    ast.GeometryDisjoint: "disjoint",
    ast.GeometryTouches: "touches",
    ast.GeometryWithin: "within",
    ast.GeometryOverlaps: "overlaps",
    ast.GeometryCrosses: "crosses",
    ast.GeometryContains: "contains",
}
COMPARISON_SQL = {
    ast.Equal: "=",
    ast.NotEqual: "<>",
    ast.LessThan: "<",
    ast.LessEqual: "<=",
    ast.GreaterThan: ">",
    ast.GreaterEqual: ">=",
}


@dataclass(frozen=True)
class Sql:
    """A piece of SQL and the parameters of its marks, in order."""

    text: str
    params: tuple = ()

    def __add__(self, other: Sql) -> Sql:
        return Sql(self.text + other.text, self.params + other.params)


@dataclass(frozen=True)
class Period:
    """The begin and end of a temporal operand (equal for an instant)."""

    begin: Sql
    end: Sql


def join(parts, separator: str) -> Sql:
    parts = list(parts)
    return Sql(separator.join(p.text for p in parts), tuple(x for p in parts for x in p.params))


class Dialect:
    """How a backend writes what differs; subclasses fill in the details."""

    mark = "?"

    def value(self, literal):
        return literal

    def column(self, name: str) -> Sql:
        return Sql(f'"{name}"')

    def casei(self, sql: Sql) -> Sql:
        return Sql(f"lower({sql.text})", sql.params)

    def spatial(self, op: str, geometry) -> Sql:
        raise NotImplementedError


class _ToSql(Evaluator):
    def __init__(self, dialect: Dialect):
        self.dialect = dialect

    def param(self, literal) -> Sql:
        return Sql(self.dialect.mark, (self.dialect.value(literal),))

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        return Sql("(") + lhs + Sql(f" {node.op.value} ") + rhs + Sql(")")

    @handle(ast.Not)
    def negation(self, node, sub):
        return Sql("(NOT ") + sub + Sql(")")

    @handle(ast.Include)
    def include(self, node):
        return Sql("(1 = 0)" if node.not_ else "(1 = 1)")

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        return Sql("(") + lhs + Sql(f" {COMPARISON_SQL[type(node)]} ") + rhs + Sql(")")

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        return Sql("(") + lhs + Sql(f" {'NOT ' if node.not_ else ''}BETWEEN ") + low + Sql(" AND ") + high + Sql(")")

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        return Sql("(") + lhs + Sql(f" {'NOT ' if node.not_ else ''}IN (") + join(options, ", ") + Sql("))")

    @handle(ast.IsNull)
    def is_null(self, node, lhs):
        return Sql("(") + lhs + Sql(f" IS {'NOT ' if node.not_ else ''}NULL)")

    @handle(ast.Like)
    def like(self, node, lhs):
        pattern = self.param(node.pattern)
        if node.nocase:
            lhs, pattern = self.dialect.casei(lhs), self.dialect.casei(pattern)
        return Sql("(") + lhs + Sql(f" {'NOT ' if node.not_ else ''}LIKE ") + pattern + Sql(" ESCAPE '\\')")

    @handle(ast.Function)
    def function(self, node, argument):
        return self.dialect.casei(argument)

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        geometry = node.rhs if isinstance(node.rhs, shapely.Geometry) else node.lhs
        op = SPATIAL_OPS[type(node)]
        if geometry is node.lhs:  # literal first: swap the roles of within and contains
            op = {"within": "contains", "contains": "within"}.get(op, op)
        return self.dialect.spatial(op, geometry)

    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal(self, node, lhs, rhs):
        return Sql("(") + _allen(type(node), _period(lhs), _period(rhs)) + Sql(")")

    @handle(
        shapely.Point,
        shapely.LineString,
        shapely.Polygon,
        shapely.MultiPoint,
        shapely.MultiLineString,
        shapely.MultiPolygon,
        shapely.GeometryCollection,
    )  # pygeofilter's subclass search misses LineString
    def geometry(self, node):
        return None  # used by the spatial predicate itself

    @handle(values.Interval)
    def interval(self, node, begin, end):
        return Period(self.param(OPEN_BEGIN) if begin is None else begin, self.param(OPEN_END) if end is None else end)

    @handle(type(None))
    def open_end(self, node):
        return None

    @handle(ast.Attribute)
    def attribute(self, node):
        return self.dialect.column(node.name)

    @handle(str, int, float, bool, dt.date, dt.datetime)
    def literal(self, node):
        return self.param(node)


def _period(operand) -> Period:
    return operand if isinstance(operand, Period) else Period(operand, operand)


def _cmp(x: Sql, op: str, y: Sql) -> Sql:
    return x + Sql(f" {op} ") + y


_ALLEN = {  # interval relations of a to b, as conditions on their begins and ends, all ANDed
    ast.TimeAfter: lambda a, b: [(a.begin, ">", b.end)],
    ast.TimeBefore: lambda a, b: [(a.end, "<", b.begin)],
    ast.TimeBegins: lambda a, b: [(a.begin, "=", b.begin), (a.end, "<", b.end)],
    ast.TimeBegunBy: lambda a, b: [(a.begin, "=", b.begin), (a.end, ">", b.end)],
    ast.TimeContains: lambda a, b: [(a.begin, "<", b.begin), (a.end, ">", b.end)],
    ast.TimeDuring: lambda a, b: [(a.begin, ">", b.begin), (a.end, "<", b.end)],
    ast.TimeEndedBy: lambda a, b: [(a.begin, "<", b.begin), (a.end, "=", b.end)],
    ast.TimeEnds: lambda a, b: [(a.begin, ">", b.begin), (a.end, "=", b.end)],
    ast.TimeEquals: lambda a, b: [(a.begin, "=", b.begin), (a.end, "=", b.end)],
    ast.TimeMeets: lambda a, b: [(a.end, "=", b.begin)],
    ast.TimeMetBy: lambda a, b: [(a.begin, "=", b.end)],
    ast.TimeOverlappedBy: lambda a, b: [(a.begin, ">", b.begin), (a.begin, "<", b.end), (a.end, ">", b.end)],
    ast.TimeOverlaps: lambda a, b: [(a.begin, "<", b.begin), (a.end, ">", b.begin), (a.end, "<", b.end)],
}


def _allen(kind, a: Period, b: Period) -> Sql:
    if kind is ast.TimeDisjoint:
        return Sql("(") + _cmp(a.end, "<", b.begin) + Sql(" OR ") + _cmp(a.begin, ">", b.end) + Sql(")")
    return join([_cmp(x, op, y) for x, op, y in _ALLEN[kind](a, b)], " AND ")


def to_sql(node, dialect: Dialect) -> Sql:
    """The SQL condition of a filter; FilterError when a part cannot be evaluated."""
    if node is None:
        return Sql("(1 = 1)")
    try:
        return _ToSql(dialect).evaluate(node)
    except NotImplementedError as error:
        raise FilterError(str(error)) from None
