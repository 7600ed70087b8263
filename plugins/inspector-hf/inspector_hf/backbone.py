"""A transformers vision model as the patch-feature backbone of the built-in localisation.

:class:`HFBackbone` offers what :mod:`inspector.model.localize`, the memory bank and the
template mode use from the embedded backbone: ``device``, ``dtype``, ``blocks`` (here: the
hidden-state indices used, recorded with every taught reference), ``dim``, ``normalize`` and
``patch_features`` (normalised (B, 3, H, W), H and W multiples of 16 -> (B, D, H/8, W/8)).

Any ``AutoModel`` that returns ``hidden_states`` works in one of two shapes:

* convolutional (ResNet, ConvNeXt...): (B, C, h, w) maps; by default the deepest stage at
  stride 8 and the deepest at stride 16, like the embedded EfficientNet's blocks;
* transformer with a patch grid (ViT, DINOv2...): (B, prefix + h*w, C) tokens, the class and
  register tokens dropped; by default a middle layer and the last one. The input is resized
  to a multiple of the patch size (``resolution='native'``) or to a token every 8 px
  (``'stride8'``: finer maps, (patch/8)^2 times the work).

Maps of other strides are pooled or interpolated to stride 8, concatenated and smoothed over
3x3 cells (PatchCore-style), as the embedded backbone does. Preprocessing is done here with
torch (mean/std from the folder's ``preprocessor_config.json``, ImageNet's otherwise): no
image processor, so nothing needs torchvision.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.model.backbone import IMAGENET_MEAN, IMAGENET_STD, STRIDE
from inspector_hf.folders import ModelFolderError

if TYPE_CHECKING:
    import torch

PROBE_SIDE = 64  # side of the blank image run once at load to learn the hidden-state layout


def torch_dtype(name: str, device):
    """'auto' -> float16 on CUDA, float32 elsewhere; else the named dtype."""
    import torch

    if name == "auto":
        return torch.float16 if torch.device(device).type == "cuda" else torch.float32
    return getattr(torch, name)


def normalisation(folder: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(mean, std) of the folder's preprocessor_config.json, ImageNet's when it has none."""
    try:
        cfg = json.loads((Path(folder) / "preprocessor_config.json").read_text(encoding="utf-8"))
        mean, std = tuple(float(v) for v in cfg["image_mean"]), tuple(float(v) for v in cfg["image_std"])
        if len(mean) == 3 and len(std) == 3 and min(std) > 0:
            return mean, std
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return IMAGENET_MEAN, IMAGENET_STD


def load_model(folder: Path, dtype, what: str = "backbone"):
    """``AutoModel`` from a local folder (no download, no remote code); :class:`ModelFolderError` on failure."""
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no per-load progress bars in the station's log
    try:
        return AutoModel.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False, dtype=dtype)
    except Exception as e:  # transformers raises OSError, ValueError, KeyError... for a bad folder
        raise ModelFolderError(f"{what} folder {folder} cannot be loaded with transformers AutoModel: {e}") from e


