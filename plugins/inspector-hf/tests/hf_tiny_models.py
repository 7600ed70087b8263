"""Tiny random transformers models written with ``save_pretrained``, for the hf plugin's tests (offline).

* :func:`write_backbone`: DINOv2, ResNet or ConvNeXt with a few thousand parameters, plus a
  ``preprocessor_config.json`` with its mean/std.
* :func:`write_llava`: a LLaVA (CLIP vision tower + Llama text model, 1 layer each) with a
  word-level tokenizer built with the ``tokenizers`` library, a chat template and a PIL CLIP
  image processor: what ``AutoProcessor`` / ``AutoModelForImageTextToText`` load from a real
  LLaVA folder. :func:`write_qwen2vl`: the same for Qwen2-VL (grid-patch tower, M-RoPE).
* With ``answer``, the text model's weights are set so that greedy decoding after the prompt
  writes exactly that answer: every attention and MLP output is zeroed (each position then
  sees only its own token), the embeddings are one-hot and the LM head maps each answer word to
  the next one (a bigram chain from the template's last token ``ASSISTANT:`` to ``</s>``; the
  answer's words must therefore be distinct). Everything else stays random: the vision tower
  and projector run, and their output goes through the real generate loop.
"""

from __future__ import annotations

import json
from pathlib import Path

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'].upper() }}: {% for c in m['content'] %}"
                 "{% if c['type'] == 'image' %}<image>\n{% else %}{{ c['text'] }}{% endif %}{% endfor %} "
                 "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}")
SPECIALS = ["[UNK]", "<s>", "</s>", "<image>", "USER:", "ASSISTANT:"]
FILLER = ["part", "defect", "found", "is", "OK", "the"]


def write_backbone(folder: Path, kind: str = "dinov2", seed: int = 0, mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)):
    """A tiny random vision backbone of ``kind`` (dinov2 | resnet | convnext) saved in ``folder``."""
    import torch
    import transformers as T

    torch.manual_seed(seed)
    if kind == "dinov2":
        model = T.Dinov2Model(T.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                             intermediate_size=64, patch_size=14, image_size=56))
    elif kind == "resnet":
        model = T.ResNetModel(T.ResNetConfig(embedding_size=16, hidden_sizes=[16, 24, 32, 48], depths=[1, 1, 1, 1],
                                             layer_type="basic"))
    elif kind == "convnext":
        model = T.ConvNextModel(T.ConvNextConfig(hidden_sizes=[16, 24, 32, 48], depths=[1, 1, 1, 1]))
    else:
        raise ValueError(kind)
    folder = Path(folder)
    model.save_pretrained(str(folder))
    (folder / "preprocessor_config.json").write_text(json.dumps({"image_mean": list(mean), "image_std": list(std)}))
    return folder


QWEN_TEMPLATE = CHAT_TEMPLATE.replace("<image>\n", "<|vision_start|><|image_pad|><|vision_end|>\n")
QWEN_SPECIALS = ["<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|video_pad|>"]


def _tokenizer(words: list[str], specials: tuple[str, ...] = ("<image>",)):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(dict.fromkeys(SPECIALS + list(specials) + words + FILLER))}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", bos_token="<s>", eos_token="</s>",
                                  pad_token="</s>")
    tok.add_special_tokens({"additional_special_tokens": list(specials)})
    return tok


def _words(answer: str | None) -> list[str]:
    words = answer.split() if answer else []
    if len(set(words)) != len(words):
        raise ValueError("the answer's words must be distinct for a bigram chain")
    return words


def _bigram(model, chain: list[int]) -> None:
    """Weights so that greedy decoding after ``chain[0]`` emits ``chain[1:]`` (see the module doc)."""
    import torch

    lm = model.model.language_model
    with torch.no_grad():
        for layer in lm.layers:
            layer.self_attn.o_proj.weight.zero_()
            layer.mlp.down_proj.weight.zero_()
        emb = lm.embed_tokens.weight
        emb.zero_()
        emb[torch.arange(emb.shape[0]), torch.arange(emb.shape[0])] = 1.0
        head = model.lm_head.weight
        head.zero_()
        for a, b in zip(chain, chain[1:], strict=False):
            head[b, a] = 10.0


def write_llava(folder: Path, answer: str | None = None, seed: int = 0) -> Path:
    """A tiny LLaVA folder; with ``answer`` it greedily writes that answer (distinct words)."""
    import torch
    import transformers as T

    words = _words(answer)
    tok = _tokenizer(words)
    vocab = tok.get_vocab()
    image_proc = T.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    processor = T.LlavaProcessor(image_processor=image_proc, tokenizer=tok, patch_size=8,
                                 vision_feature_select_strategy="default", chat_template=CHAT_TEMPLATE,
                                 num_additional_image_tokens=1)
    vision = T.CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                                image_size=32, patch_size=8, projection_dim=32)
    hidden = max(64, len(vocab))
    text = T.LlamaConfig(hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, vocab_size=len(vocab), bos_token_id=1,
                         eos_token_id=2, pad_token_id=2, tie_word_embeddings=False)
    cfg = T.LlavaConfig(vision_config=vision, text_config=text, image_token_id=vocab["<image>"],
                        vision_feature_layer=-1, vision_feature_select_strategy="default", image_seq_length=16)
    torch.manual_seed(seed)
    model = T.LlavaForConditionalGeneration(cfg)
    if answer:
        _bigram(model, [vocab["ASSISTANT:"]] + [vocab[w] for w in words] + [vocab["</s>"]])
    folder = Path(folder)
    model.save_pretrained(str(folder))
    processor.save_pretrained(str(folder))
    return folder


def write_qwen2vl(folder: Path, answer: str | None = None, seed: int = 0) -> Path:
    """A tiny Qwen2-VL folder (grid-patch vision tower, M-RoPE text model), saved as a real one is.

    Its processor cannot be built here (``Qwen2VLProcessor`` needs a torchvision video
    processor), so the folder gets what a downloaded one has for images: the tokenizer, the PIL
    image processor's ``preprocessor_config.json``, ``chat_template.jinja`` and a
    ``processor_config.json`` naming the processor class.
    """
    import torch
    import transformers as T

    words = _words(answer)
    tok = _tokenizer(words, tuple(QWEN_SPECIALS))
    vocab = tok.get_vocab()
    image_proc = T.Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 16, patch_size=14,
                                         merge_size=2, temporal_patch_size=2)
    vision = {"depth": 1, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2, "patch_size": 14,
              "spatial_merge_size": 2, "temporal_patch_size": 2, "in_channels": 3}
    text = {"vocab_size": len(vocab), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
            "num_attention_heads": 2, "num_key_value_heads": 2, "bos_token_id": 1, "eos_token_id": 2,
            "pad_token_id": 2, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                                   "mrope_section": [4, 6, 6]}}
    cfg = T.Qwen2VLConfig(text_config=text, vision_config=vision, image_token_id=vocab["<|image_pad|>"],
                          video_token_id=vocab["<|video_pad|>"], vision_start_token_id=vocab["<|vision_start|>"],
                          vision_end_token_id=vocab["<|vision_end|>"], tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = T.Qwen2VLForConditionalGeneration(cfg)
    if answer:
        _bigram(model, [vocab["ASSISTANT:"]] + [vocab[w] for w in words] + [vocab["</s>"]])
    folder = Path(folder)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    image_proc.save_pretrained(str(folder))
    (folder / "chat_template.jinja").write_text(QWEN_TEMPLATE)
    (folder / "processor_config.json").write_text(json.dumps({"processor_class": "Qwen2VLProcessor"}))
    return folder
