"""Following without a token: the Atom feeds of the city, a wijk, a buurt, a project or a proposal,
and the calendars of a wijk or buurt; each with an ETag and Last-Modified, 304 when unchanged."""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from geoservice.api.bodies import number_id
from geoservice.api.caching import PUBLIC, body_etag, unchanged
from geoservice.api.http import HttpError
from geoservice.api.rendering import Pages, refuse_unknown_parameters
from geoservice.api.threads import in_thread
from geoservice.derived import derivation
from geoservice.domain.policy import Policy
from geoservice.publish import calendars, feeds
from geoservice.store import NotFound, Store, changes

ATOM = "application/atom+xml"
ICALENDAR = "text/calendar; charset=utf-8"
CACHED = 256  # feed pages kept per process, by what they depend on


@dataclass
class FollowingRoutes:
    store: Store
    policy: Policy
    pages: Pages
    publisher: str
    _cache: OrderedDict = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def city_feed(self, request: Request) -> Response:
        return await self._feed(request, feeds.Scope("stad"))

    async def feed(self, request: Request) -> Response:
        kind, key = request.path_params["kind"], request.path_params["key"]
        if kind not in feeds.SCOPES[1:]:
            raise NotFound(f"feeds/{kind[:40]}")
        if kind in feeds.FEATURES:
            key = number_id(key, kind)
        return await self._feed(request, feeds.Scope(kind, key))

    async def calendar(self, request: Request) -> Response:
        area, code = request.path_params["area"], request.path_params["code"]
        if area not in calendars.AREAS:
            raise NotFound(f"kalenders/{area[:40]}")
        language = self._language(request, ())
        body = await in_thread(calendars.calendar, self.store, area, code, self.pages.base(), language)
        return _answer(request, body, ICALENDAR, None, f"wijkplan-{code}.ics")

    async def _feed(self, request: Request, scope: feeds.Scope) -> Response:
        language = self._language(request, ("offset",))
        offset = _offset(request)
        body, newest = await in_thread(self._feed_page, scope, language, offset)
        return _answer(request, body, ATOM, newest, None)

    def _feed_page(self, scope: feeds.Scope, language: str, offset: int) -> tuple[bytes, dt.datetime | None]:
        """A page of a feed (in a worker thread), from the cache while nothing it shows changed."""
        derivation.refresh(self.store, self.policy, "koppelkansen")
        now = dt.datetime.now(feeds.TIME_ZONE)
        key = (scope, language, offset, changes.last(self.store), now.date())
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        found = feeds.entries(self.store, scope, now)
        feed = feeds.Feed(
            self.pages.base(),
            scope,
            feeds.title(self.store, scope, language),
            self.publisher,
            language,
            self._page_of(scope),
        )
        page = (feed.document(found, offset), found[0].updated if found else None)
        with self._lock:  # requests run in several threads
            self._cache[key] = page
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return page

    def _page_of(self, scope: feeds.Scope) -> str:
        """The page of what a feed follows."""
        if scope.kind == "stad":
            return f"{self.pages.base()}/"
        return f"{self.pages.base()}/collections/{scope.kind}/items/{scope.key}?f=html"

    def _language(self, request: Request, allowed: tuple[str, ...]) -> str:
        refuse_unknown_parameters(request, ("lang", *allowed))
        return self.pages.locale(request).language


def _offset(request: Request) -> int:
    text = request.query_params.get("offset", "0")
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise HttpError(400, "InvalidParameterValue", f"offset: {text[:40]!r} is not a number of entries")
    return int(text)


def _answer(request: Request, body: bytes, media_type: str, newest: dt.datetime | None, filename: str | None):
    """The document with its version headers, or 304 when the client holds it."""
    etag = body_etag(body)
    headers = {"ETag": etag, "Cache-Control": PUBLIC, "Vary": "Accept-Language"}
    modified = newest.timestamp() if newest else None
    if modified is not None:
        headers["Last-Modified"] = email.utils.formatdate(modified, usegmt=True)
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if unchanged(request, etag, modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)
