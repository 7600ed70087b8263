"""The small data-access contract reports and exports read from, and an in-memory implementation.

``inspector.store.Store`` satisfies :class:`ReportSource` structurally; tests, benchmarks and
UI previews can use :class:`MemoryStore` with plain domain objects instead.
"""

from __future__ import annotations

import inspect as _inspect
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from inspector.domain import Inspection, Review, VerdictKind, WorkOrder

from .errors import ReportError

# progress(done, total, message); total is 0 when unknown. Raise from it to cancel the work.
Progress = Callable[[int, int, str], None]

CHUNK = 200  # inspections fetched per page when the source has no streaming iterator


@runtime_checkable
class ImageSource(Protocol):
    def read(self, sha256: str) -> np.ndarray:
        """The image with this content hash, (H, W, 3) uint8 RGB. Raises when it is missing."""


@runtime_checkable
class ReportSource(Protocol):
    """What reports need from a store (a subset of ``inspector.store.Store``)."""

    images: ImageSource

    def get_work_order(self, order_id: str) -> WorkOrder: ...

    def get_inspection(self, inspection_id: str) -> Inspection: ...

    def reviews_for(self, inspection_id: str) -> list[Review]: ...

    def query_inspections(self, **filters: Any) -> list[Inspection]: ...


def as_utc(t: datetime | None, name: str) -> datetime | None:
    """Timezone-aware UTC; a naive datetime is taken as UTC (all Inspector times are UTC)."""
    if t is None:
        return None
    if not isinstance(t, datetime):
        raise ReportError(f"{name} must be a datetime, got {type(t).__name__}")
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _accepts(func: Callable[..., Any], name: str) -> bool:
    try:
        params = _inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def iter_inspections(
    source: ReportSource,
    *,
    order_id: str | None = None,
    lot: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    flagged_only: bool = False,
    chunk: int = CHUNK,
    current_only: bool = True,
) -> Iterator[Inspection]:
    """Stream inspections oldest first, using the source's streaming iterator when it has one.

    Falls back to paging ``query_inspections(limit=chunk, offset=...)`` so that memory stays
    bounded by one chunk either way. ``current_only``: one record per part: a record that a
    later one re-judged (``inspector reinspect``) is left out (when the source knows links).
    """
    filters: dict[str, Any] = {
        "order_id": order_id,
        "lot": lot,
        "since": since,
        "until": until,
        "flagged_only": flagged_only,
    }
    it = getattr(source, "iter_inspections", None)
    if it is not None and _accepts(it, "newest_first"):
        if _accepts(it, "current_only"):
            filters["current_only"] = current_only
        yield from it(**filters, newest_first=False)
        return
    if _accepts(source.query_inspections, "current_only"):
        filters["current_only"] = current_only
    offset = 0
    while True:
        page = source.query_inspections(**filters, limit=chunk, offset=offset, newest_first=False)
        yield from page
        if len(page) < chunk:
            return
        offset += len(page)


def iter_with_reviews(source: ReportSource, *, chunk: int = CHUNK, **filters: Any
                      ) -> Iterator[tuple[Inspection, list[Review]]]:
    """``(inspection, its reviews oldest first)`` for :func:`iter_inspections` ``(**filters)``.

    Uses the source's ``reviews_for_many(ids) -> {id: [Review]}`` once per chunk when it has
    one (one query instead of one per part), else ``reviews_for`` per part. A re-judged
    record (``reinspects_id``) also gets the reviews of the records it replaces: a disposition
    signed on the original still decides the part (``final.final_verdict``: the latest wins).
    """
    many = getattr(source, "reviews_for_many", None)
    buf: list[Inspection] = []

    def flush() -> Iterator[tuple[Inspection, list[Review]]]:
        chains = {i.id: rejudge_chain(source, i) for i in buf}
        if many is not None:
            found = many([x for i in buf for x in (i.id, *chains[i.id])])
            for i in buf:
                got = [r for x in (i.id, *chains[i.id]) for r in found.get(x, ())]
                yield i, sorted(got, key=lambda r: (r.decided_at, r.id or 0))
        else:
            for i in buf:
                got = [r for x in (i.id, *chains[i.id]) for r in source.reviews_for(x)]
                yield i, sorted(got, key=lambda r: (r.decided_at, r.id or 0))
        buf.clear()

    for insp in iter_inspections(source, **filters):
        buf.append(insp)
        if len(buf) >= chunk:
            yield from flush()
    yield from flush()


