"""Webhooks end to end against a real receiver on a loopback port: subscribing, Standard Webhooks
signatures (verified with the standardwebhooks package), filters and who may hear what, receivers
that are down or refuse, hosts that are not allowed, and a service killed in the middle."""

import os
import shutil
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from conftest import POLICY, client_for, copy_store, serving
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from test_participation import PROPOSAL, feature, headers, path_of, publish, submit

from geoservice.domain.policy import Policy
from geoservice.ops import backup
from geoservice.participation.tokens import Tokens
from geoservice.publish.webhooks import Dispatcher
from geoservice.store import GeoPackageStore, subscriptions


class Receiver:
    """Records what it is sent; its mood decides the answer (ok, fail, redirect), after delay_s."""

    def __init__(self):
        self.received, self.mood, self.delay_s, self.elsewhere, self.started = [], "ok", 0.0, 0, 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                receiver.started += 1
                if self.path != "/hook":
                    receiver.elsewhere += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay_s)
                mood = receiver.mood
                if mood == "ok":
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response({"ok": 204, "fail": 503, "redirect": 302}[mood])
                if mood == "redirect":
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self) -> list[dict]:
        return [orjson.loads(body) for _, body in self.received]

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def _policy(tmp_path: Path, **webhooks) -> Path:
    document = yaml.safe_load(Path(POLICY).read_text())
    document["webhooks"] = {"toegestane_hosts": ["127.0.0.1"], "eerste_wachttijd_s": 0.05, "time_out_s": 2, **webhooks}
    path = tmp_path / "wijkplan.yml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture
def hooked(store, tokens_file, tmp_path):
    """The API on a store copy with webhooks to 127.0.0.1 allowed, and a second participation client."""
    tokens_path = tmp_path / "tokens.yml"
    shutil.copy(tokens_file[0], tokens_path)
    tokens = {**tokens_file[1], "participatie-2": Tokens(tokens_path).issue("test-participatie-2", "participatie")}
    policy = _policy(tmp_path)
    return (
        client_for(store, tokens_path, policy),
        tokens,
        Dispatcher(store, Policy.load(policy).webhooks, "http://testserver"),
    )


def _subscribe(client, tokens, role="planner", **body):
    response = client.post("/abonnementen", json=body, headers=headers(tokens, role))
    assert response.status_code == 201, response.text
    return response.json()


def signed_with(receiver: Receiver, secret: str) -> list[dict]:
    """The messages received whose signature checks with this secret (as a receiver checks them)."""
    webhook, found = Webhook(secret), []
    for hdrs, body in receiver.received:
        try:
            found.append(webhook.verify(body, {k: v for k, v in hdrs.items() if k.startswith("webhook-")}))
        except WebhookVerificationError:
            continue
    return found


def test_a_token_holder_subscribes_and_its_owner_alone_sees_and_ends_it(hooked, receiver):
    client, tokens, _ = hooked
    assert client.post("/abonnementen", json={"url": receiver.url}).status_code == 401
    made = _subscribe(client, tokens, "participatie", url=receiver.url, objecten=[1])
    assert made["secret"].startswith("whsec_") and made["objecten"] == [1]
    path = f"/abonnementen/{made['id']}"
    shown = client.get(path, headers=headers(tokens, "participatie"))
    assert shown.status_code == 200 and "secret" not in shown.json() and shown.json()["afleveringen"] == []
    assert client.get(path, headers=headers(tokens, "participatie-2")).status_code == 404
    assert client.delete(path, headers=headers(tokens, "planner")).status_code == 404
    assert client.delete(path, headers=headers(tokens, "participatie")).status_code == 204
    assert client.get(path, headers=headers(tokens, "participatie")).status_code == 404


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"url": "http://example.org/hook"}, "example.org is not on the service's list"),
        ({"url": "ftp://127.0.0.1/hook"}, "url: expected an http or https address"),
        ({"url": "http://user:pw@127.0.0.1/hook"}, "no user name or password"),
        ({"url": "http://127.0.0.1/hook", "gebied": "WK999999"}, "gebied"),
        ({"url": "http://127.0.0.1/hook", "soorten": ["alles"]}, "soorten"),
        ({"url": "http://127.0.0.1/hook", "objecten": ["1"]}, "objecten"),
        ({"url": "http://127.0.0.1/hook", "objecten": [True]}, "objecten"),
        ({"url": "http://127.0.0.1/hook", "geheim": "x"}, "unknown member(s): geheim"),
        ({"url": 5}, "url"),
        ([], "expected a JSON object"),
    ],
)
def test_a_bad_subscription_is_refused_naming_what_is_wrong(hooked, store, body, named):
    client, tokens, _ = hooked
    response = client.post("/abonnementen", json=body, headers=headers(tokens, "planner"))
    assert response.status_code == 400 and named in response.json()["detail"]
    assert store.read("SELECT count(*) FROM abonnementen")[0][0] == 0