class HFBackbone:
    """Patch features from a transformers vision model. Thread-safe for inference once built."""

    graph_safe = False  # not captured in CUDA graphs (see inspector.model.accel): eager CUDA

    def __init__(self, folder: Path | str, device: str = "cpu", layers: tuple[int, ...] | None = None,
                 dtype: str = "auto", resolution: str = "native"):
        import torch

        self.folder = Path(folder)
        self.device = torch.device(device)
        self.dtype = torch_dtype(dtype, self.device)
        self.half = self.dtype == torch.float16
        self.resolution = resolution
        model = load_model(self.folder, self.dtype)
        self._model = model.eval().requires_grad_(False).to(self.device)
        mean, std = normalisation(self.folder)
        self._mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        try:
            params = inspect.signature(model.forward).parameters
        except (TypeError, ValueError):
            params = {}
        self._kw = {"interpolate_pos_encoding": True} if "interpolate_pos_encoding" in params else {}
        patch = getattr(model.config, "patch_size", None)
        self.patch = int(patch[0] if isinstance(patch, list | tuple) else patch or 0)
        self.kind, self.strides, self.channels = self._layout()
        self.blocks = tuple(layers) if layers else self._default_layers()
        bad = [i for i in self.blocks if not -len(self.strides) <= i < len(self.strides)]
        if bad:
            raise ModelFolderError(f"backbone {self.folder.name} has hidden states 0..{len(self.strides) - 1}; "
                                   f"layers {bad} do not exist")
        self.blocks = tuple(i % len(self.strides) for i in self.blocks)
        self.dim = sum(self.channels[i] for i in self.blocks)

    # -- layout ------------------------------------------------------------------------

    def _hidden(self, x: torch.Tensor) -> tuple:
        import torch

        with torch.inference_mode():
            out = self._model(pixel_values=x, output_hidden_states=True, **self._kw)
        hs = getattr(out, "hidden_states", None)
        if not hs:
            raise ModelFolderError(f"backbone {self.folder.name} ({type(self._model).__name__}) returns no "
                                   "hidden_states: use a vision model such as DINOv2, ViT, ConvNeXt or ResNet")
        return hs

    def _layout(self) -> tuple[str, tuple[float, ...], tuple[int, ...]]:
        """('cnn' | 'vit', stride of each hidden state, channels of each), from one blank image."""
        import torch

        side = self.patch * max(4, -(-PROBE_SIDE // self.patch)) if self.patch else PROBE_SIDE
        try:
            hs = self._hidden(torch.zeros((1, 3, side, side), device=self.device, dtype=self.dtype))
        except ModelFolderError:
            raise
        except Exception as e:
            raise ModelFolderError(f"backbone {self.folder.name} ({type(self._model).__name__}) does not take "
                                   f"an image ({e}): use a vision model such as DINOv2, ViT, ConvNeXt or ResNet") from e
        if all(h.dim() == 4 for h in hs):
            return "cnn", tuple(side / h.shape[-1] for h in hs), tuple(int(h.shape[1]) for h in hs)
        grid = (side // self.patch) ** 2 if self.patch else 0
        if not grid or any(h.dim() != 3 or h.shape[1] < grid for h in hs):
            raise ModelFolderError(f"backbone {self.folder.name} ({type(self._model).__name__}): its hidden states "
                                   f"{[tuple(h.shape) for h in hs][:3]}... are neither feature maps nor a patch-token "
                                   "grid; use a ViT/DINOv2 or a convolutional model (ResNet, ConvNeXt)")
        return "vit", tuple(float(self.patch) for _ in hs), tuple(int(h.shape[-1]) for h in hs)

    def _default_layers(self) -> tuple[int, ...]:
        n = len(self.strides)
        if self.kind == "vit":
            return tuple(sorted({max(1, (n - 1) // 2), n - 1}))
        picked = [max((i for i in range(n) if self.strides[i] == s), default=None) for s in (8, 16)]
        picked = [i for i in picked if i is not None]
        if not picked:  # no stride-8/16 stage: the two finest stages below stride 32
            picked = sorted(range(n), key=lambda i: (self.strides[i], -i))[:2]
        return tuple(sorted(set(picked)))

    # -- features ----------------------------------------------------------------------

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """float (B,3,H,W) RGB in 0..255 -> normalised with the model's mean/std, in ``self.dtype``."""
        return ((x / 255.0 - self._mean) / self._std).to(self.dtype)

    def _input_size(self, h: int, w: int) -> tuple[int, int]:
        if self.kind != "vit":
            return h, w
        p = self.patch
        if self.resolution == "stride8":
            return h // STRIDE * p, w // STRIDE * p
        return max(p, round(h / p) * p), max(p, round(w / p) * p)

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B,3,H,W) normalised -> (B, dim, H/8, W/8) patch features (H, W multiples of 16)."""
        import torch
        import torch.nn.functional as F

        B, _, H, W = x.shape
        size = (H // STRIDE, W // STRIDE)
        ih, iw = self._input_size(H, W)
        x = x.to(self.dtype)
        if (ih, iw) != (H, W):
            x = F.interpolate(x, size=(ih, iw), mode="bilinear", align_corners=False)
        hs = self._hidden(x)
        maps = []
        for i in self.blocks:
            m = hs[i]
            if m.dim() == 3:  # tokens: drop class/register tokens, fold the patch grid
                gh, gw = ih // self.patch, iw // self.patch
                m = m[:, m.shape[1] - gh * gw :, :].transpose(1, 2).reshape(B, -1, gh, gw)
            if m.shape[-2] >= size[0] and m.shape[-1] >= size[1] and m.shape[-2:] != size:
                m = F.adaptive_avg_pool2d(m, size)
            elif m.shape[-2:] != size:
                m = F.interpolate(m, size=size, mode="bilinear", align_corners=False)
            maps.append(m)
        feats = torch.cat(maps, dim=1)
        return F.avg_pool2d(feats, kernel_size=3, stride=1, padding=1)
