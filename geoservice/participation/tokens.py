"""Bearer tokens of the clients that may write, kept as SHA-256 hashes in a YAML file."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from geoservice.domain.model import ROLES


class Unauthorized(Exception):
    """No valid token (401)."""


@dataclass(frozen=True)
class Client:
    name: str
    role: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def participant_key(client: str, participant: str) -> str:
    """What the store keeps of a participant: a hash of the client and its pseudonymous id."""
    return digest(f"{client}\n{participant}")


class Tokens:
    """The known clients, by the hash of their token."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        entries = []
        if self.path.exists():
            entries = (yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}).get("tokens") or []
        self._clients = {e["sha256"]: Client(e["name"], e["role"]) for e in entries}

    def identify(self, authorization: str | None) -> Client:
        """The client behind an Authorization header; Unauthorized when there is none."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required")
        hashed = digest(token.strip())
        for known, client in self._clients.items():
            if hmac.compare_digest(known, hashed):
                return client
        raise Unauthorized("unknown token")

    def issue(self, name: str, role: str) -> str:
        """A new token for a client: stores its hash, returns the token (shown once)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        token = secrets.token_urlsafe(32)
        document = yaml.safe_load(self.path.read_text(encoding="utf-8")) if self.path.exists() else None
        document = document or {}
        document.setdefault("tokens", []).append({"name": name, "role": role, "sha256": digest(token)})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        self._clients[digest(token)] = Client(name, role)
        return token
