"""Bearer tokens of the clients that may write, kept as SHA-256 hashes in a YAML file."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
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
    """The known clients, by the hash of their token. The file is read again when it has changed,
    so a token issued or revoked counts at once, in every process, without a restart."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._read_as = self._stamp()  # (modified, size, inode) of the file as last read
        self._clients = self._read()  # a file that cannot be read stops the service starting
        self._lock = threading.Lock()

    def identify(self, authorization: str | None) -> Client:
        """The client behind an Authorization header; Unauthorized when there is none."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a bearer token is required")
        hashed = digest(token.strip())
        for known, client in self._current().items():
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
        written = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        written.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        os.replace(written, self.path)  # readers see the old file or the new one, never half
        return token

    def _current(self) -> dict[str, Client]:
        """The clients of the file as it is now (read again only when it changed; a file that
        cannot be read leaves the clients read before)."""
        stamp = self._stamp()
        if stamp == self._read_as:
            return self._clients
        with self._lock:
            if stamp != self._read_as:
                try:
                    self._clients = self._read()
                except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
                    return self._clients  # a file being written, or broken: the clients read before
                self._read_as = stamp
        return self._clients

    def _stamp(self) -> tuple | None:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_size, status.st_ino

    def _read(self) -> dict[str, Client]:
        if not self.path.exists():
            return {}
        entries = (yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}).get("tokens") or []
        return {e["sha256"]: Client(e["name"], e["role"]) for e in entries}
