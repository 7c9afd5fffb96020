"""The ASGI application: pygeoapi for the landing page, collections, queryables and the API
document; the service's own routes for features and conformance."""

from __future__ import annotations

import contextlib
from pathlib import Path
from urllib.parse import urlencode

import orjson
import pygeoapi
import pygeoapi.api as core_api
from pygeoapi.api import API, APIRequest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from geoservice.api import openapi, status, threads
from geoservice.api.caching import Validators
from geoservice.api.config import load_config
from geoservice.api.downloads import DownloadRoutes
from geoservice.api.following import FollowingRoutes
from geoservice.api.http import REQUEST_ID, Guard, HttpError, PageSecurity, error_response, request_id_of, with_links
from geoservice.api.participation import ParticipationRoutes
from geoservice.api.rendering import Pages, check_page_parameters, format_of, wants_page
from geoservice.api.routes import ServiceRoutes
from geoservice.api.subscriptions import SubscriptionRoutes
from geoservice.api.threads import in_thread
from geoservice.api.tiles import TileRoutes
from geoservice.api.versioning import versioned
from geoservice.derived import derivation
from geoservice.domain.lifecycle import Forbidden, NotVisible
from geoservice.domain.model import COLLECTIONS
from geoservice.domain.policy import Policy
from geoservice.domain.validation import Conflict, ValidationError
from geoservice.participation.access import Access, InvalidParticipant, TooManyRequests
from geoservice.participation.tokens import Tokens, Unauthorized
from geoservice.publish import catalogue, downloads, qgis, tiles
from geoservice.publish.background import Repeating, deriving
from geoservice.publish.downloads import Downloads, NoSuchDownload
from geoservice.publish.geojson import link
from geoservice.publish.maps import STATIC, tile_host
from geoservice.publish.tiles import NoSuchTile
from geoservice.publish.webhooks import Dispatcher
from geoservice.query.cql2 import FilterError
from geoservice.query.params import BadRequest
from geoservice.settings import Settings
from geoservice.store import NotFound, QueryTimeout, Store, open_store
from geoservice.store.participation import NoSuchProposal

PYGEOAPI_STATIC = Path(pygeoapi.__file__).parent / "static"
ASSETS = Path(__file__).parent / "static"  # the service's own stylesheet and scripts
ROOT = Path(__file__).resolve().parents[2]


def _endpoint(api: API, handler, *path_keys: str, complete=lambda document, base: document):
    """A Starlette endpoint that runs a pygeoapi handler with the request's path parameters; its
    JSON answers keep only offered links, and `complete` adds to them. The links go in a Link header
    as well (of an HTML page: those of its JSON document)."""

    async def run(request: Request):
        api_request = await APIRequest.from_starlette(request, api.locales)
        args = [request.path_params[key] for key in path_keys]
        headers, status, content = await in_thread(handler, api, api_request, *args)
        if not headers.get("Content-Type", "").startswith("application/json"):
            return headers, status, content, None
        document = orjson.loads(content)
        if status >= 400:
            raise HttpError(status, document.get("code", "Error"), document.get("description", ""))
        document = complete(_offered_links_only(document), api.base_url.rstrip("/"))
        return headers, status, orjson.dumps(document), document

    async def endpoint(request: Request) -> Response:
        check_page_parameters(request)
        headers, status, content, document = await run(request)
        if document is None and headers.get("Content-Type", "").startswith("text/html"):
            *_, document = await run(_as_json(request))  # its links; a refusal is raised as the service's own
        headers = {name: value for name, value in headers.items() if name != "X-Powered-By"}  # no implementation
        return Response(content, status_code=status, headers=with_links(headers, document))

    return endpoint


