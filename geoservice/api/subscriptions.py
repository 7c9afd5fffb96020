"""Webhook subscriptions for token holders: POST /abonnementen answers with the subscription and
its secret; its owner (the same client) reads it with its recent deliveries and failures, or ends it."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from geoservice.api.bodies import json_body, number_id
from geoservice.api.http import HttpError, caller_of, json_response
from geoservice.api.threads import in_thread
from geoservice.domain.policy import Webhooks
from geoservice.participation.access import Access
from geoservice.participation.tokens import Client, Unauthorized
from geoservice.publish import webhooks
from geoservice.store import NotFound, Store, changes, subscriptions

MEMBERS = {"url", "gebied", "soorten", "objecten"}
KINDS = (changes.CREATED, changes.CHANGED, changes.DELETED, changes.SUPPORTED, changes.REACTED, changes.DERIVED,
         changes.RESTORED)  # fmt: skip
MAX_OBJECTS = 100
MAX_URL = 2000


@dataclass
class SubscriptionRoutes:
    store: Store
    access: Access
    rules: Webhooks
    base: str

    async def create(self, request: Request) -> Response:
        client = self._client(request)
        body = await json_body(request)
        url, area, kinds, objects = await in_thread(self._checked, body)
        subscription = await in_thread(
            subscriptions.subscribe, self.store, client.name, client.role, url, area, kinds, objects
        )
        location = f"{self.base}/abonnementen/{subscription.id}"
        return json_response({**subscription.public(), "secret": subscription.secret}, 201, {"Location": location})

    async def one(self, request: Request) -> Response:
        """GET or DELETE /abonnementen/{id}."""
        return await (self.cancel(request) if request.method == "DELETE" else self.show(request))

    async def show(self, request: Request) -> Response:
        subscription = await self._own(request)
        deliveries = await in_thread(subscriptions.recent, self.store, subscription.id)
        return json_response(
            {
                **subscription.public(),
                "afleveringen": [d.public() for d in deliveries],
                "mislukt": [d.public() for d in deliveries if d.status == subscriptions.FAILED],
            },
            headers={"Cache-Control": "private, no-store"},
        )

    async def cancel(self, request: Request) -> Response:
        subscription = await self._own(request)
        await in_thread(subscriptions.cancel, self.store, subscription.id)
        return Response(status_code=204)

    def _client(self, request: Request) -> Client:
        viewer = self.access.viewer(caller_of(request))
        if viewer.client is None:
            raise Unauthorized("a token is needed to subscribe")
        return viewer.client

    async def _own(self, request: Request) -> subscriptions.Subscription:
        """The subscription in the path, if the caller's client made it (else, as unknown, 404)."""
        client = self._client(request)
        subscription_id = number_id(request.path_params["subscription_id"], "abonnementen")
        subscription = await in_thread(subscriptions.find, self.store, subscription_id)
        if subscription is None or subscription.client != client.name:
            raise NotFound(f"abonnementen/{subscription_id}")
        return subscription

    def _checked(self, body) -> tuple[str, str | None, tuple | None, tuple | None]:
        """url, area, kinds and proposals of a subscription body; 400 naming what is wrong."""
        if not isinstance(body, dict):
            raise HttpError(400, "InvalidValue", "body: expected a JSON object")
        unknown = sorted(set(body) - MEMBERS)
        if unknown:
            raise HttpError(400, "InvalidValue", f"unknown member(s): {', '.join(unknown)}")
        url = body.get("url")
        if not isinstance(url, str) or len(url) > MAX_URL:
            raise HttpError(400, "InvalidValue", f"url: expected an address of at most {MAX_URL} characters")
        try:
            webhooks.check_url(url, self.rules)
        except webhooks.Refused as refused:
            raise HttpError(400, "InvalidValue", str(refused)) from None
        return url, self._area(body.get("gebied")), _kinds(body.get("soorten")), _objects(body.get("objecten"))

    def _area(self, code) -> str | None:
        if code is None:
            return None
        if isinstance(code, str) and len(code) <= 10:
            for area in ("wijken", "buurten"):
                try:
                    self.store.get(area, code)
                    return code
                except NotFound:
                    continue
        raise HttpError(400, "InvalidValue", f"gebied: {str(code)[:40]!r} is no wijk or buurt code of the service")


def _kinds(kinds) -> tuple[str, ...] | None:
    if kinds is None:
        return None
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        raise HttpError(400, "InvalidValue", f"soorten: expected a list of some of {', '.join(KINDS)}")
    return tuple(dict.fromkeys(kinds))


def _objects(objects) -> tuple[int, ...] | None:
    if objects is None:
        return None
    if (
        not isinstance(objects, list)
        or not 0 < len(objects) <= MAX_OBJECTS
        or any(type(o) is not int or not 0 < o < 2**53 for o in objects)
    ):
        raise HttpError(400, "InvalidValue", f"objecten: expected a list of 1 to {MAX_OBJECTS} proposal ids")
    return tuple(dict.fromkeys(objects))
