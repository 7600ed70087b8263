"""Threshold changes are audited: re-teaching a part, and the calibration target in settings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from trace_support import *  # noqa: F403 - pytest fixtures
from trace_support import OPERATOR_PW, REVIEWER_PW

from inspector.domain import ModelInfo
from inspector.model.base import TeachResult
from inspector.trace import Audit, PermissionDenied


class _Backend:
    """Teaching returns the next threshold of a list (the real model is tested in test_model_*)."""

    def __init__(self, thresholds):
        self.thresholds = list(thresholds)

    def info(self):
        return ModelInfo("fake", "1", "0" * 64)

    def teach(self, part_number, images, examples, template, *, target_false_reject, progress=None):
        th = self.thresholds.pop(0)
        return TeachResult(part_number, len(images), th, th * 0.8, target_false_reject, path="/tmp/ref")


@pytest.fixture
def facade(store, people, tmp_path):
    from inspector.pipeline import Inspector
    from inspector.settings import Settings

    f = Inspector(Settings(data_dir=tmp_path / "station"), store=store, backend=_Backend([0.40, 0.40, 0.52]))
    yield f
    f.close()


def test_reteach_with_a_new_threshold_is_audited_with_before_and_after(facade, store):
    facade.sign_in("ann", REVIEWER_PW)
    good = [np.zeros((8, 8, 3), np.uint8)] * 3
    facade.teach("PN-1", good)
    facade.teach("PN-1", good)  # same threshold: taught again, no threshold change
    facade.teach("PN-1", good)
    audit = Audit(store)
    taught = audit.events(action="model.taught", entity_id="PN-1")
    assert [e.before is None for e in taught] == [True, False, False]
    changed = audit.events(action="threshold.changed", entity_id="PN-1")
    assert len(changed) == 1
    assert changed[0].before["threshold"] == pytest.approx(0.40)
    assert changed[0].after["threshold"] == pytest.approx(0.52)
    assert changed[0].actor == "ann"
    assert audit.verify().ok


def test_calibration_target_change_needs_the_teach_right_and_is_audited(facade, store, tmp_path):
    path = tmp_path / "settings.yaml"
    new = dataclasses.replace(facade.settings, target_false_reject=0.02, station="line-7")
    facade.sign_in("olaf", OPERATOR_PW)
    with pytest.raises(PermissionDenied):
        facade.save_settings(new, path)
    assert not path.exists()
    facade.sign_in("ann", REVIEWER_PW)
    assert facade.save_settings(new, path) == path
    audit = Audit(store)
    [thr] = audit.events(action="threshold.changed", entity_id="target_false_reject")
    assert (thr.before, thr.after) == ({"target_false_reject": 0.01}, {"target_false_reject": 0.02})
    [st] = audit.events(action="settings.changed")
    assert "station" in st.after and st.after["station"] == "line-7"
    assert audit.verify().ok
