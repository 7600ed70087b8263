"""The hf backend on tiny random transformers models written by the tests: folders, features, teach + inspect."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be downloaded (the code also says local_files_only)

import numpy as np
import pytest
from hf_tiny_models import write_backbone, write_llava
from inspector_hf import HFBackend, ModelFolderError
from inspector_hf.folders import HFOptions, HFSettingsError

from inspector.domain import VerdictKind
from inspector.model.base import ModelBackend, ModelError, NotTaughtError
from inspector.pipeline import Inspector
from inspector.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "sample_data"
ORDER = SAMPLES / "workorders" / "WO-1001_bracket.txt"
GOOD = sorted((SAMPLES / "parts" / "BR-100" / "good").glob("*.png"))
LINE = SAMPLES / "parts" / "BR-100" / "line"


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf-models")
    return {k: write_backbone(root / k, k, mean=(0.45, 0.45, 0.45), std=(0.22, 0.22, 0.22))
            for k in ("dinov2", "resnet", "convnext")}


# -- folders and settings: typed errors ----------------------------------------------------


def test_missing_and_invalid_folders_are_typed_errors_naming_the_problem(tmp_path, models):
    cases = {}
    cases["absent"] = tmp_path / "absent"
    (tmp_path / "file").write_text("x")
    cases["is a file"] = tmp_path / "file"
    (tmp_path / "empty").mkdir()
    cases["config.json is missing"] = tmp_path / "empty"
    (tmp_path / "badjson").mkdir()
    (tmp_path / "badjson" / "config.json").write_text("{not json")
    cases["cannot be read"] = tmp_path / "badjson"
    remote = tmp_path / "remote"
    remote.mkdir()
    (remote / "config.json").write_text(json.dumps({"model_type": "x", "auto_map": {"AutoModel": "m.M"}}))
    cases["never runs remote code"] = remote
    noweights = tmp_path / "noweights"
    noweights.mkdir()
    (noweights / "config.json").write_text((models["resnet"] / "config.json").read_text())
    cases["holds no weights"] = noweights
    for words, folder in cases.items():
        with pytest.raises(ModelFolderError, match=words) as err:
            HFBackend(tmp_path / "refs", "cpu", model_dir=folder)
        assert str(folder) in str(err.value) and isinstance(err.value, ModelError)
    with pytest.raises(ModelFolderError, match="needs a model folder"):
        HFBackend(tmp_path / "refs", "cpu")
    # a folder whose weights do not load: found at load time, still typed
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text((models["resnet"] / "config.json").read_text())
    (corrupt / "model.safetensors").write_bytes(b"\0" * 64)
    backend = HFBackend(tmp_path / "refs", "cpu", model_dir=corrupt)
    with pytest.raises(ModelFolderError, match="cannot be loaded with transformers AutoModel"):
        backend.load()


def test_settings_section_is_checked():
    with pytest.raises(HFSettingsError, match="unknown plugins.hf setting.*modeldir"):
        HFOptions.from_mapping({"modeldir": "/x"})
    with pytest.raises(HFSettingsError, match="dtype"):
        HFOptions.from_mapping({"dtype": "float8"})
    with pytest.raises(HFSettingsError, match="layers"):
        HFOptions.from_mapping({"layers": ["a"]})
    o = HFOptions.from_mapping({"model_dir": "~/m", "layers": 3, "max_new_tokens": "40", "enabled": True})
    assert o.layers == (3,) and o.max_new_tokens == 40 and not o.model_dir.startswith("~")


def test_model_dir_with_backbone_and_vlm_subfolders(tmp_path, models):
    import shutil

    shutil.copytree(models["resnet"], tmp_path / "m" / "backbone")
    write_llava(tmp_path / "m" / "vlm")
    b = HFBackend(tmp_path / "refs", "cpu", model_dir=tmp_path / "m")
    assert b.folders.backbone == tmp_path / "m" / "backbone" and b.folders.vlm == tmp_path / "m" / "vlm"
    assert isinstance(b, ModelBackend)
    assert HFBackend(tmp_path / "refs", "cpu", model_dir=tmp_path / "m", explainer="embedded").folders.vlm is None
    with pytest.raises(ModelFolderError, match="no vision-language model folder"):
        HFBackend(tmp_path / "refs", "cpu", backbone_dir=models["resnet"], explainer="vlm")


# -- the backbone adapter --------------------------------------------------------------------


@pytest.mark.parametrize("kind, expect_kind", [("dinov2", "vit"), ("resnet", "cnn"), ("convnext", "cnn")])
def test_patch_features_at_stride_8_for_each_architecture(models, kind, expect_kind):
    import torch
    from inspector_hf.backbone import HFBackbone

    bb = HFBackbone(models[kind], "cpu")
    assert bb.kind == expect_kind and bb.graph_safe is False
    if expect_kind == "cnn":  # the deepest stride-8 and stride-16 stages, like the embedded blocks 4 and 10
        assert [bb.strides[i] for i in bb.blocks] == [8, 16]
    else:  # a middle layer and the last (hidden_states[0] is the patch embedding)
        assert bb.blocks == (1, 2) and bb.dim == 64
    x = torch.rand(2, 3, 96, 128) * 255
    f = bb.patch_features(bb.normalize(x))
    assert f.shape == (2, bb.dim, 12, 16) and torch.isfinite(f).all()
    # the folder's mean/std are used (not ImageNet's)
    assert torch.allclose(bb.normalize(torch.full((1, 3, 2, 2), 0.45 * 255))[0], torch.zeros(3, 2, 2), atol=1e-5)
    # the features see the image: blanking one corner changes that corner's cells
    y = x.clone()
    y[:, :, :16, :16] = 0
    g = bb.patch_features(bb.normalize(y))
    assert not torch.allclose(f[:, :, :2, :2], g[:, :, :2, :2])


def test_layer_choice_and_vit_stride8_resolution(models):
    import torch
    from inspector_hf.backbone import HFBackbone

    bb = HFBackbone(models["dinov2"], "cpu", layers=(2,), resolution="stride8")
    assert bb.blocks == (2,) and bb.dim == 32
    x = bb.normalize(torch.rand(1, 3, 64, 48) * 255)
    assert bb.patch_features(x).shape == (1, 32, 8, 6)
    with pytest.raises(ModelFolderError, match="layers \\[7\\] do not exist"):
        HFBackbone(models["resnet"], "cpu", layers=(1, 7))


# -- teach + inspect through the station facade ---------------------------------------------


@pytest.fixture(scope="module")
def station(tmp_path_factory, models):
    """The sample part BR-100 taught through the facade with ``backend: hf`` (ResNet) and a random LLaVA."""
    import shutil

    root = tmp_path_factory.mktemp("hf-station")
    shutil.copytree(models["resnet"], root / "model" / "backbone")
    write_llava(root / "model" / "vlm", seed=3)  # random weights: its text fails the check
    settings = Settings(data_dir=root / "data", device="cpu", explain="sync", backend="hf",
                        plugins={"hf": {"model_dir": str(root / "model"), "max_new_tokens": 12}})
    facade = Inspector(settings)
    explained = []
    facade.add_explanation_listener(lambda iid, e: explained.append((iid, e)))
    wo = facade.load_work_order(ORDER)
    taught = facade.teach(wo.part_number, GOOD, work_order=wo)
    results = []
    names = ["line_01.png", "line_02.png", "line_04.png", "line_14.png"]
    summary = facade.run([str(LINE / n) for n in names], wo, on_result=results.append)
    yield facade, wo, taught, results, summary, explained, root
    facade.close()


def test_teach_through_the_backend_stores_a_reference_per_model(station, tmp_path):
    facade, wo, taught, *_, root = station
    backend = facade.backend
    assert isinstance(backend, HFBackend)
    assert taught.n_good == len(GOOD) and 0 < taught.review_low < taught.threshold
    assert taught.extra["bank_size"] > 0 and taught.miss_estimate["n_probes"] > 0
    ref = Path(taught.path)
    assert ref.parent.name == f"hf-{backend.info().weights_hash[:12]}" and (ref / "reference.json").is_file()
    meta = json.loads((ref / "reference.json").read_text())
    assert meta["backbone_sha256"] == backend.info().weights_hash and meta["blocks"] == list(backend.backbone.blocks)
    assert backend.is_taught(wo.part_number)
    # another model folder (other weights) does not see this reference: teach again
    other = HFBackend(root / "data" / "references", "cpu", backbone_dir=write_backbone(tmp_path / "o", "resnet", seed=9))
    assert not other.is_taught(wo.part_number)
    with pytest.raises(NotTaughtError):
        other.analyze(np.zeros((64, 64, 3), np.uint8), wo)


def test_inspect_gives_findings_verdicts_and_model_identity(station):
    facade, wo, _, results, summary, *_ = station
    assert summary.inspected == len(results) == 4 and not summary.errors
    assert [r.inspection.frame_name for r in results] == ["line_01.png", "line_02.png", "line_04.png", "line_14.png"]
    info = facade.backend.info()
    for r in results:
        ins = r.inspection
        assert ins.model.name == "hf:backbone" and ins.model.weights_hash == info.weights_hash
        assert ins.verdict.kind in set(VerdictKind)
        assert r.anomaly_map is not None and np.isfinite(r.anomaly_map).all()
        for f in ins.findings:
            assert f.region.score > 0 and f.length_mm is not None and f.length_mm > 0
    scores = [r.inspection.image_score for r in results]
    # line_01 is a good part; line_04 has a crack (no cracks allowed): found and rejected
    assert scores[0] < 1.0 and results[0].inspection.verdict.kind is VerdictKind.OK, scores
    crack = results[2].inspection
    assert crack.verdict.kind is VerdictKind.NG and any(f.defect_type == "crack" for f in crack.findings)
    assert max(scores[1:]) > scores[0]


def test_flagged_parts_get_checked_explanations_with_template_fallback(station):
    facade, wo, _, results, _, explained, _ = station
    flagged = [r.inspection for r in results if r.inspection.verdict.kind is not VerdictKind.OK]
    assert flagged and {iid for iid, _ in explained} == {i.id for i in flagged}
    for _, e in explained:
        # the random VLM's words fail the findings check: the record carries the template and why
        assert e.fallback and e.generator == "template" and e.problems
        assert not any(p.startswith("model unavailable") for p in e.problems), e.problems
    stored = facade.get(flagged[0].id)
    assert stored.explanation is not None and stored.explanation.fallback and stored.explanation.problems
