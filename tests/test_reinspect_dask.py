"""The Dask engine of `inspector reinspect` on a real distributed.LocalCluster (worker processes on
127.0.0.1), reached by its scheduler address as in production: the same verdicts as the local
engine, every part analysed once, the records still written by the client (single writer, audited).
"""

from __future__ import annotations

import pytest
from reinspect_support import *  # noqa: F403 - fixtures
from reinspect_support import TIGHTENED, N

from inspector.domain import to_data
from inspector.plugins import PluginError
from inspector.reinspect import ReinspectError


@pytest.fixture(scope="module")
def cluster():
    import dask
    from distributed import LocalCluster

    from inspector.reinspect.engines import worker_environ

    # two worker processes of one thread each (the backend then takes one core per worker)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address=None) as c:
        yield c


def _rows(plan):
    return {r.original_id: r for r in plan.rows}


def _close(a, b, path=""):
    """Findings from two processes: same structure and words, numbers equal to 1e-4 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float):
        assert b == pytest.approx(a, rel=1e-4, abs=1e-6), path
    else:
        assert a == b, path


def test_dask_workers_give_the_local_verdicts(lot_facade, tight_order, cluster):
    local = lot_facade.rejudge_plan("WO-1001", work_order=tight_order)
    dask = lot_facade.rejudge_plan("WO-1001", work_order=tight_order, engine="dask",
                                   scheduler=cluster.scheduler_address)
    assert (dask.engine, dask.workers) == ("dask", 2)
    assert sum(dask.per_worker.values()) == N and set(dask.per_worker) <= set(cluster.scheduler_info["workers"])
    a, b = _rows(local), _rows(dask)
    assert a.keys() == b.keys()
    for key, row in a.items():
        other = b[key]
        assert (other.new, other.new_clause, other.status) == (row.new, row.new_clause, row.status), row.frame_name
        _close(to_data(row.record.findings), to_data(other.record.findings), row.frame_name)
        assert other.record.model == row.record.model
    assert dask.summary()["changes"] == local.summary()["changes"] == {"OK->NG": 2}
    assert {r.frame_name for r in dask.rows if r.status == "changed"} == set(TIGHTENED)
    # the client writes: linked records, audited, exactly once
    result = lot_facade.rejudge_apply(dask)
    assert len(result.written) == N and lot_facade.audit.verify().ok
    assert len(lot_facade.audit.events(action="inspection.rejudged")) == N
    again = lot_facade.rejudge_plan("WO-1001", work_order=tight_order, engine="dask",
                                    scheduler=cluster.scheduler_address)
    assert again.summary()["current"] == N and not again.to_write


def test_a_backend_the_workers_cannot_load_fails_the_run_with_a_typed_error(lot_facade, cluster):
    with pytest.raises(ReinspectError, match="cannot load on the workers"):
        lot_facade.rejudge_plan("WO-1001", engine="dask", scheduler=cluster.scheduler_address, model="no-such")
    with pytest.raises(PluginError, match="no-such"):
        lot_facade.rejudge_plan("WO-1001", model="no-such")


def test_an_unreachable_scheduler_is_a_typed_error(lot_facade):
    import socket

    import dask

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}), \
            pytest.raises(ReinspectError, match="cannot reach the Dask scheduler"):
        lot_facade.rejudge_plan("WO-1001", engine="dask", scheduler=f"tcp://127.0.0.1:{port}")
