"""The explainer's static-cache decoder, LoRA and projector on tiny random Llama models."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from inspector.model.base import ModelError  # noqa: E402
from inspector.model.decode import StaticDecoder  # noqa: E402
from inspector.model.lm import add_lora, load_lora_state, lora_state_dict, merge_lora  # noqa: E402


def tiny_llama(seed: int, kv_heads: int = 2, vocab: int = 97):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                      num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=256,
                      rope_theta=10000.0, bos_token_id=None, eos_token_id=None, pad_token_id=0,
                      tie_word_embeddings=True, initializer_range=0.3)
    return LlamaForCausalLM(cfg).eval()


def reference(model, ids, n):
    out = model.generate(ids, max_new_tokens=n, min_new_tokens=n, do_sample=False)
    return out[0, ids.shape[1]:].tolist()


@pytest.mark.parametrize("seed,kv_heads", [(0, 2), (1, 4), (2, 1)])
def test_static_decode_matches_greedy_generate(seed, kv_heads):
    model = tiny_llama(seed, kv_heads)
    ids = torch.randint(1, 97, (1, 9), generator=torch.Generator().manual_seed(seed))
    ref = reference(model, ids, 30)
    assert len(set(ref)) > 3  # a non-degenerate continuation, so the comparison means something
    dec = StaticDecoder(model, max_len=64)
    got = dec.generate(model.model.embed_tokens(ids), max_new_tokens=30)
    assert got == ref
    # the cache is reused: a second, different prompt decodes correctly too
    ids2 = torch.randint(1, 97, (1, 5), generator=torch.Generator().manual_seed(seed + 100))
    assert dec.generate(model.model.embed_tokens(ids2), max_new_tokens=20) == reference(model, ids2, 20)


def test_lora_applies_in_decoder_and_merge_keeps_tokens():
    model = tiny_llama(3)
    names = add_lora(model, ("q_proj", "v_proj"), r=4, alpha=8.0)
    assert len(names) == 6
    for n, p in model.named_parameters():
        if n.endswith("lora_b"):
            torch.nn.init.normal_(p, std=0.3)
    ids = torch.randint(1, 97, (1, 7), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        ref = reference(model, ids, 25)
        dec = StaticDecoder(model, max_len=48)
        assert dec.generate(model.model.embed_tokens(ids), 25) == ref
        assert merge_lora(model) == 6
        assert dec.generate(model.model.embed_tokens(ids), 25) == ref


def test_lora_changes_output_and_state_roundtrip():
    a, b = tiny_llama(4), tiny_llama(4)
    add_lora(a, r=4)
    add_lora(b, r=4)
    ids = torch.randint(1, 97, (1, 6), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        base = a(ids).logits
        for n, p in a.named_parameters():
            if n.endswith("lora_b"):
                torch.nn.init.normal_(p, std=0.5)
        changed = a(ids).logits
        assert not torch.allclose(base, changed)
        state = lora_state_dict(a)
        assert all(k.endswith((".lora_a", ".lora_b")) for k in state)
        load_lora_state(b, state)
        assert torch.allclose(b(ids).logits, changed, atol=1e-5)


def test_lora_state_mismatch_is_a_model_error():
    a, b = tiny_llama(5), tiny_llama(5)
    add_lora(a, r=4)
    add_lora(b, r=2)
    with pytest.raises(ModelError, match="shape"):
        load_lora_state(b, lora_state_dict(a))
    c = tiny_llama(5)
    add_lora(c, ("q_proj",), r=4)
    with pytest.raises(ModelError, match="do not fit"):
        load_lora_state(c, lora_state_dict(a))


def test_decoder_stops_at_eos_and_stop_callback_and_rejects_long_prompts():
    model = tiny_llama(6)
    ids = torch.randint(1, 97, (1, 8), generator=torch.Generator().manual_seed(6))
    ref = reference(model, ids, 30)
    dec = StaticDecoder(model, max_len=64)
    emb = model.model.embed_tokens(ids)
    eos = ref[10]
    got = dec.generate(emb, 30, eos_ids=(eos,))
    assert got == ref[: ref.index(eos) + 1]
    assert dec.generate(emb, 30, stop=lambda t: len(t) >= 5) == ref[:5]
    assert len(dec.generate(emb, 500)) == 64 - 8  # bounded by the cache
    with pytest.raises(ValueError, match="does not fit"):
        dec.generate(torch.zeros(1, 64, 64), 5)


def test_projector_shapes_and_embedding_scale():
    from inspector.model.explain_vision import FEAT_IN, make_projector

    proj = make_projector(d_model=64, hidden=32, n_tokens=2, embed_std=0.135)
    x = torch.randn(3, 2, FEAT_IN)
    with torch.no_grad():
        y = proj(x)
    assert y.shape == (3, 4, 64)
    # LayerNorm output scaled to the LM's embedding std: per-token std close to 0.135 at init
    assert abs(float(y.std(dim=-1).mean()) - 0.135) < 0.02


def test_prompt_embeddings_put_visual_tokens_between_head_and_tail():
    from inspector.model.explain import prompt_embeddings
    from inspector.model.explain_text import Facts
    from inspector.model.explain_vision import FEAT_IN, make_projector

    class Tok:
        def __call__(self, text, add_special_tokens=False):
            class R:
                input_ids = [ord(c) % 97 for c in text[:12]]
            return R()

    from inspector.domain import VerdictKind, WorkOrder

    model = tiny_llama(7)
    proj = make_projector(d_model=64, hidden=32, n_tokens=2)
    facts = Facts(verdict=VerdictKind.NG, order_id="WO-1", points=(), n_findings=0)
    feats = np.random.default_rng(0).normal(size=(2, FEAT_IN)).astype(np.float32)
    e = prompt_embeddings(model, Tok(), proj, feats, facts, WorkOrder(order_id="WO-1"))
    assert e.shape == (1, 12 + 4 + 12, 64)
    with torch.no_grad():
        vis = proj(torch.from_numpy(feats)[None])[0]
    assert torch.allclose(e[0, 12:16], vis, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph decoding needs a CUDA GPU")
def test_cuda_graph_decode_matches_greedy_generate():
    model = tiny_llama(8).cuda()
    ids = torch.randint(1, 97, (1, 9), generator=torch.Generator().manual_seed(8)).cuda()
    ref = reference(model, ids, 30)
    dec = StaticDecoder(model, max_len=64)
    assert dec.cuda_graph
    assert dec.generate(model.model.embed_tokens(ids), 30) == ref
    ids2 = ids.flip(1)
    assert dec.generate(model.model.embed_tokens(ids2), 30) == reference(model, ids2, 30)
