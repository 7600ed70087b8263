"""Loading a VLM folder's processor without torchvision.

``AutoProcessor`` works for LLaVA and Idefics3 folders here: transformers falls back to the
PIL image processors. Qwen2-VL-style processors also hold a *video* processor, which exists
only with torchvision, so the whole processor refuses to load. :class:`GridImageProcessor`
stands in for those: the folder's own image processor (PIL) and tokenizer, the chat template,
and the one thing the processor adds, the expansion of the image placeholder into one token per
merged patch (``image_grid_thw.prod() // merge_size**2``, as ``Qwen2VLProcessor`` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inspector_hf.folders import ModelFolderError

IMAGE_TOKENS = ("<|image_pad|>", "<image>")


class GridImageProcessor:
    """Image processor + tokenizer of a grid-patch VLM folder (Qwen2-VL class), images only."""

    def __init__(self, folder: Path):
        from transformers import AutoImageProcessor, AutoTokenizer

        self.image_processor = AutoImageProcessor.from_pretrained(str(folder), local_files_only=True)
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        template = Path(folder) / "chat_template.jinja"
        self.chat_template = template.read_text(encoding="utf-8") if template.is_file() else \
            getattr(self.tokenizer, "chat_template", None)
        self.merge = int(getattr(self.image_processor, "merge_size", 0) or 0)
        vocab = self.tokenizer.get_vocab()
        self.image_token = getattr(self.tokenizer, "image_token", None) or next(
            (t for t in IMAGE_TOKENS if t in vocab), None)
        if not self.merge or self.image_token is None:
            raise ModelFolderError(f"{Path(folder).name}: not a grid-patch (Qwen2-VL class) processor: "
                                   "no merge_size or image token")

    def apply_chat_template(self, messages: list[dict[str, Any]], add_generation_prompt: bool = True) -> str:
        return self.tokenizer.apply_chat_template(messages, chat_template=self.chat_template, tokenize=False,
                                                  add_generation_prompt=add_generation_prompt)

    def __call__(self, text: list[str], images: list[Any], return_tensors: str = "pt") -> dict[str, Any]:
        pixels = self.image_processor(images=images, return_tensors=return_tensors)
        grid = pixels.get("image_grid_thw")
        if grid is None:
            raise ModelFolderError("the image processor gives no image_grid_thw: this folder needs its own processor")
        counts = iter(int(g.prod()) // self.merge**2 for g in grid)
        marker = "\0image\0"
        out = []
        for t in text:  # each placeholder becomes as many image tokens as that image has merged patches
            t = t.replace(self.image_token, marker)
            while marker in t:
                t = t.replace(marker, self.image_token * next(counts), 1)
            out.append(t)
        return {**self.tokenizer(out, return_tensors=return_tensors), **pixels}


def load_processor(folder: Path) -> Any:
    """``AutoProcessor`` of the folder, or :class:`GridImageProcessor` where only that loads."""
    from transformers import AutoProcessor

    try:
        return AutoProcessor.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except Exception as e:
        first = e
    try:
        return GridImageProcessor(folder)
    except Exception as e:
        raise ModelFolderError(f"vision-language model folder {folder}: its processor does not load ({first}); "
                               f"nor its image processor and tokenizer alone ({e})") from first
