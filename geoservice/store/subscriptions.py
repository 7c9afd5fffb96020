"""Webhook subscriptions and their outbox, in the store itself: a delivery is written (with the
body it will carry) in the same transaction that moves the subscription's place in the change log,
so a change is queued exactly once per subscription and survives a crash until it is delivered or
has failed for good. A subscription is worked on by one process at a time (its lease)."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass

import orjson

from geoservice.domain.validation import format_datetime
from geoservice.store import changes

TABLES = (
    "CREATE TABLE IF NOT EXISTS abonnementen (id {serial}, client TEXT NOT NULL, rol TEXT NOT NULL, "
    "url TEXT NOT NULL, gebied TEXT, soorten TEXT, objecten TEXT, geheim TEXT NOT NULL, aangemaakt TEXT NOT NULL, "
    "volgnummer BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS afleveringen (abonnement BIGINT NOT NULL, volgnummer BIGINT NOT NULL, "
    "bericht TEXT NOT NULL, inhoud TEXT NOT NULL, status TEXT NOT NULL, pogingen INTEGER NOT NULL, "
    "eerste_poging TEXT, volgende_poging TEXT NOT NULL, laatste_fout TEXT, afgeleverd TEXT, "
    "PRIMARY KEY (abonnement, volgnummer))",
    "CREATE INDEX IF NOT EXISTS afleveringen_wacht ON afleveringen (status, volgende_poging)",
)
NAMES = ("abonnementen", "afleveringen")
KEPT_IN_BACKUPS = ("abonnementen",)  # the outbox belongs to the change log of its own store
WAITING, DELIVERED, FAILED = "wacht", "afgeleverd", "mislukt"
COLUMNS = "id, client, rol, url, gebied, soorten, objecten, geheim, aangemaakt, volgnummer"
DELIVERY_COLUMNS = (
    "volgnummer, bericht, inhoud, status, pogingen, eerste_poging, volgende_poging, laatste_fout, afgeleverd"
)


@dataclass(frozen=True)
class Subscription:
    """Who subscribed (client, role), where to, to what (area, kinds of change, proposals), with
    which secret, and how far in the change log it has been queued."""

    id: int
    client: str
    role: str
    url: str
    area: str | None
    kinds: tuple[str, ...] | None
    objects: tuple[int, ...] | None
    secret: str
    created: str
    sequence: int

    def public(self) -> dict:
        """As its owner sees it (without the secret)."""
        return {"id": self.id, "url": self.url, "gebied": self.area, "soorten": _list(self.kinds),
                "objecten": _list(self.objects), "aangemaakt": self.created}  # fmt: skip


@dataclass(frozen=True)
class Delivery:
    """One change on its way to one subscriber."""

    sequence: int
    message_id: str
    body: str
    status: str
    attempts: int
    first_attempt: str | None
    next_attempt: str
    last_error: str | None
    delivered: str | None

    def public(self) -> dict:
        return {"volgnummer": self.sequence, "bericht": self.message_id, "status": self.status,
                "pogingen": self.attempts, "eerste_poging": self.first_attempt,
                "volgende_poging": self.next_attempt if self.status == WAITING else None,
                "laatste_fout": self.last_error, "afgeleverd": self.delivered}  # fmt: skip


def create_tables(tx, types: dict) -> None:
    for statement in TABLES:
        tx.execute(statement.format(serial=types["serial"]))


def subscribe(store, client: str, role: str, url: str, area, kinds, objects) -> Subscription:
    """A new subscription from the current end of the change log, with a fresh secret."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()  # as Standard Webhooks writes it
    moment = format_datetime(dt.datetime.now(dt.UTC))
    with store.transaction() as tx:
        start = tx.execute(f"SELECT coalesce(max(volgnummer), 0) FROM {changes.TABLE}").fetchall()[0][0]
        [(fid,)] = tx.execute(
            "INSERT INTO abonnementen (client, rol, url, gebied, soorten, objecten, geheim, aangemaakt, volgnummer) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (client, role, url, area, _json(kinds), _json(objects), secret, moment, start),
        ).fetchall()
    return Subscription(fid, client, role, url, area, kinds, objects, secret, moment, start)


def every(store) -> list[Subscription]:
    return [_subscription(row) for row in store.read(f"SELECT {COLUMNS} FROM abonnementen ORDER BY id")]


