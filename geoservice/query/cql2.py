"""CQL2 filters (text and JSON) parsed into pygeofilter's AST and checked against a collection.

Text is read with a Lark grammar of the CQL2 standard (cql2.lark; geometry literals with
pygeofilter's WKT grammar); JSON is walked directly. Both give the same pygeofilter nodes, which
cql2sql turns into SQL.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import orjson
import pygeofilter.parsers
import shapely
from lark import Lark, v_args
from lark.exceptions import LarkError
from pygeofilter import ast, values
from pygeofilter.parsers.wkt import WKTTransformer

from geoservice.domain.model import SAFE_INTEGER, Collection
from geoservice.domain.validation import ValidationError, parse_date, parse_moment

GEOMETRY_PROPERTY = "geometry"
SPATIAL = {
    "s_intersects": ast.GeometryIntersects,
    "s_equals": ast.GeometryEquals,
    "s_disjoint": ast.GeometryDisjoint,
    "s_touches": ast.GeometryTouches,
    "s_within": ast.GeometryWithin,
    "s_overlaps": ast.GeometryOverlaps,
    "s_crosses": ast.GeometryCrosses,
    "s_contains": ast.GeometryContains,
}
TEMPORAL = {
    "t_after": ast.TimeAfter,
    "t_before": ast.TimeBefore,
    "t_begins": ast.TimeBegins,
    "t_begunby": ast.TimeBegunBy,
    "t_contains": ast.TimeContains,
    "t_disjoint": ast.TimeDisjoint,
    "t_during": ast.TimeDuring,
    "t_endedby": ast.TimeEndedBy,
    "t_ends": ast.TimeEnds,
    "t_equals": ast.TimeEquals,
    "t_meets": ast.TimeMeets,
    "t_metby": ast.TimeMetBy,
    "t_overlappedby": ast.TimeOverlappedBy,
    "t_overlaps": ast.TimeOverlaps,
    "t_intersects": lambda a, b: ast.Not(ast.TimeDisjoint(a, b)),
}
COMPARISONS = {
    "=": ast.Equal,
    "<>": ast.NotEqual,
    "<": ast.LessThan,
    "<=": ast.LessEqual,
    ">": ast.GreaterThan,
    ">=": ast.GreaterEqual,
}


# What one filter may ask: the service evaluates filters of this size within its time budget.
MAX_PREDICATES = 100  # comparisons, spatial and temporal functions, ...
MAX_NESTING = 12  # AND within OR within NOT ... (a chain of AND, or of OR, counts once)
MAX_LIST = 1000  # values of one IN
MAX_JSON_DEPTH = 64
MAX_VERTICES = 10_000  # of all geometry literals together


class FilterError(ValueError):
    """A filter that cannot be read or evaluated; the message says why."""


def _date(text) -> dt.date:
    try:
        return parse_date("date", text)
    except ValidationError as error:
        raise FilterError(str(error)) from None


def _timestamp(text) -> dt.datetime:
    try:
        return parse_moment("timestamp", text)
    except ValidationError as error:
        raise FilterError(str(error)) from None


def _like(lhs, pattern, negate: bool) -> ast.Like:
    nocase = isinstance(lhs, ast.Function) and lhs.name == "casei"
    if nocase:
        lhs = lhs.arguments[0]
    if isinstance(pattern, ast.Function) and pattern.name == "casei":
        nocase, pattern = True, pattern.arguments[0]
    if not isinstance(pattern, str):
        raise FilterError("LIKE needs a text pattern")
    return ast.Like(lhs, pattern, nocase, "%", "_", "\\", negate)


@v_args(inline=True)
class _TextTransformer(WKTTransformer):
    """Lark parse tree -> pygeofilter AST."""

    def or_(self, lhs, rhs):
        return ast.Or(lhs, rhs)

    def and_(self, lhs, rhs):
        return ast.And(lhs, rhs)

    def not_(self, node):
        return ast.Not(node)

    def boolean_condition(self, value):
        return ast.Include(not value)

    def eq(self, a, b):
        return ast.Equal(a, b)

    def ne(self, a, b):
        return ast.NotEqual(a, b)

    def lt(self, a, b):
        return ast.LessThan(a, b)

    def le(self, a, b):
        return ast.LessEqual(a, b)

    def gt(self, a, b):
        return ast.GreaterThan(a, b)

    def ge(self, a, b):
        return ast.GreaterEqual(a, b)

    def like(self, a, pattern):
        return _like(a, pattern, False)

    def ilike(self, a, pattern):
        return _like(ast.Function("casei", [a]), pattern, False)

    def not_like(self, a, pattern):
        return _like(a, pattern, True)

    def between(self, a, low, high):
        return ast.Between(a, low, high, False)

    def not_between(self, a, low, high):
        return ast.Between(a, low, high, True)

    def in_(self, a, *options):
        return ast.In(a, list(options), False)

    def not_in(self, a, *options):
        return ast.In(a, list(options), True)

    def is_null(self, a):
        return ast.IsNull(a, False)

    def is_not_null(self, a):
        return ast.IsNull(a, True)

    def casei(self, a):
        return ast.Function("casei", [a])

    def spatial(self, name, a, b):
        return SPATIAL[name.lower()](a, b)

    def temporal(self, name, a, b):
        return TEMPORAL[name.lower()](a, b)

    def geometry(self, geojson):
        return values.Geometry(geojson)

    def bbox(self, minx, miny, maxx, maxy):
        return values.Envelope(minx, maxx, miny, maxy)

    def interval(self, start, end):
        return values.Interval(start, end)

    def bound_text(self, text):
        return None if text in ("..", "") else _bound(text)

    def date(self, text):
        return _date(text)

    def timestamp(self, text):
        return _timestamp(text)

    def property(self, token):
        return ast.Attribute(token.strip('"'))

    def STRING(self, token):
        return token[1:-1].replace("''", "'")

    def BOOLEAN(self, token):
        return token.lower() == "true"

    def SIGNED_INT(self, token):
        return int(token)

    def SIGNED_FLOAT(self, token):
        return float(token)


def _bound(text):
    """A date (also as GDAL writes one: 2027-01-01T) or a timestamp."""
    if not isinstance(text, str):
        raise FilterError(f"not a date or timestamp: {text!r}")
    return _date(text.removesuffix("T")) if len(text.removesuffix("T")) == 10 else _timestamp(text)


_PARSER = Lark.open(
    str(Path(__file__).with_name("cql2.lark")),
    parser="lalr",
    maybe_placeholders=False,
    import_paths=[str(Path(pygeofilter.parsers.__file__).parent)],
    transformer=_TextTransformer(),
)


def parse_text(text: str):
    """CQL2 text -> pygeofilter AST, of a size the service evaluates."""
    try:
        node = _PARSER.parse(text)
    except FilterError:
        raise
    except LarkError as error:
        raise FilterError(f"cannot read the CQL2 text: {str(error).splitlines()[0]}") from None
    return check_size(node)


def check_size(node):
    """The filter itself, when it asks no more than the limits allow; FilterError otherwise."""
    predicates, vertices, stack = 0, 0, [(node, 0, None)]
    while stack:
        current, nesting, parent = stack.pop()
        if isinstance(current, (ast.And, ast.Or, ast.Not)):
            nesting += isinstance(current, ast.Not) or type(current) is not parent
            if nesting > MAX_NESTING:
                raise FilterError(f"nested more than {MAX_NESTING} levels deep")
            stack.extend((child, nesting, type(current)) for child in current.get_sub_nodes())
            continue
        predicates += 1
        if isinstance(current, ast.In) and len(current.sub_nodes) > MAX_LIST:
            raise FilterError(f"IN lists at most {MAX_LIST} values")
        if isinstance(current, ast.SpatialComparisonPredicate):
            vertices += sum(
                shapely.get_num_coordinates(literal_shape(side))
                for side in (current.lhs, current.rhs)
                if isinstance(side, (values.Geometry, values.Envelope))
            )
    if predicates > MAX_PREDICATES:
        raise FilterError(f"more than {MAX_PREDICATES} conditions")
    if vertices > MAX_VERTICES:
        raise FilterError(f"geometries of more than {MAX_VERTICES} vertices in all")
    return node


def dates_from_text(node, collection: Collection):
    """The draft dialect `cql-text` (as GDAL writes it) compares date fields with quoted text:
    read such text as the date or timestamp it holds."""
    if isinstance(node, (ast.Comparison, ast.Between, ast.In)):
        attribute = node.lhs if isinstance(node.lhs, ast.Attribute) else None
        field = collection.field_map.get(attribute.name) if attribute else None
        if field is not None and field.kind in ("date", "datetime"):
            for name in ("rhs", "low", "high"):
                if isinstance(getattr(node, name, None), str):
                    setattr(node, name, _bound(getattr(node, name)))
            if isinstance(node, ast.In):
                node.sub_nodes = [_bound(v) if isinstance(v, str) else v for v in node.sub_nodes]
    elif isinstance(node, ast.Node):
        for child in node.get_sub_nodes():
            dates_from_text(child, collection)
    return node


def parse_json(text: str):
    """CQL2 JSON -> pygeofilter AST, of a size the service evaluates."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise FilterError(f"not JSON: {error}") from None
    _check_depth(document)
    return check_size(_walk(document))


