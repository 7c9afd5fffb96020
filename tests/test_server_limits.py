"""One client cannot stall everyone: the served service (a real uvicorn process) bounds request
heads, slow heads and bodies, silent connections, connections in all and per address, and the time
a read may take; its refusals are problems, and a failure does not break a kept-alive connection."""

import socket
import threading
import time
from multiprocessing.pool import ThreadPool

import httpx
import orjson
import pytest
import uvicorn
from conftest import CONFIG, NO_MAPS, POLICY, serving
from pgcluster import free_port
from starlette.testclient import TestClient

from geoservice.api.app import create_app
from geoservice.api.http import Guard
from geoservice.api.server import protocol
from geoservice.settings import Settings
from geoservice.store import QueryTimeout, Store

LIMITS = {"head_timeout_s": 0.5, "body_timeout_s": 0.5, "max_connections": 20, "connections_per_address": 10}


@pytest.fixture(scope="module")
def limited(demo_path, tmp_path_factory):
    with serving(str(demo_path), tmp_path_factory.mktemp("limited"), **LIMITS) as server:
        yield server


def _connect(server, source: str = "127.0.0.1") -> socket.socket:
    host, port = server.root.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5, source_address=(source, 0))
    return sock


def _answer(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or 5 s pass)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _status_and_problem(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    return int(head.split()[1]), orjson.loads(body)


def test_a_head_larger_than_16_kib_is_a_431(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /v1/conformance HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n")
        status, problem = _status_and_problem(_answer(sock))
    assert status == 431 and "16384 bytes" in problem["detail"]


def test_an_endless_header_is_cut_off(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /v1/conformance HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        with pytest.raises((BrokenPipeError, ConnectionResetError)):
            for _ in range(1000):
                sock.sendall(b"a" * 1024)
                time.sleep(0.001)


def test_a_head_that_does_not_arrive_in_time_is_a_408(limited):
    with _connect(limited) as sock:
        sock.sendall(b"GET /v1/conformance HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        status, problem = _status_and_problem(_answer(sock))
    assert status == 408 and "head" in problem["detail"] and time.monotonic() - started < 3


def test_a_silent_connection_is_closed(limited):
    with _connect(limited) as sock:
        started = time.monotonic()
        status, _ = _status_and_problem(_answer(sock))
    assert status == 408 and time.monotonic() - started < 3


def test_a_body_that_does_not_arrive_in_time_is_a_408(limited):
    with _connect(limited) as sock:
        sock.sendall(
            b"POST /v1/collections/voorstellen/vergelijkbaar HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/geo+json\r\nContent-Length: 1000\r\n\r\n{"type": '
        )
        status, problem = _status_and_problem(_answer(sock))
    assert status == 408 and "body" in problem["detail"]


def test_connections_beyond_the_limit_get_a_503(limited):
    held = [_connect(limited, f"127.0.0.{2 + n // 9}") for n in range(LIMITS["max_connections"])]
    try:
        response = httpx.get(f"{limited.url}/conformance")
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.headers["Content-Type"] == "application/problem+json"
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.2)
    assert httpx.get(f"{limited.url}/conformance").status_code == 200


def test_one_address_cannot_take_all_connections(limited):
    held = [_connect(limited, "127.0.0.9") for _ in range(LIMITS["connections_per_address"])]
    try:
        with _connect(limited, "127.0.0.9") as extra:
            assert _answer(extra) == b""  # closed at once
        assert httpx.get(f"{limited.url}/conformance").status_code == 200  # others are served
    finally:
        for sock in held:
            sock.close()


def test_a_refusal_keeps_the_connection_alive(limited):
    with httpx.Client() as client:
        assert client.get(f"{limited.url}/nergens").status_code == 404
        assert client.get(f"{limited.url}/collections/projecten/items", params={"limit": "x"}).status_code == 400
        response = client.get(f"{limited.url}/conformance")
        assert response.status_code == 200 and client._transport._pool.connections.__len__() == 1


def test_an_unexpected_failure_answers_and_keeps_the_connection():
    async def failing(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/kapot":
            raise RuntimeError("boom")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(Guard(failing), port=port, http=protocol(Settings()), log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            failed = client.get("/kapot")
            assert failed.status_code == 500 and failed.headers["Content-Type"] == "application/problem+json"
            assert failed.headers["X-Request-ID"] in failed.json()["detail"]
            assert "connection" not in failed.headers
            assert client.get("/goed").text == "ok"
            assert len(client._transport._pool.connections) == 1
    finally:
        server.should_exit = True
        thread.join()


def test_a_read_that_takes_too_long_is_stopped(store):
    slow = (
        "SELECT pg_sleep(2)"
        if "postgresql" in store.location
        else "WITH RECURSIVE c(x) AS (SELECT 1 "
        "UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) SELECT count(*) FROM c"
    )
    started = time.monotonic()
    with pytest.raises(QueryTimeout), store._within(0.2):
        store.read(slow)
    assert time.monotonic() - started < 1.5
    assert store.read("SELECT 1") == [(1,)]  # the next read has no budget


def test_a_read_over_budget_is_a_503(store_client, monkeypatch):
    def slow(self, query):
        raise QueryTimeout("the read took longer than 10 s")

    monkeypatch.setattr(Store, "query", slow)
    response = store_client.get(
        "/collections/projecten/items", params={"filter": "S_INTERSECTS(geometry, POINT(5.86 51.84))"}
    )
    assert response.status_code == 503 and "ask for less" in response.json()["detail"]


@pytest.mark.parametrize("threads", [1, 3])
def test_requests_work_on_the_store_no_more_at_once_than_the_limit(demo_store, tmp_path, monkeypatch, threads):
    """Beyond the limit, requests wait their turn in the event loop instead of taking turns at the
    GIL in more threads than there are cores."""
    active, most, lock = [0], [0], threading.Lock()
    original = Store.query

    def counted(self, query):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.02)  # long enough for the others to try
            return original(self, query)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(Store, "query", counted)
    settings = Settings(store=demo_store.location, config=CONFIG, policy=POLICY, maps=NO_MAPS,
                        downloads=str(tmp_path), url="http://testserver", threads=threads)  # fmt: skip
    with TestClient(create_app(settings, demo_store)) as client:
        paths = [f"/collections/projecten/items?limit=5&offset={n}" for n in range(24)]
        with ThreadPool(12) as pool:
            statuses = pool.map(lambda path: client.get(path).status_code, paths)
    assert statuses == [200] * 24
    assert most[0] == threads
