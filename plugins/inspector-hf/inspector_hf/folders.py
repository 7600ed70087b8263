"""The ``hf`` plugin's settings and the model folders they name: checked before anything loads.

A model folder is what ``save_pretrained`` writes: ``config.json`` plus weights
(``*.safetensors`` or ``pytorch_model.bin``, sharded ones with their ``*.index.json``), for a
VLM also the processor and tokenizer files. ``model_dir`` may hold ``backbone/`` and
``vlm/`` sub-folders, or be a backbone folder itself; ``backbone_dir`` / ``vlm_dir`` name
them one by one. Every problem is a :class:`ModelFolderError` (or :class:`HFSettingsError`)
whose message says which folder and what is wrong, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from inspector.model.base import ModelError

WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "*.safetensors.index.json")
DTYPES = ("auto", "float32", "float16", "bfloat16")
RESOLUTIONS = ("native", "stride8")
TYPINGS = ("embedded", "none")
EXPLAINERS = ("auto", "vlm", "embedded")


class HFSettingsError(ModelError):
    """The ``plugins.hf`` settings section has an unknown key or a bad value."""


class ModelFolderError(ModelError):
    """A model folder is missing, is not a transformers model folder, or cannot be loaded."""


@dataclass(frozen=True)
class HFOptions:
    """The ``plugins.hf`` section (see docs/integrations.md, "Bring-your-own model")."""

    model_dir: str | None = None  # holds backbone/ (and vlm/), or is the backbone folder itself
    backbone_dir: str | None = None  # the vision backbone folder (overrides model_dir)
    vlm_dir: str | None = None  # the vision-language model folder (overrides model_dir/vlm)
    layers: tuple[int, ...] | None = None  # hidden-state indices whose features are used (0 = embeddings)
    dtype: str = "auto"  # backbone dtype: auto = float16 on CUDA, float32 on CPU
    resolution: str = "native"  # ViT: native token grid, or 'stride8' (input upsampled, a token per 8 px)
    typing: str = "embedded"  # region types by the embedded typing head, or 'none' (all 'unknown')
    explainer: str = "auto"  # auto: the VLM when there is one, else the embedded explainer
    vlm_dtype: str = "auto"
    max_new_tokens: int = 96
    context: float = 3.0  # the VLM sees a crop this many times the flagged region's size (0 = whole image)

    @classmethod
    def from_mapping(cls, section: Mapping[str, Any] | None) -> HFOptions:
        """Options from a settings section; unknown keys and bad values raise :class:`HFSettingsError`."""
        data = dict(section or {})
        data.pop("enabled", None)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise HFSettingsError(f"unknown plugins.hf setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        for key, allowed in (("dtype", DTYPES), ("vlm_dtype", DTYPES), ("resolution", RESOLUTIONS),
                             ("typing", TYPINGS), ("explainer", EXPLAINERS)):
            if key in data and data[key] not in allowed:
                raise HFSettingsError(f"plugins.hf.{key} is {data[key]!r}; choose one of {', '.join(allowed)}")
        if data.get("layers") is not None:
            layers = data["layers"]
            if isinstance(layers, int | str):
                layers = [layers]
            try:
                data["layers"] = tuple(int(v) for v in layers)
            except (TypeError, ValueError) as e:
                raise HFSettingsError(f"plugins.hf.layers must be a list of integers, got {layers!r}") from e
            if not data["layers"]:
                raise HFSettingsError("plugins.hf.layers is empty; leave it out for the default layers")
        try:
            if "max_new_tokens" in data:
                data["max_new_tokens"] = int(data["max_new_tokens"])
            if "context" in data:
                data["context"] = float(data["context"])
        except (TypeError, ValueError) as e:
            raise HFSettingsError(f"plugins.hf: {e}") from e
        if data.get("max_new_tokens", 1) < 1 or data.get("context", 0.0) < 0:
            raise HFSettingsError("plugins.hf.max_new_tokens must be >= 1 and context >= 0")
        for key in ("model_dir", "backbone_dir", "vlm_dir"):
            if data.get(key) is not None:
                data[key] = str(Path(str(data[key])).expanduser())
        return cls(**data)


@dataclass(frozen=True)
class ModelFolders:
    backbone: Path
    vlm: Path | None = None


def check_folder(path: Path, what: str) -> Path:
    """``path`` when it is a loadable transformers model folder, else :class:`ModelFolderError`."""
    path = Path(path)
    if not path.exists():
        raise ModelFolderError(f"{what} folder {path} does not exist")
    if not path.is_dir():
        raise ModelFolderError(f"{what} folder {path} is a file; name the folder save_pretrained wrote")
    cfg_path = path / "config.json"
    if not cfg_path.is_file():
        raise ModelFolderError(f"{what} folder {path} is not a transformers model folder: config.json is missing "
                               "(write one with model.save_pretrained(folder))")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ModelFolderError(f"{what} folder {path}: config.json cannot be read ({e})") from e
    if not isinstance(cfg, dict) or not cfg.get("model_type"):
        raise ModelFolderError(f"{what} folder {path}: config.json names no model_type")
    if cfg.get("auto_map"):
        raise ModelFolderError(f"{what} folder {path} needs the model's own code (auto_map in config.json); "
                               "this backend never runs remote code: use a model transformers ships")
    if not any(any(path.glob(p)) for p in WEIGHT_PATTERNS):
        raise ModelFolderError(f"{what} folder {path} holds no weights (*.safetensors or pytorch_model.bin)")
    return path


def resolve(options: HFOptions) -> ModelFolders:
    """The backbone (and VLM) folders the options name, each checked by :func:`check_folder`."""
    root = Path(options.model_dir) if options.model_dir else None
    if options.backbone_dir:
        backbone = Path(options.backbone_dir)
    elif root is not None:
        backbone = root / "backbone" if (root / "backbone").is_dir() else root
    else:
        raise ModelFolderError("the hf backend needs a model folder: set plugins.hf.model_dir (or backbone_dir) "
                               "in the settings, or pass --model-dir")
    vlm = Path(options.vlm_dir) if options.vlm_dir else None
    if vlm is None and root is not None and (root / "vlm").is_dir():
        vlm = root / "vlm"
    if options.explainer == "vlm" and vlm is None:
        raise ModelFolderError("plugins.hf.explainer is 'vlm' but no vision-language model folder is set "
                               "(vlm_dir, or a vlm/ folder inside model_dir)")
    if options.explainer == "embedded":
        vlm = None
    return ModelFolders(check_folder(backbone, "backbone"), check_folder(vlm, "vision-language model") if vlm else None)


def folder_sha256(path: Path) -> str:
    """sha256 over the files of a model folder (relative names + content hashes), hidden files left out."""
    from inspector.model.backbone import file_sha256

    h = hashlib.sha256()
    root = Path(path)
    files = (q for q in root.rglob("*") if q.is_file())
    for p in sorted(q for q in files if not any(s.startswith(".") for s in q.relative_to(root).parts)):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + file_sha256(str(p)).encode() + b"\n")
    return h.hexdigest()
