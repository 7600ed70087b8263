"""The model's thread budget: the analysis and the explainer do not fight over the cores."""

from __future__ import annotations

import pytest

from inspector.model.threads import apply_thread_budget, thread_budget
from inspector.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("explain", "requested", "cores", "want"),
    [("async", 0, 2, 1), ("sync", 0, 8, 4), ("off", 0, 2, 2), ("async", 0, 1, 1), ("async", 3, 2, 2), ("off", 1, 16, 1)],
)
def test_budget_halves_the_cores_while_explanations_run(explain, requested, cores, want):
    assert thread_budget(explain, requested, cores) == want


def test_budget_is_applied_to_torch_and_opencv():
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    try:
        assert apply_thread_budget(1) == 1
        assert torch.get_num_threads() == 1 and cv2.getNumThreads() == 1
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def test_torch_threads_setting_is_validated(tmp_path):
    assert Settings(data_dir=tmp_path, torch_threads=2).torch_threads == 2
    with pytest.raises(SettingsError, match="torch_threads"):
        Settings(data_dir=tmp_path, torch_threads=-1)