def _check_depth(document) -> None:
    stack = [(document, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise FilterError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else ()
        stack.extend((child, depth + 1) for child in children)


def _walk(node):
    if isinstance(node, (str, int, float, bool)) or node is None:
        return node
    if isinstance(node, list):
        return [_walk(item) for item in node]
    if not isinstance(node, dict):
        raise FilterError(f"unexpected CQL2 JSON element: {node!r}")
    for key, read in _LITERALS.items():
        if key in node:
            return read(node[key])
    if "type" in node and ("coordinates" in node or "geometries" in node):
        literal = values.Geometry(node)
        literal_shape(literal)
        return literal
    if not isinstance(node.get("op"), str) or not isinstance(node.get("args", []), list):
        raise FilterError(f"unexpected CQL2 JSON element: {node!r}")
    return _operation(node["op"].lower(), _walk(node.get("args", [])))


def _property(name) -> ast.Attribute:
    if not isinstance(name, str):
        raise FilterError(f"a property is named by text, not {name!r}")
    return ast.Attribute(name)


def _interval(pair) -> values.Interval:
    if not isinstance(pair, list) or len(pair) != 2:
        raise FilterError("an interval has two bounds")
    return values.Interval(*[None if b == ".." else _walk(b) if isinstance(b, dict) else _bound(b) for b in pair])


def _envelope(box) -> values.Envelope:
    if not isinstance(box, list) or len(box) not in (4, 6) or not all(_finite(v) for v in box):
        raise FilterError("a bbox has 4 (or 6) numbers")
    minx, miny, maxx, maxy = box if len(box) == 4 else box[0:2] + box[3:5]
    return values.Envelope(minx, maxx, miny, maxy)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_LITERALS = {"property": _property, "date": _date, "timestamp": _timestamp, "interval": _interval, "bbox": _envelope}


def _operation(op, args):
    try:
        if op in ("and", "or"):
            node = args[0]
            for arg in args[1:]:
                node = (ast.And if op == "and" else ast.Or)(node, arg)
            return node
        if op == "not":
            return ast.Not(args[0])
        if op in COMPARISONS:
            return COMPARISONS[op](*args)
        if op == "like":
            return _like(args[0], args[1], False)
        if op == "between":
            return ast.Between(args[0], args[1], args[2], False)
        if op == "in":
            return ast.In(args[0], list(args[1]), False)
        if op == "isnull":
            return ast.IsNull(args[0], False)
        if op == "casei":
            return ast.Function("casei", args)
        if op in SPATIAL:
            return SPATIAL[op](*args)
        if op in TEMPORAL:
            return TEMPORAL[op](*args)
    except (TypeError, IndexError):
        raise FilterError(f"wrong arguments for {op!r}") from None
    raise FilterError(f"operator {op!r} is not supported")


# -- checking against a collection -------------------------------------------------------------
FAMILIES = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "date": "time",
    "datetime": "time",
    "boolean": "boolean",
}


def check(node, collection: Collection) -> None:
    """Refuse a filter that names unknown properties or compares things of different types."""
    fields = collection.field_map
    if isinstance(node, (ast.And, ast.Or)):
        check(node.lhs, collection)
        check(node.rhs, collection)
    elif isinstance(node, ast.Not):
        check(node.sub_node, collection)
    elif isinstance(node, ast.Include):
        return
    elif isinstance(node, ast.SpatialComparisonPredicate):
        _check_spatial(node)
    elif isinstance(node, ast.TemporalPredicate):
        for side in (node.lhs, node.rhs):
            _check_temporal(side, fields)
    elif isinstance(node, ast.Like):
        if _family(node.lhs, fields) != "text":
            raise FilterError("LIKE compares text only")
    elif isinstance(node, ast.IsNull):
        _family(node.lhs, fields)
    elif isinstance(node, (ast.Comparison, ast.Between, ast.In)):
        _check_same_family(_operands(node), fields)
    else:
        raise FilterError(f"{type(node).__name__} is not supported")


def _operands(node) -> list:
    if isinstance(node, ast.Between):
        return [node.lhs, node.low, node.high]
    if isinstance(node, ast.In):
        return [node.lhs, *node.sub_nodes]
    return [node.lhs, node.rhs]


def _check_same_family(operands, fields) -> None:
    families = {_family(operand, fields) for operand in operands}
    if len(families) > 1:
        raise FilterError(f"cannot compare {' with '.join(sorted(families))}")


def _family(operand, fields) -> str:
    """The kind of value an operand stands for: text, number, time or boolean."""
    if isinstance(operand, ast.Attribute):
        field = fields.get(operand.name)
        if field is None:
            raise FilterError(f"unknown property {operand.name!r} (see the queryables)")
        if field.kind not in FAMILIES:
            raise FilterError(f"{operand.name} is a list and cannot be compared")
        return FAMILIES[field.kind]
    if isinstance(operand, ast.Function):
        if _family(operand.arguments[0], fields) != "text":
            raise FilterError("CASEI applies to text only")
        return "text"
    if (
        isinstance(operand, (int, float))
        and not isinstance(operand, bool)
        and not (_finite(operand) and abs(operand) <= SAFE_INTEGER)
    ):
        raise FilterError(f"the number {operand!r} is out of range (at most {SAFE_INTEGER} in size)")
    for family, types in (("boolean", bool), ("number", (int, float)), ("text", str), ("time", dt.date)):
        if isinstance(operand, types):
            return family
    raise FilterError(f"{operand!r} cannot be compared")


def _check_spatial(node) -> None:
    sides = [node.lhs, node.rhs]
    names = [s.name for s in sides if isinstance(s, ast.Attribute)]
    literals = [s for s in sides if isinstance(s, (values.Geometry, values.Envelope))]
    if names != [GEOMETRY_PROPERTY] or len(literals) != 1:
        raise FilterError(f"spatial functions compare the property {GEOMETRY_PROPERTY!r} with a geometry")


def _check_temporal(operand, fields) -> None:
    bounds = [operand.start, operand.end] if isinstance(operand, values.Interval) else [operand]
    for bound in bounds:
        if bound is not None and _family(bound, fields) != "time":
            raise FilterError("temporal functions compare dates and timestamps only")


def transform_geometries(node, transform) -> None:
    """Apply transform (shapely geometry -> shapely geometry) to every geometry literal, in place."""
    if isinstance(node, ast.SpatialComparisonPredicate):
        for side in ("lhs", "rhs"):
            literal = getattr(node, side)
            if isinstance(literal, (values.Geometry, values.Envelope)):
                setattr(node, side, transform(literal_shape(literal)))
    elif isinstance(node, ast.Node):
        for child in node.get_sub_nodes():
            transform_geometries(child, transform)


def literal_shape(literal):
    """A shapely geometry from a geometry or envelope literal: 2D, valid, not empty."""
    try:
        shape = shapely.from_geojson(orjson.dumps(literal.geometry))
    except (shapely.errors.GEOSException, TypeError, ValueError) as error:
        raise FilterError(f"not a geometry: {error}") from None
    if shape.has_z or shape.is_empty or not shape.is_valid:
        reason = "3D" if shape.has_z else "empty" if shape.is_empty else shapely.is_valid_reason(shape)
        raise FilterError(f"the geometry is not a valid 2D geometry ({reason})")
    return shape
