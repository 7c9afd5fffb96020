"""Who may do what: the roles of the service, the participant behind a participation client, and
the rate limits of writes.

The service is no identity provider. A participation client (a front end acting for residents)
authenticates its residents itself and names each by a pseudonymous id in the Participant-Id
header; the store keeps only a hash of client and id. Rate limits are counted in the store, so they
hold across all processes serving it.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from limits import parse

from geoservice.domain.lifecycle import Forbidden
from geoservice.domain.model import ANONYMOUS, MODERATOR, PARTICIPATION, PLANNER, Collection
from geoservice.domain.policy import Policy
from geoservice.participation.tokens import Client, Tokens, participant_key
from geoservice.store import Store, shared
from geoservice.store.private import Actor

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


class InvalidParticipant(ValueError):
    """The participant named is missing or cannot be a participant id."""

    def __init__(self, message: str, missing: bool):
        super().__init__(message)
        self.missing = missing


class TooManyRequests(Exception):
    """A rate limit is reached; retry_after: seconds until the next write is allowed."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Caller:
    """What a request says about who sends it: its Authorization header, the Participant-Id
    header, and its address (used only, hashed, for the anonymous rate limit)."""

    authorization: str | None = None
    participant_id: str | None = None
    address: str = ""


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

    def __init__(self, tokens: Tokens, policy: Policy, store: Store):
        self.tokens, self.policy, self.store = tokens, policy, store
        limits = policy.deelname.limieten
        self._limits = {
            "indienen": parse(f"{limits.indienen}/minute"),
            "steunen": parse(f"{limits.steunen}/minute"),
            "reageren": parse(f"{limits.reageren}/minute"),
            "anoniem": parse(f"{limits.anoniem_per_uur}/hour"),
        }

    def viewer(self, caller: Caller) -> Viewer:
        """The reader: anonymous without an Authorization header; Unauthorized for an unknown token."""
        if not caller.authorization:
            return Viewer()
        client = self.tokens.identify(caller.authorization)
        return Viewer(client, self._participant(caller, client, required=False))

    def actor(self, caller: Caller, collection: Collection, action: str) -> Actor:
        """The writer, if the role may do the action here and is within its rate limit."""
        allowed = PERMISSIONS.get((collection.name, action), ())
        if not caller.authorization and self._anonymous_allowed(collection, action):
            self._limit("anoniem", _hashed(caller.address))
            return Actor(ANONYMOUS, ANONYMOUS)
        client = self.tokens.identify(caller.authorization)
        if client.role not in allowed:
            raise Forbidden(
                f"role {client.role!r} may not {action} in {collection.name} "
                f"(allowed: {', '.join(allowed) or 'nobody'})"
            )
        participant = self._participant(caller, client, required=client.role == PARTICIPATION)
        if client.role == PARTICIPATION and action in LIMITED:
            self._limit(LIMITED[action], client.name)
        return Actor(client.role, client.name, participant)

    def _anonymous_allowed(self, collection: Collection, action: str) -> bool:
        return self.policy.deelname.anoniem_indienen and (collection.name, action) == ("voorstellen", "aanmaken")

    @staticmethod
    def _participant(caller: Caller, client: Client, required: bool) -> str | None:
        given = (caller.participant_id or "").strip()
        if client.role != PARTICIPATION:
            return None
        if not given:
            if required:
                raise InvalidParticipant(
                    f"{PARTICIPANT_HEADER}: a participation client names the participant it acts for", missing=True
                )
            return None
        if len(given) > MAX_PARTICIPANT_LENGTH:
            raise InvalidParticipant(
                f"{PARTICIPANT_HEADER}: longer than {MAX_PARTICIPANT_LENGTH} characters", missing=False
            )
        return participant_key(client.name, given)

    def _limit(self, kind: str, who: str) -> None:
        limit = self._limits[kind]
        wait_s = shared.hit(self.store, f"{kind}/{who}", limit.amount, limit.get_expiry())
        if wait_s is not None:
            raise TooManyRequests(
                f"rate limit for {kind} reached ({limit}); try again later", retry_after=max(1, math.ceil(wait_s))
            )


def _hashed(address: str) -> str:
    """The caller's address as the limiter keeps it: hashed, never stored or logged."""
    return hashlib.sha256(address.encode()).hexdigest()