def test_the_changes_of_an_area_arrive_signed_and_in_order(hooked, receiver):
    client, tokens, dispatcher = hooked
    made = _subscribe(client, tokens, url=receiver.url, gebied="WK026801")
    proposal = submit(client, tokens)  # in WK026801
    publish(client, tokens, path_of(proposal))
    planner = headers(tokens, "planner")
    far = client.get("/collections/projecten/items", params={"wijkcode": "WK026805", "limit": 1}).json()
    client.patch(f"/collections/projecten/items/{far['features'][0]['id']}", json={"properties": {"planjaar": 2031}},
                 headers=planner)  # fmt: skip
    dispatcher.round()
    messages = signed_with(receiver, made["secret"])
    assert len(messages) == len(receiver.received)
    assert [m["data"]["soort"] for m in messages if m["data"]["collectie"] == "voorstellen"] == ["aanmaken", "wijzigen"]
    assert all("WK026801" in m["data"]["gebieden"] for m in messages)
    sequence = [m["data"]["volgnummer"] for m in messages]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
    ids = [hdrs["webhook-id"] for hdrs, _ in receiver.received]
    assert ids == [f"msg_wijkplan_{made['id']}_{n}" for n in sequence]
    dispatcher.round()
    assert len(receiver.received) == len(messages)  # nothing twice


def test_unpublished_changes_reach_only_whoever_may_know(hooked, receiver):
    client, tokens, dispatcher = hooked
    secrets = {
        who: _subscribe(client, tokens, who, url=receiver.url)["secret"] for who in ("planner", "participatie-2")
    }
    own = _subscribe(client, tokens, "participatie", url=receiver.url)["secret"]
    submitted = submit(client, tokens)
    fid = submitted.json()["id"]
    dispatcher.round()
    heard = {name: [m for m in signed_with(receiver, secret) if fid in m["data"]["ids"]]
             for name, secret in {**secrets, "own": own}.items()}  # fmt: skip
    assert heard["planner"] and heard["own"] and not heard["participatie-2"]
    publish(client, tokens, path_of(submitted))
    dispatcher.round()
    later = [m for m in signed_with(receiver, secrets["participatie-2"]) if fid in m["data"]["ids"]]
    assert [m["data"]["openbaar"] for m in later] == [True]


def test_a_receiver_that_is_down_gets_everything_afterwards_in_order(hooked, receiver):
    client, tokens, dispatcher = hooked
    made = _subscribe(client, tokens, url=receiver.url, soorten=["aanmaken"])
    receiver.mood = "fail"
    for n in range(5):
        assert submit(client, tokens, feature({**PROPOSAL, "titel": f"Voorstel {n}"})).status_code == 201
        dispatcher.round()
    assert receiver.received == []
    receiver.mood = "ok"
    deadline = time.monotonic() + 30
    while len(receiver.received) < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
        dispatcher.round()
    sequence = [m["data"]["volgnummer"] for m in signed_with(receiver, made["secret"])]
    assert len(sequence) == 5 and sequence == sorted(sequence)
    deliveries = client.get(f"/abonnementen/{made['id']}", headers=headers(tokens, "planner")).json()["afleveringen"]
    assert {d["status"] for d in deliveries} == {"afgeleverd"} and max(d["pogingen"] for d in deliveries) > 1


