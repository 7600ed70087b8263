"""Inspector plugin ``hf``: a model backend built from transformers model folders on disk.

* anomaly features from a vision backbone loaded with ``AutoModel`` (DINOv2, ViT, ConvNeXt,
  ResNet...) from a local folder, fed to the built-in memory bank, calibration, localisation
  and measurement (:class:`~inspector_hf.backend.HFBackend` subclasses the embedded backend);
* explanations from a transformers vision-language model (LLaVA, Idefics3, Qwen2-VL class)
  from a local folder, checked by the same findings check and replaced by the same template
  when they fail it (:class:`~inspector_hf.explainer.HFExplainer`).

Selected with the settings ``backend: hf`` and ``plugins: {hf: {model_dir: ...}}``, or
``inspector eval --backend hf --model-dir DIR``. Nothing is downloaded (``local_files_only``,
no remote code). Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

from inspector_hf.backend import HFBackend
from inspector_hf.folders import ModelFolderError

__all__ = ["HFBackend", "ModelFolderError"]
