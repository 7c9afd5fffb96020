"""Writing features (OGC API - Features Part 4): create, replace, patch and delete, with the
lifecycle's rules for each role; the store announces each write in its change log."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from geoservice.api import bodies
from geoservice.api.http import caller_of
from geoservice.api.reading import Reading
from geoservice.api.rendering import (
    Pages,
    geojson_response,
)
from geoservice.api.threads import in_thread
from geoservice.derived import analysis
from geoservice.domain import lifecycle
from geoservice.domain.model import PARTICIPATION, VOORSTELLEN, Collection
from geoservice.domain.policy import Policy
from geoservice.participation.access import Access, Viewer
from geoservice.publish import geojson
from geoservice.query import params
from geoservice.store import Store, private


@dataclass
class Writing:
    """Answers to writes of a collection; the written feature is rendered as a reader sees it."""

    store: Store
    access: Access
    policy: Policy
    pages: Pages
    reading: Reading

    async def create(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "aanmaken")
        members = lifecycle.write_members(collection, actor.role, creating=True)
        properties, geometry, extra = await bodies.feature_body(request, members, partial=False)
        properties = lifecycle.as_submitted(collection, actor.role, properties)
        details = (
            [bodies.private_details(extra, self.policy.deelname.woning_raster_m)]
            if lifecycle.PRIVATE in extra
            else None
        )
        [new_id] = await in_thread(
            self.store.insert, collection.name, [(properties, geometry)], actor, details, None, bodies.note(extra)
        )
        response = await self._written(request, collection, new_id)
        if collection is VOORSTELLEN:
            similar = await in_thread(analysis.similar_proposals, self.store, self.policy, properties, geometry)
            response["vergelijkbaar"] = self.linked(similar)
        return geojson_response(
            response,
            params.output_crs(request.query_params),
            201,
            {"Location": self.pages.item_url(collection, new_id)},
        )

    async def replace(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=False)

    async def patch(self, request: Request, collection: Collection) -> Response:
        return await self._change(request, collection, partial=True)

    async def _change(self, request: Request, collection: Collection, partial: bool) -> Response:
        actor = self.access.actor(caller_of(request), collection, "wijzigen")
        feature_id = bodies.path_id(request, collection)
        members = lifecycle.write_members(collection, actor.role, creating=False)
        properties, geometry, extra = await bodies.feature_body(request, members, partial, feature_id)
        write, guard = self.store.replace if not partial else self.store.update, None
        if actor.role == PARTICIPATION:
            properties = lifecycle.as_submitted(collection, actor.role, properties, partial)
            if not partial:  # a participant replaces what they may set; the municipality's fields stay
                properties, write = lifecycle.participant_replacement(collection, properties), self.store.update
            guard = self._own(feature_id, actor.participant, lifecycle.EDITABLE_BY_SUBMITTER, "changed")
        await in_thread(write, collection.name, feature_id, properties, geometry, actor, bodies.note(extra), guard)
        written = await self._written(request, collection, feature_id)
        return geojson_response(written, params.output_crs(request.query_params))

    async def delete(self, request: Request, collection: Collection) -> Response:
        actor = self.access.actor(caller_of(request), collection, "verwijderen")
        feature_id = bodies.path_id(request, collection)
        guard = (
            self._own(feature_id, actor.participant, lifecycle.WITHDRAWABLE, "withdrawn")
            if actor.role == PARTICIPATION
            else None
        )
        await in_thread(self.store.delete, collection.name, feature_id, actor, None, guard)
        return Response(status_code=204)

    def _own(self, feature_id, participant: str, statuses: tuple, verb: str):
        """A check, inside the write, that a participant's proposal is theirs and in one of statuses."""

        def guard(current: dict) -> None:
            owns = private.owner_of(self.store, feature_id) == participant
            lifecycle.check_submitter_may(current, owns, statuses, verb, f"voorstellen/{feature_id}")

        return guard

    async def _written(self, request: Request, collection: Collection, feature_id) -> dict:
        """The feature as stored, for the one who wrote it."""
        target = params.output_crs(request.query_params)
        return await in_thread(self.reading.feature, collection, feature_id, target, Viewer(), True)

    def linked(self, proposals: list[dict]) -> list[dict]:
        """Duplicate hints with links to each proposal (GeoJSON and HTML)."""

        def links(proposal: dict) -> list[dict]:
            url = self.pages.item_url(VOORSTELLEN, proposal["id"])
            return [
                geojson.link(f"{url}?f=json", "item", geojson.GEOJSON, proposal["titel"]),
                geojson.link(f"{url}?f=html", "alternate", "text/html", proposal["titel"]),
            ]

        return [{**p, "links": links(p)} for p in proposals]
