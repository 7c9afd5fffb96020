"""GET /status: how current what the service derives and publishes is, for operators to alert on:
the change log's last change, the change the maps reflect and how long the oldest change they do
not show yet has waited, and the stamps of the derived collections."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from geoservice.api.http import json_response
from geoservice.api.threads import in_thread
from geoservice.derived import derivation
from geoservice.publish import follower
from geoservice.store import Store


def document(store: Store, maps: Path) -> dict:
    number, moment = follower.latest(store)
    derived = {name: derivation.stamp(store, name) for name in derivation.DERIVED}
    return {
        "wijzigingen": {"volgnummer": number, "tijdstip": moment or None},
        "kaarten": follower.lag(store, maps),
        "afgeleid": {
            name: None if stamp is None else {"volgnummer": stamp.sequence, "tijdstip": stamp.moment}
            for name, stamp in derived.items()
        },
    }


def endpoint(store: Store, maps: Path):
    async def status(request: Request) -> Response:
        return json_response(await in_thread(document, store, maps), headers={"Cache-Control": "no-store"})

    return status
