"""The `geoservice` command: build the demo store, issue client tokens and serve the API."""

from __future__ import annotations

import argparse
import copy
import os
from pathlib import Path

from geoservice.domain.model import ROLES, TABLES
from geoservice.settings import MAPS_INTERVAL_S, PREFIX, Settings


def _log_config() -> dict:
    """Logging of the server and the service: failures with their request id, and an access line
    per request (request id, request line, status, time), never the caller's address."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"] = {"format": "%(asctime)s %(message)s"}
    config["loggers"]["geoservice"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    config["loggers"]["geoservice.access"] = {"handlers": ["access"], "level": "INFO", "propagate": False}
    return config


def _demo(args, settings: Settings) -> None:
    from geoservice.domain.policy import Policy
    from geoservice.ops import demo
    from geoservice.store import is_database, open_store, store_exists

    if store_exists(settings.store) and not args.force:
        if args.if_missing:
            return
        raise SystemExit(f"{settings.store} holds a store; use --force to replace it")
    if not is_database(settings.store):
        Path(settings.store).parent.mkdir(parents=True, exist_ok=True)
    demo.build(settings.store, Policy.load(settings.policy), seed=args.seed)
    store = open_store(settings.store)
    counts = ", ".join(f"{name} {store.count(name)}" for name in TABLES)
    where = "the database" if is_database(settings.store) else settings.store
    print(f"demo store written to {where}: {counts}")


def _maps(args, settings: Settings) -> None:
    import time

    from geoservice.domain.policy import Policy
    from geoservice.publish import follower
    from geoservice.store import open_store

    if args.follow:
        return _follow(settings, args.parent)
    started = time.perf_counter()
    written = follower.rebuild(open_store(settings.store), Policy.load(settings.policy), settings.maps, progress=True)
    pages = sum(path.suffix == ".html" for path in written)
    took = time.perf_counter() - started
    print(f"{pages} pages and {len(written) - pages} data files written to {settings.maps} in {took:.1f} s")


def _follow(settings: Settings, parent: int | None) -> None:
    """Keep the maps (every GEOSERVICE_MAPS_INTERVAL_S) and the derived collections (every
    GEOSERVICE_DERIVE_INTERVAL_S) current until stopped, or until the process that started this
    one is gone."""
    import logging.config
    import signal
    import threading

    from geoservice.domain.policy import Policy
    from geoservice.publish import background, follower
    from geoservice.store import open_store

    logging.config.dictConfig(_log_config())  # what it does goes to the service's log
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    store, policy = open_store(settings.store), Policy.load(settings.policy)
    work = [follower.map_follower(store, policy, settings.maps, settings.maps_interval_s or MAPS_INTERVAL_S)]
    if settings.derive_interval_s > 0:
        work.append(background.deriving(store, policy, settings.derive_interval_s))
    for each in work:
        each.start()
    while not stopped.wait(0.5):
        if parent is not None and os.getppid() != parent:
            break
    for each in work:
        each.stop()
    store.close()


def _start_follower(settings: Settings):
    """The background process of a service, beside the workers (however many): it follows the
    change log, keeping the maps current and deriving what is due; the workers share nothing with
    it but the store, and leave deriving in the background to it."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "geoservice.ops.cli", "maps", "--follow", "--parent", str(os.getpid())]
    started = subprocess.Popen(command)  # the settings reach it in the environment, as they reach the workers
    os.environ[f"{PREFIX}DERIVE_INTERVAL_S"] = "0"  # for the workers, started next
    return started


def _derive(args, settings: Settings) -> None:
    import time

    from geoservice.derived import derivation
    from geoservice.domain.policy import Policy
    from geoservice.store import open_store

    store, policy, started = open_store(settings.store), Policy.load(settings.policy), time.perf_counter()
    if args.whole:
        if not derivation.derive_whole(store, policy):
            raise SystemExit("another process is deriving the whole store now; try again when it is done")
    else:
        derivation.keep_up(store, policy)
    stamps = ", ".join(f"{name} to change {derivation.stamp(store, name).sequence}" for name in derivation.DERIVED)
    print(f"derived {stamps} in {time.perf_counter() - started:.1f} s")


def _export(args, settings: Settings) -> None:
    from geoservice.ops import backup
    from geoservice.store import open_store

    backup.export(open_store(settings.store), args.file)
    print(f"the store is copied to {args.file}")


def _restore(args, settings: Settings) -> None:
    from geoservice.ops import backup
    from geoservice.store import store_exists

    if store_exists(settings.store) and not args.force:
        raise SystemExit(f"{settings.store} holds a store; use --force to replace it")
    backup.restore(args.file, settings.store)
    print(f"the store is restored from {args.file}")


def _import(args, settings: Settings) -> None:
    from geoservice.domain.policy import Policy
    from geoservice.ops import importer
    from geoservice.publish import follower
    from geoservice.store import open_store

    store = open_store(settings.store)
    try:
        report = importer.load(
            store,
            args.file,
            args.collectie,
            importer.Mapping.load(args.mapping),
            args.skip_invalid,
            progress=True,
        )
    except importer.SourceError as error:
        raise SystemExit(str(error)) from None
    print("\n".join(report.lines()))
    if report.rejected and not args.skip_invalid:
        raise SystemExit("nothing stored: mend the rejected rows, or use --skip-invalid to store the others")
    rebuilt = follower.catch_up(store, Policy.load(settings.policy), settings.maps)
    if rebuilt:
        print(f"{len(rebuilt)} map files written in {settings.maps}")


