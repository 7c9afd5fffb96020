"""Webhooks: every change a subscription asks for and may know of, sent to its URL as a Standard
Webhooks message (webhook-id, webhook-timestamp, webhook-signature: HMAC-SHA256 with the
subscription's secret). At least once and in order per subscription: a change is queued in the
store's outbox, a failed delivery is tried again after a wait that doubles each time, for as long as
the policy says, and then marked failed; later changes wait their turn. The same change always
carries the same webhook-id, so a receiver recognises one it had.

Only hosts on the policy's allow-list are called, at the address checked (no redirects followed,
short time-outs, at most a few KiB of an answer read): no request of the service can be turned
against the network it runs in."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import orjson
from standardwebhooks.webhooks import Webhook

from geoservice.domain.model import MODERATOR, PLANNER
from geoservice.domain.policy import Webhooks
from geoservice.store import Store, changes, private, shared, subscriptions
from geoservice.store.subscriptions import DELIVERED, FAILED, WAITING, Delivery, Subscription

BATCH = 500  # changes read from the log at a time
WORKERS = 8  # subscriptions worked on at once
BATCH_SENT = 50  # deliveries of one subscription sent before their outcomes are recorded
ANSWER_READ = 4096  # bytes of a receiver's answer read at most
LONGEST_WAIT_S = 6 * 3600  # between two attempts, however often one failed


class Refused(ValueError):
    """A callback address the service does not call."""


# -- where a callback may go ----------------------------------------------------------------------
def check_url(url: str, rules: Webhooks) -> None:
    """Refused for an address that is not http(s) to a host on the allow-list."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("url: expected an http or https address")
    if parts.username or parts.password:
        raise Refused("url: no user name or password in the address")
    if not _listed(parts.hostname, rules.toegestane_hosts):
        raise Refused(f"url: {parts.hostname} is not on the service's list of hosts that webhooks may call")


def destination(url: str, rules: Webhooks) -> str:
    """The address to connect to: the host's, checked now (a name may point elsewhere tomorrow);
    a loopback, private or otherwise special address only when it is listed itself."""
    check_url(url, rules)
    host = urlsplit(url).hostname
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    except OSError as error:
        raise Refused(f"{host}: cannot be resolved ({error})") from None
    for address in sorted(found):
        if not ipaddress.ip_address(address).is_global and not _listed(address, rules.toegestane_hosts, True):
            raise Refused(f"{host} resolves to {address}, which is not a public address and not listed")
    return sorted(found)[0]


def _listed(host: str, allowed: tuple[str, ...], addresses_only: bool = False) -> bool:
    """Whether a host name or address is on the list (names exactly, addresses also in a network)."""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return not addresses_only and host in allowed
    for entry in allowed:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


# -- what a subscription hears --------------------------------------------------------------------
def concerns(subscription: Subscription, change: changes.Change, store: Store) -> bool:
    """Whether a change is what the subscription asks for, and the subscriber may know of it."""
    if subscription.kinds is not None and change.kind not in subscription.kinds:
        return False
    if subscription.area is not None and change.areas is not None and subscription.area not in change.areas:
        return False
    if subscription.objects is not None and not (
        change.collection == "voorstellen" and set(change.ids) & set(subscription.objects)
    ):
        return False
    return change.public or _entitled(subscription, change, store)


def _entitled(subscription: Subscription, change: changes.Change, store: Store) -> bool:
    """Unpublished changes: the municipality hears of all, a participation client of its own."""
    if subscription.role in (PLANNER, MODERATOR):
        return True
    return change.collection == "voorstellen" and all(
        private.client_of(store, fid) == subscription.client for fid in change.ids
    )


def message(base: str, change: changes.Change) -> str:
    """The body of a message about a change (the same for every attempt)."""
    items = f"{base}/collections/{change.collection}/items"
    return orjson.dumps(
        {
            "type": f"{change.collection}.{change.kind}",
            "timestamp": change.moment,
            "data": {
                "collectie": change.collection,
                "ids": change.ids,
                "soort": change.kind,
                "gebieden": None if change.areas is None else sorted(change.areas),
                "openbaar": change.public,
                "volgnummer": change.sequence,
                "links": [f"{items}/{fid}" for fid in change.ids],
            },
        }
    ).decode()


def message_id(subscription: Subscription, sequence: int) -> str:
    return f"msg_wijkplan_{subscription.id}_{sequence}"


