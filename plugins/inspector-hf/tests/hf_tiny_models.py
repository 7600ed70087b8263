"""Tiny random transformers models written with ``save_pretrained``, for the hf plugin's tests (offline).

* :func:`write_backbone`: DINOv2, ResNet or ConvNeXt with a few thousand parameters, plus a
  ``preprocessor_config.json`` with its mean/std.
* :func:`write_llava`: a LLaVA (CLIP vision tower + Llama text model, 1 layer each) with a
  word-level tokenizer built with the ``tokenizers`` library, a chat template and a PIL CLIP
  image processor: what ``AutoProcessor`` / ``AutoModelForImageTextToText`` load from a real
  LLaVA folder. With ``answer``, the text model's weights are set so that greedy decoding
  after the prompt writes exactly that answer: every attention and MLP output is zeroed (each
  position then sees only its own token), the embeddings are one-hot and the LM head maps each
  answer word to the next one (a bigram chain from the template's last token ``ASSISTANT:`` to
  ``</s>``; the answer's words must therefore be distinct). Everything else stays random: the
  vision tower and projector run, and their output goes through the real generate loop.
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


def _tokenizer(words: list[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(dict.fromkeys(SPECIALS + words + FILLER))}
    tk = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tk.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", bos_token="<s>", eos_token="</s>",
                                  pad_token="</s>")
    tok.add_special_tokens({"additional_special_tokens": ["<image>"]})
    return tok


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

    words = answer.split() if answer else []
    if len(set(words)) != len(words):
        raise ValueError("the answer's words must be distinct for a bigram chain")
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
