"""Participation beyond OGC API - Features: support, reactions and the duplicate check, on
/collections/voorstellen/items/{id}/steun, .../reacties and /collections/voorstellen/vergelijkbaar."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from geoservice.api import bodies
from geoservice.api.http import HttpError, caller_of, json_response
from geoservice.api.rendering import private_headers
from geoservice.api.routes import ServiceRoutes
from geoservice.api.threads import in_thread
from geoservice.derived import analysis
from geoservice.domain import lifecycle
from geoservice.domain.model import MODERATOR, PARTICIPATION, VOORSTELLEN
from geoservice.domain.validation import check_properties
from geoservice.store import participation


@dataclass
class ParticipationRoutes:
    """Support, reactions and duplicate hints, with the feature routes' access rules and helpers."""

    features: ServiceRoutes

    async def support(self, request: Request) -> Response:
        """GET: the count (and whether the participant supports it); POST adds, DELETE withdraws."""
        feature_id = self._id(request)
        store = self.features.store
        if request.method == "GET":
            viewer = self.features.access.viewer(caller_of(request))
            page = await in_thread(store.get, VOORSTELLEN.name, feature_id)
            answer = {"voorstel": feature_id, "steun": page.properties[0]["steun"]}
            if viewer.participant:
                answer["gesteund"] = await in_thread(participation.supported, store, feature_id, viewer.participant)
            return json_response(answer, headers=private_headers(viewer))
        actor = self.features.access.actor(caller_of(request), VOORSTELLEN, "steunen")
        write = participation.support if request.method == "POST" else participation.withdraw_support
        changed, count = await in_thread(write, store, feature_id, actor)
        return json_response(
            {"voorstel": feature_id, "steun": count, "gewijzigd": changed},
            status=201 if request.method == "POST" and changed else 200,
        )

    async def reactions(self, request: Request) -> Response:
        """GET: the published reactions (all of them for a moderator); POST: a new one, to be moderated."""
        feature_id = self._id(request)
        store = self.features.store
        if request.method == "GET":
            viewer = self.features.access.viewer(caller_of(request))
            await in_thread(store.get, VOORSTELLEN.name, feature_id)
            found = await in_thread(participation.reactions, store, feature_id, viewer.role == MODERATOR)
            return json_response({"voorstel": feature_id, "reacties": found}, headers=private_headers(viewer))
        actor = self.features.access.actor(caller_of(request), VOORSTELLEN, "reageren")
        body = await self._object(request, {"tekst"})
        reaction_id = await in_thread(participation.react, store, feature_id, actor, body.get("tekst"))
        url = f"{self.features.pages.item_url(VOORSTELLEN, feature_id)}/reacties/{reaction_id}"
        return json_response({"id": reaction_id, "voorstel": feature_id, "status": "ingediend"}, 201, {"Location": url})

    async def reaction(self, request: Request) -> Response:
        """PATCH {"status": "gepubliceerd" | "afgewezen"} of one reaction, by a moderator."""
        feature_id, reaction_id = self._id(request), self._id(request, "reaction_id")
        actor = self.features.access.actor(caller_of(request), VOORSTELLEN, "modereren")
        body = await self._object(request, {"status"})
        count = await in_thread(
            participation.moderate_reaction, self.features.store, feature_id, reaction_id, body.get("status"), actor
        )
        return json_response({"id": reaction_id, "voorstel": feature_id, "status": body["status"], "reacties": count})

    async def similar(self, request: Request) -> Response:
        """A dry run of a submission: what would be refused, and the similar published proposals nearby."""
        members = lifecycle.write_members(VOORSTELLEN, PARTICIPATION, creating=True)
        properties, geometry, _ = await bodies.feature_body(request, members, partial=False)
        properties = {"status": "ingediend", **properties}
        await in_thread(self._validate, properties, geometry)
        found = await in_thread(
            analysis.similar_proposals, self.features.store, self.features.policy, properties, geometry
        )
        return json_response({"vergelijkbaar": self.features.writing.linked(found)})

    def _validate(self, properties: dict, geometry) -> None:
        check_properties(VOORSTELLEN, properties)
        self.features.store.checked_geometries(VOORSTELLEN, [geometry])

    async def _object(self, request: Request, members: set) -> dict:
        body = await bodies.json_body(request)
        if not isinstance(body, dict) or set(body) - members:
            raise HttpError(400, "InvalidValue", f"body: expected an object with {', '.join(sorted(members))}")
        return body

    @staticmethod
    def _id(request: Request, key: str = "item_id") -> int:
        return bodies.number_id(request.path_params[key], "voorstellen" if key == "item_id" else "reacties")