def test_a_delivery_that_keeps_failing_is_marked_failed_and_the_next_one_goes(store, tokens_file, tmp_path, receiver):
    policy = _policy(tmp_path, proberen_uren=1 / 3600)  # a second
    client = client_for(store, tokens_file[0], policy)
    tokens, dispatcher = tokens_file[1], Dispatcher(store, Policy.load(policy).webhooks, "http://testserver")
    made = _subscribe(client, tokens, url=receiver.url, soorten=["aanmaken"])
    receiver.mood = "redirect"  # not followed: a failure
    submit(client, tokens)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dispatcher.round()
        shown = client.get(f"/abonnementen/{made['id']}", headers=headers(tokens, "planner")).json()
        if shown["mislukt"]:
            break
        time.sleep(0.2)
    [failed] = shown["mislukt"]
    assert failed["laatste_fout"] == "HTTP 302" and failed["pogingen"] >= 2 and receiver.elsewhere == 0
    receiver.mood = "ok"
    submit(client, tokens)
    dispatcher.round()
    assert len(receiver.received) == 1


def test_a_listed_name_that_points_at_a_loopback_address_is_not_called(store, tokens_file, tmp_path, receiver):
    policy = _policy(tmp_path, toegestane_hosts=["localhost"])
    client = client_for(store, tokens_file[0], policy)
    dispatcher = Dispatcher(store, Policy.load(policy).webhooks, "http://testserver")
    made = _subscribe(client, tokens_file[1], url=receiver.url.replace("127.0.0.1", "localhost"))
    submit(client, tokens_file[1])
    dispatcher.round()
    [waiting] = client.get(f"/abonnementen/{made['id']}", headers=headers(tokens_file[1], "planner")).json()[
        "afleveringen"
    ][-1:]
    assert receiver.received == [] and "not a public address and not listed" in waiting["laatste_fout"]


def test_a_service_killed_mid_delivery_delivers_after_restart(demo_path, tokens_file, tmp_path, receiver):
    """SIGKILL while a receiver holds a delivery open: after a restart every change arrives, a
    message that arrived twice with the same webhook-id."""
    location = str(copy_store(demo_path, tmp_path / "wijkplan.gpkg"))
    policy = _policy(tmp_path, time_out_s=1)
    options = {"tokens_path": tokens_file[0], "policy": policy, "webhooks_interval_s": 0.2}
    tokens = tokens_file[1]
    with serving(location, tmp_path, **options) as server:
        live = httpx.Client(base_url=server.url, timeout=10)
        made = _subscribe(live, tokens, url=receiver.url, soorten=["aanmaken"])
        receiver.delay_s = 3  # longer than the service waits: the first delivery is in flight when killed
        for n in range(3):
            submit(live, tokens, feature({**PROPOSAL, "titel": f"V{n}"}))
        deadline = time.monotonic() + 20
        while receiver.started == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(server.process.pid, signal.SIGKILL)  # the receiver holds the first delivery
        server.process.wait()
    receiver.delay_s = 0
    with serving(location, tmp_path, **options) as server:
        submit(httpx.Client(base_url=server.url, timeout=10), tokens, feature({**PROPOSAL, "titel": "V3"}))
        deadline = time.monotonic() + 30
        while len({m["data"]["volgnummer"] for m in receiver.messages()}) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
    messages = signed_with(receiver, made["secret"])
    numbers = [m["data"]["volgnummer"] for m in messages]
    assert len(messages) == len(receiver.received)
    assert len(set(numbers)) == 4 and numbers == sorted(numbers)
    ids = {hdrs["webhook-id"] for hdrs, _ in receiver.received}
    assert len(ids) == 4 and len(receiver.received) > 4  # the message delivered twice carried the same id


def test_a_restored_backup_keeps_its_subscriptions_which_hear_of_the_restore(hooked, store, tmp_path, receiver):
    client, tokens, _ = hooked
    made = _subscribe(client, tokens, url=receiver.url)
    backup.export(store, tmp_path / "backup.gpkg")
    restored = str(tmp_path / "restored.gpkg")
    backup.restore(tmp_path / "backup.gpkg", restored)
    again = GeoPackageStore(restored)
    [kept] = subscriptions.every(again)
    assert (kept.id, kept.secret, kept.url) == (made["id"], made["secret"], receiver.url)
    Dispatcher(again, Policy.load(_policy(tmp_path)).webhooks, "http://testserver").round()
    assert {m["data"]["soort"] for m in signed_with(receiver, made["secret"])} == {"herstellen"}
