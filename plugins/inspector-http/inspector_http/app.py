"""The FastAPI application: read-only results and documents for the MES, and a token-protected trigger.

Every route goes through the station's facade (``inspector.pipeline.Inspector``): queries,
``report`` and ``certificate`` (audited as ``report.generated``, needing the 'report' right
once the station has accounts, like any other caller), ``trigger``. Typed errors become
JSON ``{"error": ...}`` answers: 400 for a bad request, 401 for a missing or wrong token,
403 for a right the station's signed-in user lacks, 404 for an unknown id, 422 for another
refusal, 501 when the core lacks the feature; nothing answers with a traceback.
"""

# no `from __future__ import annotations`: FastAPI reads the local Annotated aliases at runtime
import hmac
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from inspector.errors import InspectorError, NotFound, UsageError, describe
from inspector_http.config import HttpSettings
from inspector_http.views import LineState, result_json

log = logging.getLogger(__name__)


class Unauthorized(InspectorError):
    """POST /trigger without the station's bearer token."""


class NotSupported(InspectorError):
    """The station's core lacks what the endpoint needs."""


class TriggerRequest(BaseModel):
    part_id: str | None = None


def status_of(exc: InspectorError) -> int:
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, PermissionError):  # inspector.trace PermissionDenied
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, NotSupported):
        return 501
    if isinstance(exc, UsageError):
        return 400
    return 422


def create_app(station: Any, cfg: HttpSettings, state: LineState) -> FastAPI:
    app = FastAPI(title="Inspector station API", version="1", docs_url="/docs", redoc_url=None)
    bearer = HTTPBearer(auto_error=False)
    Limit = Annotated[int, Query(ge=1, le=cfg.max_results)]
    Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

    @app.exception_handler(InspectorError)
    async def typed(request: Request, exc: InspectorError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return JSONResponse({"error": describe(exc)}, status_code=status_of(exc), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
        return JSONResponse({"error": f"bad request: {problems}"}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("HTTP %s %s failed", request.method, request.url.path)
        return JSONResponse({"error": f"internal error: {type(exc).__name__} (see the station log)"}, status_code=500)

    def page(items: list, limit: int, offset: int) -> dict[str, Any]:
        return {"count": len(items), "limit": limit, "offset": offset,
                "results": [result_json(i, station.final_verdict(i, station.reviews(i.id))) for i in items]}

    @app.get("/health")
    def health() -> dict[str, Any]:
        counts = station.counts()  # proves the database answers
        return {"status": "ok", **state.snapshot(), "total_inspections": int(counts.get("inspected") or 0)}

    @app.get("/results")
    def results(order_id: str | None = None, lot: str | None = None, part_id: str | None = None,
                limit: Limit = 100, offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        if part_id:
            return page(by_part_id(station, part_id, order_id, lot, limit, offset), limit, offset)
        return page(station.query(order_id=order_id, lot=lot, limit=limit, offset=offset), limit, offset)

    @app.get("/orders/{order_id}/results")
    def order_results(order_id: str, lot: str | None = None, limit: Limit = 100,
                      offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        found = station.query(order_id=order_id, lot=lot, limit=limit, offset=offset)
        if not found and offset == 0:
            raise NotFound(f"no results for order {order_id!r}" + (f" lot {lot!r}" if lot else ""))
        return page(found, limit, offset)

    @app.get("/parts/{part_id}/results")
    def part_results(part_id: str, limit: Limit = 100, offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        found = by_part_id(station, part_id, None, None, limit, offset)
        if not found and offset == 0:
            raise NotFound(f"no results for part id {part_id!r}")
        return page(found, limit, offset)

    @app.get("/results/{inspection_id}")
    def one(inspection_id: str) -> dict[str, Any]:
        insp = station.get(station.resolve_id(inspection_id))
        return result_json(insp, station.final_verdict(insp, station.reviews(insp.id)))

    @app.get("/orders/{order_id}/report.pdf")
    def report(order_id: str, lot: str | None = None) -> Response:
        if not station.query(order_id=order_id, lot=lot, limit=1):
            raise NotFound(f"no results for order {order_id!r}" + (f" lot {lot!r}" if lot else ""))
        name = f"report-{order_id}" + (f"-{lot}" if lot else "")
        return pdf(lambda out: station.report(order_id, out, lot=lot), name)

    @app.get("/results/{inspection_id}/certificate.pdf")
    def certificate(inspection_id: str) -> Response:
        iid = station.resolve_id(inspection_id)
        return pdf(lambda out: station.certificate(iid, out), f"certificate-{iid}")

    @app.get("/parts/{part_id}/certificate.pdf")
    def part_certificate(part_id: str) -> Response:
        found = by_part_id(station, part_id, None, None, 1, 0)
        if not found:
            raise NotFound(f"no results for part id {part_id!r}")
        return pdf(lambda out: station.certificate(found[0].id, out), f"certificate-{part_id}")

    @app.post("/trigger")
    def trigger(auth: Credentials, body: TriggerRequest | None = None) -> dict[str, Any]:
        if not cfg.token:
            raise Unauthorized("the trigger is off: this station has no token (settings plugins.http.token)")
        given = auth.credentials if auth is not None else ""
        if not hmac.compare_digest(given.encode(), cfg.token.encode()):
            raise Unauthorized("missing or wrong bearer token")
        fire = getattr(station, "trigger", None)
        if not callable(fire):
            raise NotSupported("this station has no software trigger (Inspector.trigger)")
        part_id = body.part_id if body is not None else None
        fire(part_id, origin="http")
        return {"ok": True, "part_id": part_id, "origin": "http"}

    return app


def pdf(build: Any, name: str) -> Response:
    """Write a document through the facade into a temporary folder and answer its bytes."""
    with tempfile.TemporaryDirectory(prefix="inspector-http-") as tmp:
        out = Path(tmp) / f"{name}.pdf"
        info = build(out)
        data = out.read_bytes()
    headers = {"Content-Disposition": f'inline; filename="{name}.pdf"',
               "X-Document-Hash": str(getattr(info, "document_hash", ""))}
    return Response(data, media_type="application/pdf", headers=headers)


def by_part_id(station: Any, part_id: str, order_id: str | None, lot: str | None, limit: int,
               offset: int) -> list:
    """Inspections of exactly this part id, newest first (the store's filter also matches id prefixes)."""
    try:
        found = station.query(part_id=part_id, order_id=order_id, lot=lot, limit=None)
    except TypeError:  # a core without the part-id filter: scan (slower, same answer)
        found = station.query(order_id=order_id, lot=lot, limit=None)
    hits = [i for i in found if (getattr(i, "part_id", "") or "") == part_id]
    return hits[offset:offset + limit]
