"""The download endpoints: /downloads/{collection}.{gpkg|geojson|csv} and /downloads/wijken/{code}.gpkg,
answered with ETag and Last-Modified, and 304 when the client has the current file."""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from geoservice.api.caching import PUBLIC, unchanged
from geoservice.api.threads import in_thread
from geoservice.publish.downloads import Download, Downloads


@dataclass
class DownloadRoutes:
    downloads: Downloads

    async def file(self, request: Request) -> Response:
        return await self._answer(request, request.path_params["name"], request.path_params["fmt"], None)

    async def wijk(self, request: Request) -> Response:
        wijk = request.path_params["wijk"]
        return await self._answer(request, wijk, "gpkg", wijk)

    async def _answer(self, request: Request, name: str, fmt: str, wijk: str | None) -> Response:
        download = await in_thread(self.downloads.find, name, fmt, wijk)
        path, etag = await in_thread(self.downloads.file, download)
        quoted = f'"{etag}"'
        headers = {
            "ETag": quoted,
            "Last-Modified": email.utils.formatdate(path.stat().st_mtime, usegmt=True),
            "Cache-Control": PUBLIC,
        }
        if unchanged(request, quoted, path.stat().st_mtime):
            return Response(status_code=304, headers=headers)
        return FileResponse(path, media_type=download.media_type, headers=headers, filename=_filename(download))


def _filename(download: Download) -> str:
    return f"wijkplan-{download.name}.{download.fmt}"