def rejudge_chain(source: ReportSource, inspection: Inspection) -> list[str]:
    """Ids of the records ``inspection`` re-judged, newest first (none for an original)."""
    if not getattr(inspection, "reinspects_id", None):
        return []
    chain = getattr(source, "rejudge_chain", None)
    if chain is not None:
        return list(chain(inspection.id))
    out, current = [], inspection
    while (prev := getattr(current, "reinspects_id", None)) and prev not in out:
        out.append(prev)
        try:
            current = source.get_inspection(prev)
        except LookupError:  # purged by retention: the chain ends here
            break
    return out


def load_work_order(source: ReportSource, order_id: str) -> WorkOrder:
    """The work order, or :class:`ReportError` naming the order when the store has none."""
    try:
        wo = source.get_work_order(order_id)
    except LookupError as exc:
        raise ReportError(
            f"work order {order_id!r} is not in the store; load it first (inspector workorder load ...)"
        ) from exc
    if wo is None:
        raise ReportError(f"work order {order_id!r} is not in the store")
    return wo


def work_order_for(source: ReportSource, inspection: Inspection) -> WorkOrder | None:
    """The work-order version the inspection was judged against when the store knows it
    (``work_order_of``), else the order's latest version; None when the store has neither."""
    try:
        exact = getattr(source, "work_order_of", None)
        if exact is not None:
            return exact(inspection.id)
        return source.get_work_order(inspection.order_id)
    except LookupError:
        return None


class JudgedWith:
    """The work-order version each part of a report was judged against, fetched once per version.

    ``current``: the order as the report header shows it (its latest version). A part whose
    ``work_order_version`` differs gets that exact version from the source; a source that
    cannot give it (no such version, no ``version`` argument) falls back to ``current``.
    """

    def __init__(self, source: ReportSource, current: WorkOrder) -> None:
        self._source = source
        self.current = current
        self._found: dict[int, WorkOrder] = {}

    def of(self, inspection: Inspection) -> WorkOrder:
        v = inspection.work_order_version
        if v is None or v == self.current.version or inspection.order_id != self.current.order_id:
            return self.current
        if v not in self._found:
            try:
                self._found[v] = self._source.get_work_order(inspection.order_id, version=v)  # type: ignore[call-arg]
            except (LookupError, TypeError):
                self._found[v] = self.current
        return self._found[v]


def load_inspection(source: ReportSource, inspection_id: str) -> Inspection:
    """The inspection, or :class:`ReportError` naming the id when the store has none."""
    try:
        insp = source.get_inspection(inspection_id)
    except LookupError as exc:
        raise ReportError(f"inspection {inspection_id!r} is not in the store") from exc
    if insp is None:
        raise ReportError(f"inspection {inspection_id!r} is not in the store")
    return insp