def _as_json(request: Request) -> Request:
    """The same (bodiless) request, asking for JSON."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "f"] + [("f", "json")]
    return Request({**request.scope, "query_string": urlencode(query).encode()}, _no_body)


async def _no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


UNOFFERED = ("f=jsonld", "f=csv", "/processes", "/TileMatrixSets", "/jobs")


def _offered_links_only(document):
    """The document without pygeoapi's links to what this service does not offer."""
    if isinstance(document, dict):
        return {
            key: (
                [link for link in value if not any(u in link.get("href", "") for u in UNOFFERED)]
                if key == "links"
                else _offered_links_only(value)
            )
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [_offered_links_only(item) for item in document]
    return document


def _with_downloads(document: dict, base: str) -> dict:
    """Collection documents with the enclosure links of their downloads (pygeoapi would ask each
    link's length over HTTP first; the files are written only when asked for) and the link to
    their vector tiles."""
    for collection in document.get("collections", [document]):
        if collection.get("id") in COLLECTIONS:
            name = collection["id"]
            tilesets = link(f"{base}/collections/{name}/tiles", tiles.TILESETS_VECTOR, "application/json",
                            f"Vectortegels van {name}")  # fmt: skip
            collection["links"] = [*collection.get("links", []), *downloads.links(base, name), tilesets]
    return document


def _service_links(maps: Path):
    """Completes the landing page with links to the catalogue, the field dictionary and (once
    built) the maps."""

    def complete(document: dict, base: str) -> dict:
        links = [
            {
                "href": f"{base}/catalogus",
                "rel": "describedby",
                "type": "application/ld+json",
                "title": "DCAT-AP-catalogus van de datasets en downloads",
            },
            {
                "href": f"{base}/velden",
                "rel": "describedby",
                "type": "application/json",
                "title": "Veldenlijst: betekenis, type en toegestane waarden van elk veld",
            },
            {
                "href": f"{base}/feeds/stad.atom",
                "rel": "alternate",
                "type": "application/atom+xml",
                "title": "Atom-feed: wat er in de stad gebeurt",
            },
            link(
                f"{base}/tileMatrixSets", tiles.TILING_SCHEMES, "application/json", "Tegelschema's van de vectortegels"
            ),
            {
                "href": f"{base}/qgis/wijkplan.qgs",
                "rel": "alternate",
                "type": "application/x-qgis-project",
                "title": "QGIS-project met alle collecties in RD New",
            },
        ]
        if (maps / "index.html").exists():
            links.append(
                {
                    "href": f"{base}/maps/",
                    "rel": "alternate",
                    "type": "text/html",
                    "title": "Kaarten van de gemeente, elke wijk en elke buurt",
                }
            )
        document["links"] = [*document.get("links", []), *links]
        return document

    return complete


def _qgis_project(api: API):
    async def endpoint(request: Request) -> Response:
        content = qgis.project(api.base_url.rstrip("/"))
        return Response(
            content,
            media_type="application/x-qgis-project",
            headers={"Content-Disposition": 'attachment; filename="wijkplan.qgs"'},
        )

    return endpoint


def _metadata(api: API, document, pages: Pages | None = None, template: str | None = None):
    """A metadata document as JSON, and as a page when it has a template and a page is asked for."""

    async def endpoint(request: Request) -> Response:
        check_page_parameters(request)
        content, media_type = document(api)
        if template and format_of(request) == "html":
            return pages.html(request, template, {"document": content, "links": []})
        return Response(orjson.dumps(content), media_type=media_type)

    return endpoint


def _openapi_json(api: API):
    async def openapi_json(request: Request) -> Response:
        return Response(orjson.dumps(api.openapi), media_type="application/vnd.oai.openapi+json;version=3.0")

    return openapi_json


def _map_routes(directory: str) -> list:
    """The maps (/maps/ is their index) and the Leaflet files they load."""
    assets = [
        Mount(f"/maps/static/{name}", StaticFiles(directory=ROOT / path, check_dir=False))
        for name, path in STATIC.items()
    ]
    Path(directory).mkdir(parents=True, exist_ok=True)  # empty until `geoservice maps` fills it
    return [*assets, Mount("/maps", StaticFiles(directory=directory, html=True), name="maps")]


def _routes(api: API, service: ServiceRoutes, participation: ParticipationRoutes, maps: Path) -> list:
    collection = "/collections/{collection_id}"
    proposal = "/collections/voorstellen/items/{item_id}"
    return [
        Route("/collections/voorstellen/vergelijkbaar", participation.similar, methods=["POST"]),
        Route(f"{proposal}/steun", participation.support, methods=["GET", "HEAD", "POST", "DELETE"]),
        Route(f"{proposal}/reacties", participation.reactions, methods=["GET", "HEAD", "POST"]),
        Route(f"{proposal}/reacties/{{reaction_id}}", participation.reaction, methods=["PATCH"]),
        Route("/", _endpoint(api, core_api.landing_page, complete=_service_links(maps))),
        Route(
            "/catalogus",
            _metadata(
                api,
                lambda api: (catalogue.catalogue(api.config, api.base_url.rstrip("/")), "application/ld+json"),
                service.pages,
                "catalogus.html",
            ),
        ),
        Route(
            "/velden",
            _metadata(
                api, lambda api: (catalogue.field_dictionary(), "application/json"), service.pages, "velden.html"
            ),
        ),
        Route("/openapi", _endpoint(api, core_api.openapi_)),
        Route("/openapi.json", _openapi_json(api)),
        Route("/conformance", service.conformance),
        Route("/collections", _endpoint(api, core_api.describe_collections, complete=_with_downloads)),
        Route(collection, _endpoint(api, core_api.describe_collections, "collection_id", complete=_with_downloads)),
        Route(f"{collection}/queryables", service.queryables),
        Route(f"{collection}/schema", service.schema),
        Route(f"{collection}/items", service.items, methods=["GET", "HEAD", "POST", "OPTIONS"]),
        Route(
            f"{collection}/items/{{item_id}}",
            service.item,
            methods=["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"],
        ),
        Mount("/static", StaticFiles(directory=PYGEOAPI_STATIC), name="static"),
        Mount("/assets/swagger", StaticFiles(directory=ROOT / "node_modules/swagger-ui-dist", check_dir=False)),
        Mount("/assets", StaticFiles(directory=ASSETS), name="assets"),
    ]


def _problem(status: int, code: str, describe=str, headers=lambda error: {}):
    """An exception handler that answers with a problem of this status (and these headers)."""

    async def handler(request: Request, error: Exception) -> Response:
        return _refusal(request, HttpError(status, code, describe(error), headers(error)))

    return handler


async def _invalid_participant(request: Request, error: InvalidParticipant) -> Response:
    code = "MissingParameterValue" if error.missing else "InvalidParameterValue"
    return _refusal(request, HttpError(400, code, str(error)))


async def _http_error(request: Request, error: HttpError) -> Response:
    return _refusal(request, error)


def _refusal(request: Request, error: HttpError) -> Response:
    """A problem (RFC 9457), or for a browser the same as a page of the service."""
    pages = getattr(request.app.state, "pages", None)
    if pages is not None and wants_page(request):
        return pages.error(request, error, request_id_of(request.scope))
    return error_response(error, request_id_of(request.scope))


async def _routing_error(request: Request, error: StarletteHTTPException) -> Response:
    """No such path (404), or a method the path does not have (405)."""
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(error.status_code, "Error")
    detail = f"{request.url.path}: not found" if error.status_code == 404 else str(error.detail)
    return _refusal(request, HttpError(error.status_code, code, detail, dict(error.headers or {})))


def _not_found(error: KeyError) -> str:
    return f"{error.args[0]}: not found"


# What each refusal means for the client: one table from exception to answer.
EXCEPTION_HANDLERS = {
    HttpError: _http_error,
    StarletteHTTPException: _routing_error,
    BadRequest: _problem(400, "InvalidParameterValue"),
    FilterError: _problem(400, "InvalidParameterValue", lambda error: f"filter: {error}"),
    ValidationError: _problem(400, "InvalidValue"),
    Conflict: _problem(409, "Conflict"),
    NotFound: _problem(404, "NotFound", _not_found),
    NotVisible: _problem(404, "NotFound", _not_found),
    Unauthorized: _problem(401, "Unauthorized", headers=lambda error: {"WWW-Authenticate": 'Bearer realm="wijkplan"'}),
    Forbidden: _problem(403, "Forbidden"),
    InvalidParticipant: _invalid_participant,
    TooManyRequests: _problem(429, "TooManyRequests", headers=lambda error: {"Retry-After": str(error.retry_after)}),
    NoSuchProposal: _problem(404, "NotFound", _not_found),
    NoSuchDownload: _problem(404, "NotFound", _not_found),
    NoSuchTile: _problem(404, "NotFound", _not_found),
    QueryTimeout: _problem(
        503,
        "ServiceUnavailable",
        lambda error: f"{error}: ask for less (a smaller bbox, fewer or simpler conditions) or use the downloads",
    ),
}


def create_app(settings: Settings | None = None, store: Store | None = None) -> Starlette:
    """The service for these settings (by default from the environment), on their store or the
    store given."""
    settings = settings or Settings.from_env()
    threads.configure(settings.threads)
    store = store or open_store(settings.store, settings.pool_size)
    config = load_config(settings, store)
    api = API(config, openapi.document(config))
    policy = Policy.load(settings.policy)
    access = Access(Tokens(settings.tokens), policy, store)
    service = ServiceRoutes(store, api, access, policy, Path(settings.maps), settings.query_budget_s)
    base = api.base_url.rstrip("/")
    background = [Repeating("webhooks", Dispatcher(store, policy.webhooks, base).round, settings.webhooks_interval_s)]
    if settings.derive_interval_s > 0:
        background.append(deriving(store, policy, settings.derive_interval_s))
    middleware = [
        Middleware(Guard),
        Middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD", "OPTIONS"],
            expose_headers=["Content-Crs", "Location", "API-Version", "ETag", REQUEST_ID, *derivation.DERIVED_HEADERS],
        ),
        Middleware(GZipMiddleware, minimum_size=4096, compresslevel=1),  # small answers: not worth it
        Middleware(PageSecurity, tile_hosts=(tile_host(policy.kaarten.ondergrond),)),
        Middleware(Validators),
    ]
    downloads = DownloadRoutes(Downloads(store, policy, settings.downloads))
    following = FollowingRoutes(store, policy, service.pages, config["metadata"]["provider"]["name"])
    subscribing = SubscriptionRoutes(store, access, policy.webhooks, base)
    tiling = TileRoutes(store, policy, service.pages)
    routes = [
        *_routes(api, service, ParticipationRoutes(service), Path(settings.maps)),
        *_map_routes(settings.maps),
        Route("/qgis/wijkplan.qgs", _qgis_project(api)),
        Route("/status", status.endpoint(store, Path(settings.maps))),
        Route("/tileMatrixSets", tiling.matrix_sets),
        Route("/tileMatrixSets/{tms}", tiling.matrix_set),
        Route("/collections/{collection_id}/tiles", tiling.tilesets),
        Route("/collections/{collection_id}/tiles/{tms}", tiling.tileset),
        Route("/collections/{collection_id}/tiles/{tms}/{level}/{row}/{col}", tiling.tile),
        Route("/downloads/wijken/{wijk}.gpkg", downloads.wijk),
        Route("/downloads/{name}.{fmt}", downloads.file),
        Route("/feeds/stad.atom", following.city_feed),
        Route("/feeds/{kind}/{key}.atom", following.feed),
        Route("/kalenders/{area}/{code}.ics", following.calendar),
        Route("/abonnementen", subscribing.create, methods=["POST"]),
        Route("/abonnementen/{subscription_id}", subscribing.one, methods=["GET", "HEAD", "DELETE"]),
    ]
    app = Starlette(
        routes=versioned(routes),
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=_running(background),
    )
    app.router.redirect_slashes = False
    app.state.pages = service.pages  # refusals to browsers are pages too
    return app


def _running(background: list[Repeating]):
    """The app's lifespan: derived collections follow the store's change log and webhooks go out
    while the service runs (the maps follow it in a process of their own)."""

    @contextlib.asynccontextmanager
    async def lifespan(app):
        for work in background:
            work.start()
        try:
            yield
        finally:
            for work in background:  # all told to stop first, then each given its moment to end
                work.stop(wait_s=0)
            for work in background:
                work.stop()

    return lifespan
