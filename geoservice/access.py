"""Who may do what: the roles of the service, the participant behind a participation client, and
the rate limits of writes.

The service is no identity provider. A participation client (a front end acting for residents)
authenticates its residents itself and names each by a pseudonymous id in the Participant-Id
header; the store keeps only a hash of client and id. Rate limits are kept in memory, per process.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from limits import parse, storage, strategies
from starlette.requests import Request

from .auth import Client, Tokens, Unauthorized, participant_key
from .http import HttpError
from .model import ANONYMOUS, MODERATOR, PARTICIPATION, PLANNER, Collection
from .policy import Policy
from .store.private import Actor

PARTICIPANT_HEADER = "Participant-Id"
MAX_PARTICIPANT_LENGTH = 200
STAFF = (PLANNER, MODERATOR)

# The write actions of each role; a participant changes and withdraws only their own proposals.
PERMISSIONS = {
    ("projecten", "aanmaken"): (PLANNER,),
    ("projecten", "wijzigen"): (PLANNER,),
    ("projecten", "verwijderen"): (PLANNER,),
    ("voorstellen", "aanmaken"): (PARTICIPATION, MODERATOR),
    ("voorstellen", "wijzigen"): (MODERATOR, PLANNER, PARTICIPATION),
    ("voorstellen", "verwijderen"): (MODERATOR, PARTICIPATION),
    ("voorstellen", "steunen"): (PARTICIPATION,),
    ("voorstellen", "reageren"): (PARTICIPATION,),
    ("voorstellen", "modereren"): (MODERATOR,),
}
LIMITED = {"aanmaken": "indienen", "steunen": "steunen", "reageren": "reageren"}


@dataclass(frozen=True)
class Viewer:
    """Who reads: the public (no client), a participant through a client, or the municipality."""

    client: Client | None = None
    participant: str | None = None

    @property
    def staff(self) -> bool:
        return self.client is not None and self.client.role in STAFF

    @property
    def role(self) -> str | None:
        return self.client.role if self.client else None


class Access:
    """Identifies clients and participants, checks permissions and rate limits."""

    def __init__(self, tokens: Tokens, policy: Policy):
        self.tokens, self.policy = tokens, policy
        self._limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        limits = policy.deelname.limieten
        self._limits = {"indienen": parse(f"{limits.indienen}/minute"), "steunen": parse(f"{limits.steunen}/minute"),
                        "reageren": parse(f"{limits.reageren}/minute"),
                        "anoniem": parse(f"{limits.anoniem_per_uur}/hour")}

    def viewer(self, request: Request) -> Viewer:
        """The reader: anonymous without an Authorization header; 401 for an unknown token."""
        if not request.headers.get("Authorization"):
            return Viewer()
        client = self._client(request)
        return Viewer(client, self._participant(request, client, required=False))

    def actor(self, request: Request, collection: Collection, action: str) -> Actor:
        """The writer, if the role may do the action here and is within its rate limit."""
        allowed = PERMISSIONS.get((collection.name, action), ())
        if not request.headers.get("Authorization") and self._anonymous_allowed(collection, action):
            self._limit(request, "anoniem", self._address(request))
            return Actor(ANONYMOUS, ANONYMOUS)
        client = self._client(request)
        if client.role not in allowed:
            raise HttpError(403, "Forbidden", f"role {client.role!r} may not {action} in {collection.name} "
                                              f"(allowed: {', '.join(allowed) or 'nobody'})")
        participant = self._participant(request, client, required=client.role == PARTICIPATION)
        if client.role == PARTICIPATION and action in LIMITED:
            self._limit(request, LIMITED[action], client.name)
        return Actor(client.role, client.name, participant)

    def _anonymous_allowed(self, collection: Collection, action: str) -> bool:
        return self.policy.deelname.anoniem_indienen and (collection.name, action) == ("voorstellen", "aanmaken")

    def _client(self, request: Request) -> Client:
        try:
            return self.tokens.identify(request.headers.get("Authorization"))
        except Unauthorized as error:
            raise HttpError(401, "Unauthorized", str(error), {"WWW-Authenticate": 'Bearer realm="wijkplan"'})

    @staticmethod
    def _participant(request: Request, client: Client, required: bool) -> str | None:
        given = (request.headers.get(PARTICIPANT_HEADER) or "").strip()
        if client.role != PARTICIPATION:
            return None
        if not given:
            if required:
                raise HttpError(400, "MissingParameterValue",
                                f"{PARTICIPANT_HEADER}: a participation client names the participant it acts for")
            return None
        if len(given) > MAX_PARTICIPANT_LENGTH:
            raise HttpError(400, "InvalidParameterValue", f"{PARTICIPANT_HEADER}: longer than "
                                                          f"{MAX_PARTICIPANT_LENGTH} characters")
        return participant_key(client.name, given)

    def _limit(self, request: Request, kind: str, who: str) -> None:
        limit = self._limits[kind]
        if not self._limiter.hit(limit, kind, who):
            reset = self._limiter.get_window_stats(limit, kind, who).reset_time
            wait = max(1, int(reset - time.time()) + 1)
            raise HttpError(429, "TooManyRequests", f"rate limit for {kind} reached ({limit}); try again later",
                            {"Retry-After": str(wait)})

    @staticmethod
    def _address(request: Request) -> str:
        """The caller's address as the limiter keeps it: hashed, never stored or logged."""
        host = request.client.host if request.client else ""
        return hashlib.sha256(host.encode()).hexdigest()