# -- the work ---------------------------------------------------------------------------------------
class Dispatcher:
    """Queues and delivers the messages of every subscription; one process works on a subscription
    at a time (a lease in the store), so several service processes may each run one."""

    def __init__(self, store: Store, rules: Webhooks, base: str):
        self.store, self.rules, self.base = store, rules, base.rstrip("/")
        self.holder = uuid.uuid4().hex
        self.lease_s = 3 * rules.time_out_s + 5
        self.http = httpx.Client(
            follow_redirects=False,
            timeout=rules.time_out_s,
            trust_env=False,
            limits=httpx.Limits(max_connections=WORKERS),
        )
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="webhooks")

    def round(self) -> None:
        """Queue what is new for every subscription and deliver what is due, several subscriptions
        at a time (each one's messages in order)."""
        last, due = changes.last(self.store), subscriptions.with_due_deliveries(self.store)
        busy = [s for s in subscriptions.every(self.store) if s.sequence < last or s.id in due]
        list(self.pool.map(self._work_on, busy))

    def _work_on(self, subscription: Subscription) -> None:
        if not shared.claim(self.store, subscriptions.lease(subscription.id), self.holder, self.lease_s):
            return
        try:
            self._queue(subscription)
            self._deliver(subscription)
        finally:
            shared.release(self.store, subscriptions.lease(subscription.id), self.holder)

    def _queue(self, subscription: Subscription) -> None:
        while found := changes.since(self.store, subscription.sequence, BATCH):
            messages = [
                (change.sequence, message_id(subscription, change.sequence), message(self.base, change))
                for change in found
                if concerns(subscription, change, self.store)
            ]
            subscriptions.queue(self.store, subscription, messages, found[-1].sequence)
            subscription = subscriptions.find(self.store, subscription.id)

    def _deliver(self, subscription: Subscription) -> None:
        """Deliver the waiting messages in order, until one is not due or fails. Outcomes are
        recorded a batch at a time: after a crash the unrecorded ones go again, with their ids."""
        claimed = time.monotonic()
        while batch := subscriptions.waiting(self.store, subscription.id, BATCH_SENT):
            if time.monotonic() - claimed > self.lease_s / 2:
                if not shared.claim(self.store, subscriptions.lease(subscription.id), self.holder, self.lease_s):
                    return
                claimed = time.monotonic()
            outcomes = self._send_in_order(subscription, batch)
            if outcomes:
                subscriptions.record(self.store, subscription.id, outcomes)
            if not outcomes or len(outcomes) < len(batch) or outcomes[-1][1] == WAITING:
                return

    def _send_in_order(self, subscription: Subscription, batch: list[Delivery]) -> list[tuple]:
        """Send the due deliveries of a batch in order, up to the first that fails."""
        outcomes = []
        for delivery in batch:
            now = dt.datetime.now(dt.UTC)
            if _moment(delivery.next_attempt) > now:
                break
            error = self._send(subscription, delivery)
            status, retry = self._outcome(delivery, error, now)
            outcomes.append((delivery, status, error, retry))
            if status == WAITING:
                break
        return outcomes

    def _outcome(self, delivery: Delivery, error: str | None, now: dt.datetime) -> tuple[str, dt.datetime]:
        """Delivered; or tried again after a wait that doubles; or, tried long enough, failed."""
        if error is None:
            return DELIVERED, now
        first = _moment(delivery.first_attempt) if delivery.first_attempt else now
        if now - first >= dt.timedelta(hours=self.rules.proberen_uren):
            return FAILED, now
        wait = min(LONGEST_WAIT_S, self.rules.eerste_wachttijd_s * 2**delivery.attempts)
        return WAITING, now + dt.timedelta(seconds=wait)

    def _send(self, subscription: Subscription, delivery: Delivery) -> str | None:
        """One attempt; None when the receiver took it (2xx), else what went wrong."""
        try:
            address = destination(subscription.url, self.rules)
        except Refused as refused:
            return str(refused)
        parts = urlsplit(subscription.url)
        host = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{host}:{parts.port or (443 if parts.scheme == 'https' else 80)}")
        moment = dt.datetime.now(dt.UTC)
        headers = {
            "Host": parts.netloc,
            "Content-Type": "application/json",
            "User-Agent": "wijkplan-geoservice",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(subscription.secret).sign(delivery.message_id, moment, delivery.body),
        }
        try:
            with self.http.stream(
                "POST",
                target.geturl(),
                content=delivery.body.encode(),
                headers=headers,
                extensions={"sni_hostname": parts.hostname},
            ) as answer:
                _read_a_little(answer)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"[:500]
        return None if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def _read_a_little(answer: httpx.Response) -> None:
    """Read at most ANSWER_READ bytes of an answer (a receiver cannot make the service read more)."""
    read = 0
    for chunk in answer.iter_raw():
        read += len(chunk)
        if read >= ANSWER_READ:
            return


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
