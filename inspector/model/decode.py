"""Greedy decoding of a Llama-family model with a pre-allocated (static) KV cache.

``transformers``' ``generate()`` spends most of its time in Python and cache bookkeeping for a
model this small (~90 ms per token on an H100 for SmolLM2-135M). This loop runs the model's
own modules (norms, projections, MLPs, so LoRA wrappers apply) over a fixed-size KV cache, and
on CUDA captures the whole one-token step — embedding, 30 layers, head, argmax, cache write,
position increment — in one CUDA graph that is replayed per token.

The result is token-for-token the same as greedy ``generate()`` (tested on tiny random models).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    import torch

    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class StaticDecoder:
    """Greedy decoder over a fixed KV cache of ``max_len`` positions for one sequence.

    ``model``: a ``LlamaForCausalLM`` (or same-shaped: ``model.model.layers`` with
    ``self_attn.{q,k,v,o}_proj``, ``mlp``, two RMS norms, ``rotary_emb``, ``lm_head``).
    ``cuda_graph``: capture the per-token step in a CUDA graph (default: on when the model is
    on CUDA). Not thread-safe: one generation at a time per decoder (the caller locks).
    """

    def __init__(self, model, max_len: int = 384, cuda_graph: bool | None = None):
        import torch

        self.model = model
        cfg = model.config
        inner = model.model
        self.layers = list(inner.layers)
        self.norm = inner.norm
        self.embed = inner.embed_tokens
        self.lm_head = model.lm_head
        p = next(model.parameters())
        self.device, self.dtype = p.device, p.dtype
        self.max_len = int(max_len)
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        shape = (len(self.layers), 1, self.n_kv, self.max_len, self.head_dim)
        self.k_cache = torch.zeros(shape, device=self.device, dtype=self.dtype)
        self.v_cache = torch.zeros(shape, device=self.device, dtype=self.dtype)
        with torch.no_grad():
            pos = torch.arange(self.max_len, device=self.device)[None]
            probe = torch.zeros(1, 1, self.head_dim, device=self.device, dtype=self.dtype)
            cos, sin = inner.rotary_emb(probe, pos)
        self.cos, self.sin = cos[0].to(self.dtype), sin[0].to(self.dtype)  # (max_len, head_dim)
        self._keys = torch.arange(self.max_len, device=self.device)
        # static state of the one-token step (read and advanced inside the step itself)
        self._tok = torch.zeros(1, 1, dtype=torch.long, device=self.device)
        self._pos = torch.zeros(1, dtype=torch.long, device=self.device)
        self._next = torch.zeros(1, dtype=torch.long, device=self.device)
        if cuda_graph is None:
            cuda_graph = self.device.type == "cuda"
        self.cuda_graph = bool(cuda_graph)
        self._graph = None

    # -- the network -------------------------------------------------------------------

    def _layer(self, i: int, layer, h: torch.Tensor, pos: torch.Tensor, mask: torch.Tensor | None,
               kv_len: int) -> torch.Tensor:
        """One decoder layer. ``mask`` None: eager path, attend to cache[:kv_len] (causal if T > 1)."""
        import torch.nn.functional as F

        b, t, _ = h.shape
        attn = layer.self_attn
        x = layer.input_layernorm(h)
        q = attn.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        cos, sin = self.cos[pos][None, None], self.sin[pos][None, None]
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        kc, vc = self.k_cache[i], self.v_cache[i]
        kc.index_copy_(2, pos, k.to(kc.dtype))
        vc.index_copy_(2, pos, v.to(vc.dtype))
        gqa = self.n_kv != self.n_heads
        if mask is None:  # eager: only the filled part of the cache; no mask tensor (fast CPU kernels)
            o = F.scaled_dot_product_attention(q, kc[:, :, :kv_len], vc[:, :, :kv_len], is_causal=t > 1,
                                               enable_gqa=gqa)
        else:  # CUDA graph: fixed shapes, the mask hides positions not yet written
            o = F.scaled_dot_product_attention(q, kc, vc, attn_mask=mask, enable_gqa=gqa)
        o = o.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)
        h = h + attn.o_proj(o)
        return h + layer.mlp(layer.post_attention_layernorm(h))

    def _forward_last(self, h: torch.Tensor, pos: torch.Tensor, kv_len: int | None) -> torch.Tensor:
        """Run all layers on embeddings ``h`` (1, T, D) at positions ``pos`` (T,); logits of the last.

        ``kv_len``: positions filled after this call (eager path); None = masked fixed-shape path.
        """
        mask = None if kv_len is not None else (self._keys[None, :] <= pos[:, None])[None, None]
        for i, layer in enumerate(self.layers):
            h = self._layer(i, layer, h, pos, mask, kv_len or 0)
        return self.lm_head(self.norm(h[:, -1]))

    def _step(self, kv_len: int | None = None) -> torch.Tensor:
        """One token: reads ``_tok``/``_pos``, writes the cache, leaves the next token in ``_tok``."""
        h = self.embed(self._tok).to(self.dtype)
        logits = self._forward_last(h, self._pos, kv_len)
        nxt = logits.argmax(-1)
        self._next.copy_(nxt)
        self._tok.copy_(nxt.view(1, 1))
        self._pos.add_(1)
        return self._next

    def _capture(self) -> None:
        import torch

        saved = self._pos.clone(), self._tok.clone()
        stream = torch.cuda.Stream(device=self.device)
        stream.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(stream):
            for _ in range(2):  # warm-up (allocations, cuBLAS handles) outside the graph
                self._pos.copy_(saved[0])
                self._step()
        torch.cuda.current_stream(self.device).wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._step()
        self._graph = graph
        self._pos.copy_(saved[0])
        self._tok.copy_(saved[1])

    # -- public --------------------------------------------------------------------------

    def prefill(self, embeds: torch.Tensor) -> int:
        """Start a sequence from input embeddings (1, T, D); return the first generated token."""
        import torch

        t = embeds.shape[1]
        if t >= self.max_len:
            raise ValueError(f"prompt of {t} tokens does not fit the decoder's {self.max_len} positions")
        pos = torch.arange(t, device=self.device)
        logits = self._forward_last(embeds.to(self.device, self.dtype), pos, t)
        nxt = logits.argmax(-1)
        self._tok.copy_(nxt.view(1, 1))
        self._pos.fill_(t)
        return int(nxt.item())

    def generate(
        self,
        embeds: torch.Tensor,
        max_new_tokens: int = 64,
        eos_ids: Sequence[int] = (),
        stop: Callable[[list[int]], bool] | None = None,
    ) -> list[int]:
        """Greedy continuation of ``embeds`` (1, T, D): new token ids, the EOS included if reached.

        Stops at an id in ``eos_ids``, after ``max_new_tokens``, at the cache's end, or when
        ``stop(tokens_so_far)`` returns True (e.g. after three sentences).
        """
        import torch

        with torch.inference_mode():
            out = [self.prefill(embeds)]
            limit = min(int(max_new_tokens), self.max_len - embeds.shape[1])
            eos = set(int(e) for e in eos_ids)
            if self.cuda_graph and self._graph is None and limit > 1:
                try:
                    self._capture()
                except RuntimeError as e:  # capture is an optimisation: decode eagerly instead
                    log.warning("CUDA graph capture failed, decoding without it: %s", e)
                    self.cuda_graph = False
                    self._pos.fill_(embeds.shape[1])
                    self._tok.fill_(out[0])
            while len(out) < limit and out[-1] not in eos and not (stop and stop(out)):
                if self._graph is not None:
                    self._graph.replay()
                    out.append(int(self._next.item()))
                else:  # the position is known on the host: prompt length + tokens so far - 1
                    out.append(int(self._step(embeds.shape[1] + len(out)).item()))
        return out
