"""Build the checked-in sample data: synthetic BR-100 brackets and a BSData subset.

``build_sample_data(out_dir)`` regenerates ``parts/BR-100/{good,line,examples}`` from fixed
seeds (pixel-identical on the same numpy/OpenCV versions). ``build_bsdata_samples(src, out)``
copies a fixed subset of the real BSData photos with their masks and cuts defect-free crops.
Run both with ``python sample_data/make_samples.py``.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspector.training.synth import make_part, make_sample, texture_from

SEED = 1001
PART = "BR-100"
PIXEL_SIZE_MM = 0.05
ZONE_A_PX = (100, 100, 400, 400)  # x0, y0, x1, y1: zone A of WO-1001 = x 5-20 mm, y 5-20 mm
N_GOOD = 12

# The limits of the BR-100 orders as this data set reads sample_data/workorders (mm / count);
# used only to fill the 'expected_*' columns of labels.csv, computed from the measured masks.
# Both: no cracks, no stains, no scratch in zone A; scratch and dent sizes are the mask's
# min-area-rectangle length (Region.length_px), a pit's size its equivalent-circle diameter
# (Finding.diameter_mm), each pit judged on its own mask.
WO1001 = {"scratch_len_mm": 1.0, "pit_diam_mm": 0.4, "pit_count": 3, "dent_mm": 0.8}
WO1002 = {"scratch_len_mm": 0.3, "pit_diam_mm": 0.2, "pit_count": 1, "dent_mm": 0.4}
ORDERS = {"wo1001": WO1001, "wo1002": WO1002}

# Parts going by on the line: (file stem, defects). Sizes in px at 0.05 mm/px.
LINE: list[tuple[str, list[dict[str, Any]]]] = [
    ("line_01", []),
    ("line_02", [{"type": "scratch", "size_px": 46, "where": (255, 430), "angle_deg": 4}]),
    ("line_03", []),
    ("line_04", [{"type": "crack", "size_px": 34, "where": (250, 250), "angle_deg": 30}]),
    ("line_05", []),
    ("line_06", [{"type": "pitting", "size_px": 6, "count": 2, "where": (300, 200)}]),
    ("line_07", []),
    ("line_08", [{"type": "dent", "size_px": 28, "where": (180, 300)}]),
    ("line_09", []),
    ("line_10", [{"type": "scratch", "size_px": 12, "where": (437, 260), "angle_deg": 80}]),
    ("line_11", []),
    ("line_12", [{"type": "stain", "size_px": 40, "where": (320, 330)}]),
    ("line_13", []),
    ("line_14", [{"type": "pitting", "size_px": 13, "count": 2, "where": (200, 180)}]),
    ("line_15", []),
    ("line_16", [{"type": "dent", "size_px": 11, "where": (330, 150)}]),
    ("line_17", []),
    ("line_18", [{"type": "pitting", "size_px": 6, "count": 5, "where": (250, 330)}]),
    ("line_19", []),
    ("line_20", [{"type": "scratch", "size_px": 30, "where": (70, 250), "angle_deg": 95},
                 {"type": "pitting", "size_px": 5, "count": 1, "where": (300, 300)}]),
    ("line_21", []),
    ("line_22", []),
]

# One labelled example per type that the line set does not show, for teaching/gallery use.
EXAMPLES: list[dict[str, Any]] = [{"type": "burr", "size_px": 14}, {"type": "chip", "size_px": 22},
                                  {"type": "missing_feature"}, {"type": "inclusion", "size_px": 11},
                                  {"type": "corrosion", "size_px": 45}]


def _rng(group: int, i: int) -> np.random.Generator:
    return np.random.default_rng([SEED, group, i])


def _write_png(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = image[..., ::-1] if image.ndim == 3 else image
    if not cv2.imwrite(str(path), np.ascontiguousarray(arr), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write {path}")


def _in_zone_a(box) -> bool:
    x, y, w, h = box
    x0, y0, x1, y1 = ZONE_A_PX
    return x < x1 and x + w > x0 and y < y1 and y + h > y0


def expected_wo1001(infos: list[dict[str, Any]]) -> tuple[str, str]:
    """(OK|NG, reason) for WO-1001 as this data set reads it, from measured defect infos."""
    return expected_verdict(infos, WO1001)


def expected_verdict(infos: list[dict[str, Any]], lim: dict[str, float]) -> tuple[str, str]:
    """(OK|NG, reasons) of a BR-100 order with limits ``lim`` (see ``WO1001``) for these defects."""
    mm = PIXEL_SIZE_MM
    reasons, pits = [], []
    for d in infos:
        t = d["type"]
        if t == "scratch":
            if _in_zone_a(d["box"]):
                reasons.append("scratch inside zone A")
            elif d["length_px"] * mm > lim["scratch_len_mm"]:
                reasons.append(f"scratch {d['length_px'] * mm:.2f} mm > {lim['scratch_len_mm']} mm")
        elif t == "crack":
            reasons.append("crack (none allowed)")
        elif t == "stain":
            reasons.append("stain (none allowed)")
        elif t == "dent" and d["length_px"] * mm > lim["dent_mm"]:
            reasons.append(f"dent {d['length_px'] * mm:.2f} mm > {lim['dent_mm']} mm")
        elif t == "pitting":
            pits.extend(c["diameter_px"] * mm for c in d.get("components", []))
        elif t not in ("scratch", "dent", "pitting"):
            reasons.append(f"{t} (not covered by WO-1001)")
    if pits and max(pits) > lim["pit_diam_mm"]:
        reasons.append(f"pit {max(pits):.2f} mm > {lim['pit_diam_mm']} mm")
    if len(pits) > lim["pit_count"]:
        reasons.append(f"{len(pits)} pits > {lim['pit_count']}")
    return ("NG" if reasons else "OK"), "; ".join(reasons)


LABEL_FIELDS = ["file", "expected_wo1001", "reason_wo1001", "expected_wo1002", "reason_wo1002", "defect_index", "defect_type", "box_x", "box_y", "box_w",
                "box_h", "length_px", "width_px", "area_px", "diameter_px", "feret_px", "count", "max_component_px", "max_component_diameter_px",
                "length_mm", "width_mm", "area_mm2", "diameter_mm", "in_zone_a"]


def _label_rows(file: str, infos: list[dict[str, Any]], judge: bool) -> list[dict]:
    mm = PIXEL_SIZE_MM
    head: dict[str, Any] = {"file": file}
    for key, lim in ORDERS.items():
        ok, reason = expected_verdict(infos, lim) if judge else ("", "")
        head |= {f"expected_{key}": ok, f"reason_{key}": reason}
    if not infos:
        return [{**head, "defect_index": "", "count": 0}]
    rows = []
    for i, d in enumerate(infos):
        comps = d.get("components") or [d]
        rows.append({
            **head, "defect_index": i, "defect_type": d["type"],
            "box_x": d["box"][0], "box_y": d["box"][1], "box_w": d["box"][2], "box_h": d["box"][3],
            "length_px": d["length_px"], "width_px": d["width_px"], "area_px": int(d["area_px"]),
            "diameter_px": d["diameter_px"], "feret_px": d["feret_px"], "count": d["count"],
            "max_component_px": max(c["length_px"] for c in comps),
            "max_component_diameter_px": max(c["diameter_px"] for c in comps),
            "length_mm": round(d["length_px"] * mm, 3), "width_mm": round(d["width_px"] * mm, 3),
            "area_mm2": round(d["area_px"] * mm * mm, 4), "diameter_mm": round(d["diameter_px"] * mm, 3),
            "in_zone_a": int(_in_zone_a(d["box"])),
        })
    return rows


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def build_sample_data(out_dir: str | Path) -> list[Path]:
    """Write the synthetic BR-100 images, masks and labels under ``out_dir``; return the paths.

    ``parts/BR-100/good/good_NN.png``: 12 good parts for teaching. ``parts/BR-100/line/``:
    22 parts as they come down the line (12 good, 10 with defects) + ``masks/`` + ``labels.csv``.
    ``parts/BR-100/examples/``: one labelled example of each remaining type + masks + labels.csv.
    All 512x512 RGB PNG at 0.05 mm/px, seeds fixed (``SEED``).
    """
    root = Path(out_dir) / "parts" / PART
    written: list[Path] = []
    for i in range(N_GOOD):
        p = root / "good" / f"good_{i + 1:02d}.png"
        _write_png(p, make_part(_rng(0, i)))
        written.append(p)
    examples = [(f"example_{d['type']}", [d]) for d in EXAMPLES]
    for group, folder, items in ((1, "line", LINE), (2, "examples", examples)):
        rows = []
        for i, (stem, defects) in enumerate(items):
            image, infos = make_sample(_rng(group, i), defects)
            p = root / folder / f"{stem}.png"
            _write_png(p, image)
            union = np.zeros(image.shape[:2], bool)
            for d in infos:
                union |= d["mask"]
            if infos:
                _write_png(root / folder / "masks" / f"{stem}.png", union.astype(np.uint8) * 255)
            rows += _label_rows(p.name, infos, judge=folder == "line")
            written.append(p)
        _write_csv(root / folder / "labels.csv", LABEL_FIELDS, rows)
        written.append(root / folder / "labels.csv")
    return written


# --- the real BSData subset ---------------------------------------------------------------

BSDATA_PICK = {("1130", "460"): 9, ("1540", "645"): 2}
N_BSDATA_GOOD = 4
GOOD_CROP = (448, 448)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_bsdata_samples(src: str | Path, out_dir: str | Path) -> list[Path]:
    """Copy a fixed, stratified BSData subset (images byte-for-byte, masks, labelme) and cut crops.

    ``src`` is the staged BSData folder (with manifest.csv); ``out_dir`` gets ``images/``,
    ``masks/``, ``labelme/``, ``manifest.csv`` and ``good/`` (defect-free 448x448 crops of
    other images, JPEG quality 95, listed in ``good/manifest.csv``). Raises FileNotFoundError
    when ``src`` has no manifest.
    """
    src, out = Path(src), Path(out_dir)
    rows = list(csv.DictReader((src / "manifest.csv").open(encoding="utf-8")))
    rows.sort(key=lambda r: r["image"])
    picked: list[dict] = []
    for dims, n in BSDATA_PICK.items():
        same = sorted((r for r in rows if (r["width"], r["height"]) == dims),
                      key=lambda r: (float(r["defect_pixel_fraction"]), r["image"]))
        picked += [same[int(round(k * (len(same) - 1) / (n - 1)))] for k in range(n)]  # spread over sizes
    written: list[Path] = []
    man = []
    for r in picked:
        for key, sub in (("image", "images"), ("mask", "masks"), ("labelme", "labelme")):
            dst = out / sub / Path(r[key]).name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / r[key], dst)
            written.append(dst)
        name = Path(r["image"]).name
        man.append({"image": f"images/{name}", "mask": f"masks/{Path(r['mask']).name}",
                    "labelme": f"labelme/{Path(r['labelme']).name}", "width": r["width"], "height": r["height"],
                    "n_polygons": r["n_polygons"], "defect_pixel_fraction": r["defect_pixel_fraction"],
                    "bsd_type": r["bsd_type"], "source_split": r["source_split"],
                    "sha256": _sha256(out / "images" / name)})
    _write_csv(out / "manifest.csv", list(man[0]), man)
    written.append(out / "manifest.csv")

    chosen = {r["image"] for r in picked}
    pool = [r for r in rows if r["image"] not in chosen and (r["width"], r["height"]) == ("1130", "460")]
    rng = np.random.default_rng([SEED, 9])
    good = []
    for r in [pool[int(i)] for i in rng.choice(len(pool), size=N_BSDATA_GOOD, replace=False)]:
        image = cv2.imread(str(src / r["image"]), cv2.IMREAD_COLOR)[..., ::-1]
        mask = cv2.imread(str(src / r["mask"]), cv2.IMREAD_GRAYSCALE)
        crop, (x0, y0) = texture_from(image, rng, GOOD_CROP, defect_mask=mask, margin=24, return_origin=True)
        dst = out / "good" / f"good_{Path(r['image']).stem}.jpg"
        dst.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(dst), np.ascontiguousarray(crop[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 95])
        good.append({"image": dst.name, "source_image": Path(r["image"]).name, "crop_x": x0, "crop_y": y0,
                     "width": GOOD_CROP[0], "height": GOOD_CROP[1], "sha256": _sha256(dst)})
        written.append(dst)
    _write_csv(out / "good" / "manifest.csv", list(good[0]), good)
    written.append(out / "good" / "manifest.csv")
    return written