def find(store, subscription_id: int) -> Subscription | None:
    rows = store.read(f"SELECT {COLUMNS} FROM abonnementen WHERE id = ?", (subscription_id,))
    return _subscription(rows[0]) if rows else None


def cancel(store, subscription_id: int) -> None:
    """The subscription and its outbox gone."""
    with store.transaction() as tx:
        tx.execute("DELETE FROM afleveringen WHERE abonnement = ?", (subscription_id,))
        tx.execute("DELETE FROM abonnementen WHERE id = ?", (subscription_id,))


def continue_from_end(tx) -> None:
    """In a store just restored: every subscription goes on from the end of its change log."""
    last = tx.execute(f"SELECT coalesce(max(volgnummer), 0) FROM {changes.TABLE}").fetchall()[0][0]
    tx.execute("UPDATE abonnementen SET volgnummer = ?", (last,))


def lease(subscription_id: int) -> str:
    """The name of the lease on a subscription's deliveries (see store.shared)."""
    return f"abonnement/{subscription_id}"


def queue(store, subscription: Subscription, messages: list[tuple[int, str, str]], reached: int) -> None:
    """Queue messages (sequence number, message id, body) and move the subscription to reached,
    in one transaction, and only from where it was (a second queuer changes nothing)."""
    moment = format_datetime(dt.datetime.now(dt.UTC))
    with store.transaction() as tx:
        moved = tx.execute(
            "UPDATE abonnementen SET volgnummer = ? WHERE id = ? AND volgnummer = ? RETURNING id",
            (reached, subscription.id, subscription.sequence),
        ).fetchall()
        if moved:
            for sequence, message_id, body in messages:
                tx.execute(
                    "INSERT INTO afleveringen (abonnement, volgnummer, bericht, inhoud, status, pogingen, "
                    "volgende_poging) VALUES (?, ?, ?, ?, ?, 0, ?)",
                    (subscription.id, sequence, message_id, body, WAITING, moment),
                )


def waiting(store, subscription_id: int, count: int) -> list[Delivery]:
    """The oldest deliveries still waiting, in order (deliveries go in order)."""
    rows = store.read(
        f"SELECT {DELIVERY_COLUMNS} FROM afleveringen WHERE abonnement = ? AND status = ? ORDER BY volgnummer LIMIT ?",
        (subscription_id, WAITING, count),
    )
    return [Delivery(*row) for row in rows]


def with_due_deliveries(store) -> set[int]:
    """The subscriptions with a delivery waiting whose time has come."""
    now = format_datetime(dt.datetime.now(dt.UTC))
    rows = store.read("SELECT DISTINCT abonnement FROM afleveringen WHERE status = ? AND volgende_poging <= ?",
                      (WAITING, now))  # fmt: skip
    return {row[0] for row in rows}


def recent(store, subscription_id: int, count: int = 50) -> list[Delivery]:
    rows = store.read(
        f"SELECT {DELIVERY_COLUMNS} FROM afleveringen WHERE abonnement = ? ORDER BY volgnummer DESC LIMIT ?",
        (subscription_id, count),
    )
    return [Delivery(*row) for row in rows]


def record(store, subscription_id: int, outcomes: list[tuple[Delivery, str, str | None, dt.datetime]]) -> None:
    """The outcomes of attempts, in one transaction: (delivery, status, error, next attempt) each,
    delivered, failed for good, or to be tried again then."""
    now = format_datetime(dt.datetime.now(dt.UTC))
    with store.transaction() as tx:
        for delivery, status, error, next_attempt in outcomes:
            tx.execute(
                "UPDATE afleveringen SET status = ?, pogingen = pogingen + 1, "
                "eerste_poging = coalesce(eerste_poging, ?), volgende_poging = ?, laatste_fout = ?, afgeleverd = ? "
                "WHERE abonnement = ? AND volgnummer = ?",
                (status, now, format_datetime(next_attempt), error, now if status == DELIVERED else None,
                 subscription_id, delivery.sequence),
            )  # fmt: skip


def _subscription(row) -> Subscription:
    fid, client, role, url, area, kinds, objects, secret, created, sequence = row
    return Subscription(fid, client, role, url, area, _tuple(kinds), _tuple(objects), secret, created, sequence)


def _json(values) -> str | None:
    return None if values is None else orjson.dumps(list(values)).decode()


def _tuple(stored: str | None) -> tuple | None:
    return None if stored is None else tuple(orjson.loads(stored))


def _list(values) -> list | None:
    return None if values is None else list(values)
