"""The review queue, filters, paging, streaming and counts, on SQLite and PostgreSQL.

Expected results are computed in Python from the records that were saved, so every filter
is checked against an independent oracle.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
from pg import postgres_server  # noqa: F401 - fixture

from inspector.domain import Decision, Review, VerdictKind
from inspector.store import Store, StoreError
from inspector.store.samples import T0, sample_image, sample_inspection, sample_work_order

N = 60


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded(request, tmp_path_factory):
    """A store with N inspections over two orders, ties in time, reviews on some (read-only:
    built once per backend for this module)."""
    tmp = tmp_path_factory.mktemp("queries")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'inspector.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database(template=server.migrated_template())
    store = Store.open(url, tmp / "images")
    rng = np.random.default_rng(7)
    store.save_work_order(sample_work_order("WO-1", "LOT-A"), "alice")
    store.save_work_order(sample_work_order("WO-2", "LOT-B"), "alice")
    shas = [store.images.put_array(sample_image(rng, 16, 12)) for _ in range(5)]
    saved = []
    for i in range(N):
        order, lot = ("WO-1", "LOT-A") if i % 3 else ("WO-2", "LOT-B")
        at = T0 + timedelta(minutes=(i // 4))  # groups of four share one timestamp
        insp = sample_inspection(rng, shas[i % 5], order_id=order, lot=lot, inspected_at=at)
        saved.append(insp)
    store.save_inspections(saved[:30])
    for insp in saved[30:]:
        store.save_inspection(insp)
    reviews: dict[str, list[Decision]] = {}
    flagged = [s for s in saved if s.verdict.kind is not VerdictKind.OK]
    for k, insp in enumerate(flagged[::2]):
        decisions = [Decision.REJECT] if k % 3 else [Decision.REJECT, Decision.ACCEPT]
        if k % 5 == 4:
            decisions = [Decision.REWORK]
        for d in decisions:
            store.add_review(
                Review(insp.id, d, "OVER-LIMIT", "", "qe1", "Quinn E", T0 + timedelta(days=1), "signed")
            )
        reviews[insp.id] = decisions
    yield store, saved, reviews
    store.close()
    if request.param == "postgres":
        server.drop_database(url)


def _order(items, newest_first=True):
    return sorted(items, key=lambda s: (s.inspected_at, s.id), reverse=newest_first)


def _ids(items):
    return [s.id for s in items]


FILTERS = [
    {},
    {"order_id": "WO-1"},
    {"lot": "LOT-B"},
    {"verdicts": ["NG"]},
    {"verdicts": [VerdictKind.OK, VerdictKind.REVIEW]},
    {"defect_type": "scratch"},
    {"flagged_only": True},
    {"unreviewed_only": True},
    {"flagged_only": True, "unreviewed_only": True, "order_id": "WO-1"},
    {"since": T0 + timedelta(minutes=3), "until": T0 + timedelta(minutes=9)},
    {"lot": "LOT-A", "defect_type": "pitting", "since": T0 + timedelta(minutes=2)},
]


def _expected(saved, reviews, f):
    out = []
    for s in saved:
        if "order_id" in f and s.order_id != f["order_id"]:
            continue
        if "lot" in f and s.lot != f["lot"]:
            continue
        if "verdicts" in f and s.verdict.kind.value not in [VerdictKind(v).value for v in f["verdicts"]]:
            continue
        if "defect_type" in f and not any(x.defect_type == f["defect_type"] for x in s.findings):
            continue
        if f.get("flagged_only") and s.verdict.kind is VerdictKind.OK:
            continue
        if f.get("unreviewed_only") and s.id in reviews:
            continue
        if "since" in f and s.inspected_at < f["since"]:
            continue
        if "until" in f and s.inspected_at >= f["until"]:
            continue
        out.append(s)
    return out


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: ",".join(f) or "all")
def test_query_filters_match_oracle(loaded, flt):
    store, saved, reviews = loaded
    expected = _expected(saved, reviews, flt)
    assert expected or flt.get("defect_type")  # the data set exercises the filter
    got = store.query_inspections(**flt)
    assert _ids(got) == _ids(_order(expected))
    assert got == _order(expected)  # full records, findings included
    assert store.count_inspections(**flt) == len(expected)
    oldest = store.query_inspections(**flt, newest_first=False)
    assert _ids(oldest) == _ids(_order(expected, newest_first=False))


def test_paging_with_limit_and_offset(loaded):
    store, saved, _ = loaded
    everything = _ids(_order(saved))
    pages = [_ids(store.query_inspections(limit=7, offset=o)) for o in range(0, N, 7)]
    assert [i for p in pages for i in p] == everything
    assert store.query_inspections(limit=0) == []


@pytest.mark.parametrize("chunk_size", [1, 4, 7, 1000])
@pytest.mark.parametrize("newest_first", [True, False])
def test_iter_streams_everything_once_in_order(loaded, chunk_size, newest_first):
    store, saved, _ = loaded
    got = list(store.iter_inspections(chunk_size=chunk_size, newest_first=newest_first))
    assert got == _order(saved, newest_first)  # ties in inspected_at broken by id, none lost


def test_iter_with_filters(loaded):
    store, saved, reviews = loaded
    flt = {"flagged_only": True, "lot": "LOT-A"}
    got = list(store.iter_inspections(**flt, chunk_size=3))
    assert got == _order(_expected(saved, reviews, flt))
    with pytest.raises(StoreError, match="chunk_size"):
        next(store.iter_inspections(chunk_size=0))


def test_iter_bounds_each_read_to_one_chunk(loaded, monkeypatch):
    store, _, _ = loaded
    from inspector.store import queries

    sizes = []
    real = queries.hydrate

    def spy(session, rows):
        sizes.append(len(rows))
        return real(session, rows)

    monkeypatch.setattr(queries, "hydrate", spy)
    assert sum(1 for _ in store.iter_inspections(chunk_size=8)) == N
    assert max(sizes) == 8 and sum(sizes) == N


def test_counts(loaded):
    store, saved, reviews = loaded
    for scope in ({}, {"order_id": "WO-1"}, {"lot": "LOT-B"}, {"order_id": "WO-2", "lot": "LOT-A"}):
        subset = [
            s
            for s in saved
            if s.order_id == scope.get("order_id", s.order_id) and s.lot == scope.get("lot", s.lot)
        ]
        c = store.counts(**scope)
        kinds = [s.verdict.kind.value for s in subset]
        assert c["inspected"] == len(subset)
        for k in ("OK", "NG", "REVIEW"):
            assert c[k] == kinds.count(k)
        assert c["yield"] == (kinds.count("OK") / len(subset) if subset else None)
        latest = [reviews[s.id][-1].value for s in subset if s.id in reviews]
        assert c["reviewed"] == len(latest)
        for d in ("accept", "reject", "rework"):
            assert c[d] == latest.count(d)
    assert store.counts(order_id="WO-404") == {
        "inspected": 0, "OK": 0, "NG": 0, "REVIEW": 0, "yield": None,
        "reviewed": 0, "accept": 0, "reject": 0, "rework": 0,
    }  # fmt: skip


def test_naive_or_unknown_filters_are_refused(loaded):
    store, _, _ = loaded
    with pytest.raises(StoreError, match="timezone-aware"):
        store.query_inspections(since=T0.replace(tzinfo=None))
    with pytest.raises(StoreError, match="OK, NG"):
        store.query_inspections(verdicts=["BAD"])
    assert store.query_inspections(verdicts="NG") == store.query_inspections(verdicts=["NG"])


def test_records_are_unchanged_by_reviews(loaded):
    store, saved, reviews = loaded
    reviewed = [s for s in saved if s.id in reviews]
    for s in reviewed[:5]:
        assert store.get_inspection(s.id) == dataclasses.replace(s)
