"""Reading a store: queries with counts (cached per table version) and time budgets, single
features, the areas that locate features, and the change log; and the read primitives a backend
provides."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
import shapely

from geoservice.domain.model import COLLECTIONS, FAMILIES, VOORSTELLEN, Collection
from geoservice.query.cql2sql import Dialect, Sql, to_sql
from geoservice.query.filters import published
from geoservice.query.selection import Page, Query
from geoservice.store import changes, counts, private
from geoservice.store.values import DECODED_KINDS, decode_value

COUNT_CACHE_SIZE = 512
DIMENSION = "dimensie"  # kept with the features of a mixed collection: 0 points, 1 lines, 2 areas


FeatureId = int | str  # a feature's number, or the code of an area (wijkcode, buurtcode)
Guard = Callable[[dict], None]  # sees a feature's current properties inside a write, and may refuse


class Transaction(Protocol):
    """A write transaction: SQL with ? marks, on both backends."""

    def execute(self, sql: str, params: Sequence = ()) -> Any: ...


class NotFound(KeyError):
    """No feature with that id in that collection."""


class QueryTimeout(Exception):
    """A read that took longer than its time budget (and was stopped)."""


class StoreReader:
    """What every reader of a store uses: selections of features as columns, in the storage CRS."""

    location: str  # the GeoPackage path or database URL, as open_store takes it

    def __init__(self):
        self._areas = None
        self._areas_version = None
        self._counts: OrderedDict = OrderedDict()
        self._counts_lock = threading.Lock()
        self._budget = threading.local()  # the deadline of the thread's read, if it has one

    # -- reading -----------------------------------------------------------------------
    def query(self, q: Query) -> Page:
        collection = COLLECTIONS[q.collection]
        where = self._where(collection, q.filter, q.published_only, q.owner)
        order = ", ".join([*(f'"{name}" {"ASC" if asc else "DESC"}' for name, asc in q.sortby), "fid"])
        selected = where if q.after is None else where + Sql(f" AND fid > {self.dialect(collection).mark}", (q.after,))
        with self._within(q.budget_s):
            rows = self._select(collection, selected, order, q.limit, q.offset) if q.limit != 0 else []
            if q.offset == 0 and q.after is None and (q.limit is None or len(rows) < q.limit):
                matched = len(rows)
            else:
                matched = self._number_matched(collection, where)
        return self._page(collection, rows, matched)

    @contextlib.contextmanager
    def _within(self, seconds: float | None) -> Iterator[None]:
        """Reads in the block stop (QueryTimeout) once they have taken `seconds`."""
        if seconds is None:
            yield
            return
        self._budget.deadline = time.monotonic() + seconds
        try:
            yield
        except Exception as error:
            if self._timed_out(error):
                raise QueryTimeout(f"the read took longer than {seconds:g} s") from None
            raise
        finally:
            self._budget.deadline = None

    def _remaining_s(self) -> float | None:
        """Seconds left of the thread's read budget (None: no budget)."""
        deadline = getattr(self._budget, "deadline", None)
        return None if deadline is None else deadline - time.monotonic()

    def get(
        self, collection_name: str, feature_id: FeatureId, published_only: bool = True, owner: str | None = None
    ) -> Page:
        """One feature by id; NotFound when it is not there (or not visible)."""
        collection = COLLECTIONS[collection_name]
        key = Sql(f"{self._key(collection)} = {self.dialect(collection).mark}", (feature_id,))
        where = self._where(collection, None, published_only, owner)
        rows = self._select(collection, Sql("(") + key + Sql(" AND ") + where + Sql(")"), "fid", 1, 0)
        if not rows:
            raise NotFound(f"{collection_name}/{feature_id}")
        return self._page(collection, rows, 1)

    def totals(self, q: Query, keys: tuple[str, ...], sums: tuple[str, ...] = ()) -> list[tuple]:
        """Per combination of the keys' values (none empty), in their order: how many features of
        the query there are, and the sums of the fields named in sums (0 where none has a value)."""
        collection = COLLECTIONS[q.collection]
        where = self._where(collection, q.filter, q.published_only, q.owner)
        columns = ", ".join(f'"{key}"' for key in keys)
        present = "".join(f' AND "{key}" IS NOT NULL' for key in keys)
        added = "".join(f', coalesce(sum("{name}"), 0)' for name in sums)
        return self._rows(
            f'SELECT {columns}, count(*){added} FROM "{collection.table}" WHERE {where.text}{present} '
            f"GROUP BY {columns} ORDER BY {columns}",
            where.params,
        )

    def count(self, collection_name: str) -> int:
        """All features of a collection, public or not."""
        return self.query(Query(collection_name, limit=0, published_only=False)).number_matched

    def _where(self, collection: Collection, filter_: object, published_only: bool, owner: str | None = None) -> Sql:
        dialect = self.dialect(collection)
        visible = to_sql(published(collection) if published_only else None, dialect)
        if owner is not None and published_only and collection.table == VOORSTELLEN.name:  # kept per proposal
            visible = Sql("(") + visible + Sql(" OR ") + private.owned_by(owner, dialect.mark) + Sql(")")
        if collection.family is not None:  # one geometry family of a mixed collection
            dimension = FAMILIES[collection.family].dimension
            visible = visible + Sql(f' AND "{DIMENSION}" = {dialect.mark}', (dimension,))
        return Sql("(") + to_sql(filter_, dialect) + Sql(" AND ") + visible + Sql(")")

    def _number_matched(self, collection: Collection, where: Sql) -> int:
        """How many features the condition selects: kept by the database for a whole counted table."""
        if collection.name in counts.COUNTED and where == self._where(collection, None, False):
            return counts.rows(self, collection.table)
        return self._cached_count(collection, where)

    def _cached_count(self, collection: Collection, where: Sql) -> int:
        """numberMatched, counted once per filter and version of the table."""
        key = (collection.table, where.text, where.params)
        version = self.version(collection.table)
        with self._counts_lock:
            cached = self._counts.get(key)
            if cached is not None and cached[0] == version:
                self._counts.move_to_end(key)
                return cached[1]
        matched = self._rows(f'SELECT count(*) FROM "{collection.table}" WHERE {where.text}', where.params)[0][0]
        with self._counts_lock:
            self._counts[key] = (version, matched)
            while len(self._counts) > COUNT_CACHE_SIZE:
                self._counts.popitem(last=False)
        return matched

    def _page(self, collection: Collection, rows: list, matched: int) -> Page:
        names = [f.name for f in collection.fields]
        properties = [dict(zip(names, row[2:])) for row in rows]
        for f in collection.fields:
            if f.kind in DECODED_KINDS:
                for p in properties:
                    p[f.name] = decode_value(f, p[f.name])
        if collection.id_field == "id":
            ids = [row[0] for row in rows]
        else:
            ids = [p[collection.id_field] for p in properties]
        return Page(ids, properties, self._decode_geometries([row[1] for row in rows]), matched)

    @staticmethod
    def _key(collection: Collection) -> str:
        return "fid" if collection.id_field == "id" else f'"{collection.id_field}"'

    # -- areas -------------------------------------------------------------------------
    def areas(self) -> tuple:
        """(buurtcodes, wijkcodes, STRtree of buurt geometries, municipality boundary), cached."""
        version = self.version("buurten")
        if self._areas is None or self._areas_version != version:
            page = self.query(Query("buurten", limit=1_000_000))
            geoms = page.geometries
            codes = np.array([p["buurtcode"] for p in page.properties], dtype=object)
            wijken = np.array([p["wijkcode"] for p in page.properties], dtype=object)
            boundary = shapely.union_all(geoms).buffer(0.5) if len(geoms) else None
            if boundary is not None:
                shapely.prepare(boundary)
            self._areas = codes, wijken, shapely.STRtree(geoms), boundary
            self._areas_version = version
        return self._areas

    def locate(self, geoms: np.ndarray) -> tuple[list, list]:
        """Buurtcode and wijkcode of each geometry: the buurt holding its representative point."""
        codes, wijken, tree, _ = self.areas()
        points = shapely.point_on_surface(np.asarray(geoms, dtype=object))
        geom_index, area_index = tree.query(points, predicate="intersects")
        first = np.full(len(points), -1)
        first[geom_index[::-1]] = area_index[::-1]
        outside = np.flatnonzero(first < 0)
        if len(outside):  # on the edge of the municipality: the nearest buurt
            first[outside] = tree.query_nearest(points[outside], all_matches=False)[1]
        return codes[first].tolist(), wijken[first].tolist()

    # -- the change log ------------------------------------------------------------------
    def changes_since(self, sequence: int, limit: int = 1000) -> list[changes.Change]:
        """The changes after a sequence number, oldest first."""
        return changes.since(self, sequence, limit)

    def last_change(self) -> int:
        """The sequence number of the latest change (0 before any)."""
        return changes.last(self)

    # -- what a backend provides for reading ---------------------------------------------
    def dialect(self, collection: Collection) -> Dialect:
        """How filters on this collection are written in the backend's SQL."""
        raise NotImplementedError

    def extent(self, collection_name: str) -> tuple[float, float, float, float] | None:
        """(minx, miny, maxx, maxy) of a collection in the storage CRS, None when empty."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def read(self, sql: str, params: Sequence = ()) -> list:
        """The rows of a query with ? marks."""
        raise NotImplementedError

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[StoreReader]:
        """Reads in the block, in this thread, all see the store as it was when it began."""
        raise NotImplementedError

    def _select(self, collection: Collection, where: Sql, order: str, limit: int | None, offset: int) -> list:
        """Rows (fid, geometry, *fields in model order)."""
        raise NotImplementedError

    def _timed_out(self, error: Exception) -> bool:
        """Whether the error is the backend stopping a read whose budget ran out."""
        raise NotImplementedError

    def vector_tile(
        self, collection_name: str, area, crs_uri: str, bounds: tuple, extent: int, buffer: int
    ) -> bytes | None:
        """A Mapbox Vector Tile of the published features in area (storage CRS), made by the
        database where it can (bounds in crs_uri; extent and buffer in tile units); None: the
        caller makes it from the features."""
        return None

    def version(self, table: str) -> int:
        """Changes whenever the table changes (for caches): its latest change in the change log."""
        return changes.version(self, table)

    def _rows(self, sql: str, params) -> list[tuple]:
        """The rows of a query written with the backend's marks."""
        raise NotImplementedError

    def _decode_geometries(self, raw: list) -> np.ndarray:
        raise NotImplementedError