def _image_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, LookupError, ValueError]
    try:  # the store's own "cannot decode" error; the store is optional for this package
        from inspector.store.errors import StoreError

        errors.append(StoreError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def read_image(source: ReportSource, sha256: str) -> np.ndarray | None:
    """The stored image, or None when it is missing or unreadable (reports note it and go on)."""
    if not sha256:
        return None
    try:
        img = source.images.read(sha256)
    except _image_errors():
        return None
    if img is None or not isinstance(img, np.ndarray) or img.ndim != 3 or img.shape[2] != 3:
        return None
    return img


def sorted_reviews(source: ReportSource, inspection_id: str) -> list[Review]:
    """Reviews of one inspection, oldest first (the last one is the current disposition)."""
    return sorted(source.reviews_for(inspection_id), key=lambda r: (r.decided_at, r.id or 0))


class MemoryImages:
    """Images by content hash, in memory or made on demand by ``factory(sha) -> RGB``."""

    def __init__(self, images: dict[str, np.ndarray] | None = None,
                 factory: Callable[[str], np.ndarray] | None = None) -> None:
        self._images = dict(images or {})
        self._factory = factory

    def add(self, sha256: str, image: np.ndarray) -> None:
        self._images[sha256] = image

    def read(self, sha256: str) -> np.ndarray:
        if sha256 in self._images:
            return self._images[sha256]
        if self._factory is not None:
            return self._factory(sha256)
        raise FileNotFoundError(f"no image {sha256}")


class MemoryStore:
    """An in-memory :class:`ReportSource` over domain objects (tests, benchmarks, previews).

    Filters follow the store: ``since <= inspected_at < until``; ``flagged_only`` keeps NG
    and REVIEW. ``get_*`` raise ``KeyError`` for unknown ids.
    """

    def __init__(self, work_orders: Iterable[WorkOrder] = (), inspections: Iterable[Inspection] = (),
                 reviews: Iterable[Review] = (), images: MemoryImages | None = None) -> None:
        self.work_orders = {wo.order_id: wo for wo in work_orders}
        self.inspections: list[Inspection] = sorted(inspections, key=lambda i: (i.inspected_at, i.id))
        self._by_id = {i.id: i for i in self.inspections}
        self.reviews: dict[str, list[Review]] = {}
        for r in reviews:
            self.add_review(r)
        self.images = images or MemoryImages()

    def add_review(self, review: Review) -> None:
        self.reviews.setdefault(review.inspection_id, []).append(review)

    def get_work_order(self, order_id: str, version: int | None = None) -> WorkOrder:
        wo = self.work_orders[order_id]
        if version is not None and wo.version is not None and version != wo.version:
            raise KeyError(f"work order {order_id!r} version {version}")
        return wo

    def reviews_for_many(self, inspection_ids: Iterable[str]) -> dict[str, list[Review]]:
        return {i: list(self.reviews[i]) for i in inspection_ids if i in self.reviews}

    def get_inspection(self, inspection_id: str) -> Inspection:
        return self._by_id[inspection_id]

    def reviews_for(self, inspection_id: str) -> list[Review]:
        return list(self.reviews.get(inspection_id, ()))

    def _match(self, i: Inspection, order_id, lot, verdicts, defect_type, since, until, flagged_only) -> bool:
        if order_id is not None and i.order_id != order_id:
            return False
        if lot is not None and i.lot != lot:
            return False
        if verdicts is not None and i.verdict.kind not in {VerdictKind(v) for v in verdicts}:
            return False
        if defect_type is not None and not any(f.defect_type == defect_type for f in i.findings):
            return False
        if since is not None and i.inspected_at < since:
            return False
        if until is not None and i.inspected_at >= until:
            return False
        return not (flagged_only and i.verdict.kind is VerdictKind.OK)

    def iter_inspections(self, order_id=None, lot=None, verdicts=None, defect_type=None, since=None,
                         until=None, flagged_only=False, newest_first=True, current_only=False
                         ) -> Iterator[Inspection]:
        rows = reversed(self.inspections) if newest_first else iter(self.inspections)
        replaced = {i.reinspects_id for i in self.inspections if i.reinspects_id} if current_only else set()
        for i in rows:
            if i.id not in replaced and self._match(i, order_id, lot, verdicts, defect_type, since, until,
                                                    flagged_only):
                yield i

    def query_inspections(self, order_id=None, lot=None, verdicts=None, defect_type=None, since=None,
                          until=None, flagged_only=False, limit=None, offset=0,
                          newest_first=True, current_only=False) -> list[Inspection]:
        rows = list(self.iter_inspections(order_id, lot, verdicts, defect_type, since, until,
                                          flagged_only, newest_first, current_only))
        end = None if limit is None else offset + limit
        return rows[offset:end]

    def counts(self, order_id: str | None = None, lot: str | None = None) -> dict[str, Any]:
        rows = list(self.iter_inspections(order_id=order_id, lot=lot))
        out: dict[str, Any] = {"inspected": len(rows)}
        for k in VerdictKind:
            out[k.value] = sum(1 for i in rows if i.verdict.kind is k)
        out["yield"] = (out["OK"] / len(rows)) if rows else None
        return out
