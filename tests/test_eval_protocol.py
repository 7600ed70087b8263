"""Evaluation protocols: the accounting, with fake heads/backends on tiny generated datasets."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.domain import Analysis, Explanation, Finding, ModelInfo
from inspector.model.typing_features import regions_from_mask
from inspector.model.typing_head import TypeResult
from inspector.training import eval_localize as el
from inspector.training import eval_typing as et

# -- typing protocol -------------------------------------------------------------------------


class NearestPrototypeHead:
    """Descriptor = (class index, row id). Words alone always answer the first word; prototypes
    answer the class of the prototype with the same class index."""

    def __init__(self):
        self.taught_rows: set[int] = set()
        self.tested_rows: set[int] = set()

    def classify(self, desc, vocab, prototypes=None):
        self.tested_rows |= {int(r) for r in desc[:, 1]}
        out = []
        for cls, _ in desc:
            if prototypes:
                for p in prototypes.values():
                    self.taught_rows |= {int(r) for r in p[:, 1]}
                word = next(w for w, p in prototypes.items() if (p[:, 0] == cls).all())
            else:
                word = vocab[0]
            out.append(TypeResult(word, 0.9, ((word, 0.9),), False))
        return out


def _items(n_per_class: int, classes=("a", "b", "c"), boxes_per_image=2):
    items, labels, owner = [], [], []
    for c in classes:
        for i in range(n_per_class):
            items.append(et.BoxItem(Path(f"{c}{i}.png"), tuple((c, (0, 0, 5, 5)) for _ in range(boxes_per_image)), c))
            labels += [c] * boxes_per_image
            owner += [len(items) - 1] * boxes_per_image
    labels, owner = np.array(labels), np.array(owner)
    desc = np.stack([np.array([ord(c) - ord("a") for c in labels], float), np.arange(len(labels))], 1)
    return items, desc, labels, owner


def test_typing_protocol_accounts_k_seeds_and_keeps_teach_and_test_apart():
    items, desc, labels, owner = _items(20)
    head = NearestPrototypeHead()
    words = {"a": "alpha", "b": "beta", "c": "gamma"}
    rows = et.typing_protocol(head, items, desc, labels, owner, words, ks=(0, 3), seeds=(0, 1), test_per_class=10)
    by_k = {r["k"]: r for r in rows}
    assert by_k[0]["acc_mean"] == pytest.approx(1 / 3)  # always 'alpha'
    assert by_k[3]["acc_mean"] == 1.0 and by_k[3]["acc_std"] == 0.0
    assert by_k[3]["n_test"] == 30 and by_k[3]["seeds"] == [0, 1]
    assert by_k[0]["per_class"] == {"alpha": 1.0, "beta": 0.0, "gamma": 0.0}
    # taught boxes come from teach-pool images, never from the images tested (within a seed)
    rng = np.random.default_rng(1)
    teach = et.split_items(items, rng, 0.25)
    assert teach.sum() == 15 and all(teach[[i for i, it in enumerate(items) if it.label == c]].sum() == 5 for c in "abc")


def test_neu_manifest_parsing(tmp_path):
    (tmp_path / "manifest.csv").write_text(
        "class,image,annotation,width,height,mode,n_boxes,boxes,source_split\n"
        'crazing,crazing/images/crazing_1.jpg,x.xml,200,200,RGB,2,"crazing:2,2,193,194;crazing:60,20,194,69",main\n')
    (item,) = et.load_neu(tmp_path)
    assert item.label == "crazing" and item.boxes[1] == ("crazing", (60, 20, 134, 49))


# -- full-backend protocols, with a fake backend --------------------------------------------


class DarkBlobBackend:
    """Finds dark pixels (< 60) as regions, typed ``word``, plus one false alarm at the top-left."""

    def __init__(self, word="pitting", false_alarm=True):
        self.word, self.false_alarm, self.taught = word, false_alarm, []
        self.explained = 0

    def teach(self, part_number, good_images, examples=(), template=None, **kw):
        self.taught.append((part_number, len(good_images), template is not None))
        self.ignore_masks = kw.get("ignore_masks")

    def analyze(self, image, work_order):
        regions = regions_from_mask(image[..., 0] < 60)
        findings = [Finding(r, self.word, 0.9) for r in regions]
        if self.false_alarm:
            findings.append(Finding(regions_from_mask(np.pad(np.ones((4, 4), bool), ((1, 200), (1, 200))))[0],
                                    self.word, 0.9))
        return Analysis(np.zeros((8, 8), np.float32), 2.0, findings, {"threshold": 1.0, "type_min": 0.5},
                        ModelInfo("fake", "0", "0"))

    def explain(self, image, analysis, verdict, work_order):
        self.explained += 1
        return Explanation("text", fallback=self.explained % 2 == 0)


def _write(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)


def _fake_bsdata(root: Path, n_train=3, n_test=4):
    rows = []
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            img = np.full((460, 1130, 3), 150, np.uint8)
            mask = np.zeros((460, 1130), np.uint8)
            for _ in range(2):
                x, y = int(rng.integers(300, 1000)), int(rng.integers(100, 400))
                img[y : y + 12, x : x + 12] = 20
                mask[y : y + 12, x : x + 12] = 255
            name = f"{split}{i}"
            _write(root / f"pitting/images/{name}.png", img)
            _write(root / f"pitting/masks/{name}.png", mask)
            rows.append({"class": "pitting", "image": f"pitting/images/{name}.png", "mask": f"pitting/masks/{name}.png",
                         "width": 1130, "height": 460, "source_split": split})
    with open(root / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_bsdata_protocol_hits_false_alarms_and_explanations(tmp_path):
    _fake_bsdata(tmp_path)
    backend = DarkBlobBackend()
    r = el.bsdata_protocol(backend, tmp_path, n_good=2, max_test=10, explain_n=3)
    assert backend.taught == [("BSDATA-1130x460", 2, False)]
    assert len(backend.ignore_masks) == 2 and all(m.sum() >= 2 * 12 * 12 for m in backend.ignore_masks)
    assert r["teach"] == "ignore"
    inpainted = el.bsdata_protocol(backend, tmp_path, n_good=2, max_test=10, explain_n=0, teach="inpaint")
    assert backend.ignore_masks is None and inpainted["hit_rate"] == 1.0
    assert r["images"] == 4 and r["pits"] == 8
    assert r["hit_rate"] == 1.0 and r["image_recall"] == 1.0
    assert r["false_alarms_per_image"] == 1.0
    assert r["verdicts"]["NG"] == 4  # 'No pitting allowed' with pits found
    assert r["explained"] == 3 and r["explain_fallback"] == pytest.approx(1 / 3)


def test_inpainting_removes_the_defect():
    img = np.full((100, 100, 3), 150, np.uint8)
    img[40:50, 40:50] = 20
    mask = np.zeros((100, 100), np.uint8)
    mask[40:50, 40:50] = 255
    out = el.inpaint_defects(img, mask)
    assert out[40:50, 40:50].min() > 100


def test_deeppcb_protocol_matches_at_iou_and_scores_types(tmp_path):
    rows = []
    for i in range(3):
        test = np.full((200, 200, 3), 255, np.uint8)
        temp = test.copy()
        test[20:40, 20:40] = 0
        test[120:150, 100:130] = 0
        _write(tmp_path / f"g/{i}_test.png", test)
        _write(tmp_path / f"g/{i}_temp.png", temp)
        rows.append({"test_image": f"g/{i}_test.png", "template_image": f"g/{i}_temp.png",
                     "boxes": "open:20,20,40,40;short:100,120,130,150"})
    with open(tmp_path / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    backend = DarkBlobBackend(word="open circuit", false_alarm=True)
    r = el.deeppcb_protocol(backend, tmp_path, max_pairs=10, explain_n=0)
    assert all(t for _, _, t in backend.taught) and len(backend.taught) == 3
    assert r["recall"] == 1.0 and r["precision"] == pytest.approx(6 / 9)
    assert r["typed_right_of_matched"] == pytest.approx(0.5)
    assert r["recall_raw"] == 1.0 and r["recall_centre"] == 1.0 and r["precision_raw"] == pytest.approx(6 / 9)
    assert r["grown_to_px"] == 25  # median of the ground-truth boxes' longer sides (20 and 30)
    assert el.iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)


def test_a_tight_finding_in_a_loose_annotation_box_matches_when_grown_or_by_centre():
    gt = [(100, 100, 30, 30)]  # DeepPCB-style box around a defect of a few pixels
    tight = [(111, 112, 6, 5)]
    assert el.greedy_match(gt, tight, el.iou, el.IOU_MIN) == []
    assert el.grow_box(tight[0], 30) == (99, 100, 30, 30)
    assert el.greedy_match(gt, [el.grow_box(b, 30) for b in tight], el.iou, el.IOU_MIN) == [(0, 0)]
    assert el.greedy_match(gt, tight, el._centre_inside, 0.5) == [(0, 0)]
    assert el.greedy_match(gt, [(10, 10, 6, 5)], el._centre_inside, 0.5) == []
    # one to one: a second ground truth cannot take the same finding
    assert el.greedy_match(gt * 2, tight, el._centre_inside, 0.5) == [(0, 0)]


def test_eval_cli_registers_and_rejects_unknown_dataset(tmp_path, capsys):
    from inspector.cli import eval as eval_cli
    from inspector.training import evaluate

    parser = argparse.ArgumentParser()
    eval_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["eval", "--datasets", "neu", "--k", "0,5", "--seeds", "1"])
    assert args.k == [0, 5] and args.seeds == [1] and args.func is eval_cli.run_eval
    assert evaluate.main(["--datasets", "nope", "--data", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert evaluate.main(["--datasets", "neu", "--data", str(tmp_path / "absent")]) == 2
