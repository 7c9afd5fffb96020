"""OGC API - Tiles: the tile matrix sets, each collection's tilesets and their vector tiles.

Tiles are public: they show published features only (a tile matrix set, level, row or column not
served is a 404), carry a strong ETag from the collection's version in the change log (304
without making the tile) and are kept in memory per version.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass, field

import shapely
from starlette.requests import Request
from starlette.responses import Response

from geoservice import __version__
from geoservice.api.caching import SHARED, not_modified, strong_etag, unchanged
from geoservice.api.http import HttpError, json_response
from geoservice.api.rendering import Pages, collection_of, format_of, refuse_unknown_parameters
from geoservice.api.threads import in_thread
from geoservice.derived import derivation
from geoservice.domain.model import Collection
from geoservice.domain.policy import Policy
from geoservice.publish import tiles
from geoservice.query import crs
from geoservice.store import Store

CACHE_BYTES = 64 * 1024 * 1024  # tiles kept in memory, per process


@dataclass
class TileCache:
    """Tiles by (collection, version, tile matrix set, level, row, column), the least recently
    used dropped beyond a size in bytes."""

    most_bytes: int = CACHE_BYTES
    _tiles: collections.OrderedDict = field(default_factory=collections.OrderedDict)
    _bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            found = self._tiles.get(key)
            if found is not None:
                self._tiles.move_to_end(key)
            return found

    def put(self, key: tuple, tile: bytes) -> None:
        with self._lock:
            if key in self._tiles:
                return
            self._tiles[key] = tile
            self._bytes += len(tile)
            while self._bytes > self.most_bytes:
                _, dropped = self._tiles.popitem(last=False)
                self._bytes -= len(dropped)


@dataclass
class TileRoutes:
    """The tile matrix sets, the tilesets of each collection and their tiles."""

    store: Store
    policy: Policy
    pages: Pages
    cache: TileCache = field(default_factory=TileCache)

    async def matrix_sets(self, request: Request) -> Response:
        _json_asked(request)
        return json_response(tiles.matrix_sets(self.pages.base()))

    async def matrix_set(self, request: Request) -> Response:
        _json_asked(request)
        return json_response(tiles.matrix_set(_scheme(request)))

    async def tilesets(self, request: Request) -> Response:
        _json_asked(request)
        return json_response(tiles.tilesets(collection_of(request), self.pages.base()))

    async def tileset(self, request: Request) -> Response:
        refuse_unknown_parameters(request, ("f",))
        collection, tiling = collection_of(request), _scheme(request)
        wanted = request.query_params.get("f", "json")
        if wanted == "tilejson":
            bounds = await in_thread(self._bounds_crs84, collection)
            return json_response(tiles.tilejson(collection, tiling, self.pages.base(), bounds))
        if wanted != "json":
            raise HttpError(400, "InvalidParameterValue", f"f: {wanted!r} is not offered here; use json or tilejson")
        return json_response(tiles.tileset(collection, tiling, self.pages.base()))

    async def tile(self, request: Request) -> Response:
        refuse_unknown_parameters(request, ("f",))
        if request.query_params.get("f", "mvt") != "mvt":
            raise HttpError(400, "InvalidParameterValue", "f: tiles are offered as mvt only")
        collection, tiling = collection_of(request), _scheme(request)
        level, row, col = (_number(request, name) for name in ("level", "row", "col"))
        bounds = tiles.tile_bounds(tiling, level, row, col)
        headers, made = await in_thread(self._tile_unless_held, request, collection, tiling, (level, row, col), bounds)
        if made is None:
            return not_modified(headers)
        return Response(made, media_type=tiles.MVT, headers=headers)

    def _tile_unless_held(self, request: Request, collection: Collection, tiling, cell: tuple, bounds: tuple):
        """The tile's caching headers, and the tile (from the cache or made now) unless the client
        holds its current version (None)."""
        derivation.refresh(self.store, self.policy, collection.name)
        key = (collection.name, self.store.version(collection.name), tiling.id, *cell)
        headers = {"ETag": strong_etag(__version__, *key), **SHARED}
        if unchanged(request, headers["ETag"]):
            return headers, None
        made = self.cache.get(key)
        if made is None:
            made = tiles.tile(self.store, collection, tiling, bounds)
            self.cache.put(key, made)
        return headers, made

    def _bounds_crs84(self, collection: Collection) -> tuple | None:
        extent = self.store.extent(collection.name)
        if extent is None:
            return None
        return tuple(round(v, 6) for v in crs.from_storage(shapely.box(*extent), crs.CRS84).bounds)


def _json_asked(request: Request) -> None:
    """Refuse parameters other than f, and formats other than JSON."""
    refuse_unknown_parameters(request, ("f",))
    format_of(request, ("json",))


def _scheme(request: Request) -> tiles.TilingScheme:
    return tiles.scheme(request.path_params["tms"])


def _number(request: Request, name: str) -> int:
    text = request.path_params[name]
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise HttpError(404, "NotFound", f"{name} {text[:20]!r}: not a tile")
    return int(text)