def _serve(args, settings: Settings) -> None:
    """Serve in settings.workers processes, each reading these settings from the environment, and
    keep the maps and derived collections current in one more process (unless
    GEOSERVICE_MAPS_INTERVAL_S is 0: then each worker derives in the background itself)."""
    url = settings.url if "GEOSERVICE_URL" in os.environ else f"http://{settings.host}:{settings.port}"
    os.environ.update(settings.model_copy(update={"url": url}).environment())
    builder = _start_follower(settings) if settings.maps_interval_s > 0 else None
    try:
        _run_workers(settings)
    finally:
        if builder is not None:
            builder.terminate()
            builder.wait(timeout=10)


def _run_workers(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "geoservice.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        log_level="info",
        workers=settings.workers,
        log_config=_log_config(),
        access_log=False,
        http="geoservice.api.server:from_environment",
        timeout_keep_alive=settings.keep_alive_s,
    )


def _token(args, settings: Settings) -> None:
    from geoservice.participation.tokens import Tokens

    token = Tokens(settings.tokens).issue(args.name, args.role)
    print(f"token for {args.name} ({args.role}), shown only now; its hash is in {settings.tokens}:")
    print(token)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="geoservice", description=__doc__)
    top.add_argument("--store", help="GeoPackage file of the store (default: $GEOSERVICE_STORE or data/wijkplan.gpkg)")
    top.add_argument("--config", help="pygeoapi configuration (default: config/pygeoapi.yml)")
    top.add_argument("--tokens", help="hashed client tokens (default: config/tokens.yml)")
    top.add_argument("--policy", help="participation and analysis rules (default: config/wijkplan.yml)")
    top.add_argument("--maps", help="folder of the maps (default: data/maps)")
    commands = top.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the demo store from the CBS boundaries of Nijmegen")
    demo.add_argument("--seed", type=int, default=2024, help="seed of the generated plan and proposals")
    demo.add_argument("--force", action="store_true", help="replace an existing store")
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the store exists")
    demo.set_defaults(run=_demo)

    maps = commands.add_parser("maps", help="build the map of the municipality, of every wijk and of every buurt")
    maps.add_argument(
        "--follow",
        action="store_true",
        help="keep the maps and the derived collections current with the change log until stopped (what "
        "`serve` starts; run it yourself, once, beside services started with GEOSERVICE_MAPS_INTERVAL_S=0)",
    )
    maps.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # with --follow: stop when this process ends
    maps.set_defaults(run=_maps)

    derive = commands.add_parser(
        "derive", help="bring koppelkansen and the wijk summaries up to date (the service does so while it runs)"
    )
    derive.add_argument("--whole", action="store_true", help="derive them whole again, not only what changed")
    derive.set_defaults(run=_derive)

    load = commands.add_parser(
        "import", help="load wijken, buurten, projecten or voorstellen from GeoPackage, Shapefile, GeoJSON or CSV"
    )
    load.add_argument("file", help="the file to load")
    load.add_argument("--collectie", required=True, choices=["wijken", "buurten", "projecten", "voorstellen"])
    load.add_argument("--mapping", help="YAML: velden (field: column), vast (field: value), sleutel, laag, x, y, crs")
    load.add_argument("--skip-invalid", action="store_true", help="store the valid rows even when others are rejected")
    load.set_defaults(run=_import)

    export = commands.add_parser(
        "export", help="copy the whole store, consistently, to a GeoPackage (also while the service runs)"
    )
    export.add_argument("file", help="the GeoPackage to write")
    export.set_defaults(run=_export)
    restore = commands.add_parser(
        "restore", help="replace the store by a copy written by export (stop the service first)"
    )
    restore.add_argument("file", help="a GeoPackage written by export")
    restore.add_argument("--force", action="store_true", help="replace an existing store")
    restore.set_defaults(run=_restore)

    serve = commands.add_parser("serve", help="serve the OGC API under uvicorn")
    serve.add_argument("--host", help="address to listen on (default: GEOSERVICE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: GEOSERVICE_PORT or 5000)")
    serve.add_argument("--workers", type=int, help="processes serving requests (default: GEOSERVICE_WORKERS or 1)")
    serve.set_defaults(run=_serve)
    token = commands.add_parser("token", help="issue a bearer token for a client that may write")
    token.add_argument("name", help="who gets the token (e.g. afdeling-wegen)")
    token.add_argument("--role", required=True, choices=ROLES)
    token.set_defaults(run=_token)
    return top


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = Settings.from_env(
        store=args.store,
        config=args.config,
        tokens=args.tokens,
        policy=args.policy,
        maps=args.maps,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        workers=getattr(args, "workers", None),
    )
    args.run(args, settings)


if __name__ == "__main__":
    main()
