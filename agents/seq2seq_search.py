"""Decoding for the seq2seq agent: greedy, and beam search with a length penalty, batched over sentences.

Both return ids (B, L) in the layout of rlkit.core.tokens (words, ``</s>``, then 0s) and the attention
weights (B, L, S) of the chosen words (None without attention). Beam search ranks hypotheses by
log P(y|x) / lp(y) with GNMT's length penalty lp(y) = ((5 + |y|) / 6) ** alpha (Wu et al. 2016; TF NMT's
`length_penalty_weight`), |y| counting ``</s>``; alpha 0 ranks by log-probability alone. A finished
hypothesis keeps its score and competes with the live ones. With width 1 it returns what greedy does.
"""

from __future__ import annotations

from typing import Any

import torch

from rlkit.agents.seq2seq_nets import Seq2Seq, map_state
from rlkit.core.tokens import BOS, EOS, PAD


def length_penalty(length: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's ((5 + length) / 6) ** alpha."""
    return ((5.0 + length) / 6.0) ** alpha


def greedy(model: Seq2Seq, src: torch.Tensor, max_len: int) -> tuple[torch.Tensor, Any]:
    """The likeliest next word at every step, up to ``</s>`` or `max_len` words."""
    state, memo = model.start(src)
    b = len(src)
    tokens = torch.full((b,), BOS, dtype=torch.long, device=src.device)
    done = torch.zeros(b, dtype=torch.bool, device=src.device)
    ids, weights = [], []
    for _ in range(max_len):
        logp, state, w = model.decoder(tokens[:, None], state, memo)
        tokens = logp[:, 0].argmax(-1).masked_fill(done, PAD)
        ids.append(tokens)
        weights.append(w)
        done |= tokens == EOS
        if done.all():
            break
    attention = None if weights[0] is None else torch.cat(weights, dim=1)
    return torch.stack(ids, dim=1), attention


def beam_search(
    model: Seq2Seq, src: torch.Tensor, max_len: int, width: int, alpha: float
) -> tuple[torch.Tensor, Any]:
    """The best of `width` hypotheses per sentence by length-penalised log-probability."""
    state, memo = model.start(src)
    b, k, dev = len(src), width, src.device
    state = map_state(state, lambda s: s.repeat_interleave(k, dim=1))
    memo = tuple(m.repeat_interleave(k, dim=0) for m in memo)
    scores = torch.full((b, k), float("-inf"), device=dev)
    scores[:, 0] = 0.0  # one live hypothesis to start with
    lengths = torch.zeros(b, k, device=dev)
    done = torch.zeros(b, k, dtype=torch.bool, device=dev)
    history = torch.zeros(b, k, 0, dtype=torch.long, device=dev)
    att_history = None
    tokens = torch.full((b * k,), BOS, dtype=torch.long, device=dev)
    frozen = None
    for _ in range(max_len):
        logp, state, w = model.decoder(tokens[:, None], state, memo)
        logp = logp[:, 0].view(b, k, -1)
        if frozen is None:  # a finished hypothesis continues only with padding, at no cost
            frozen = torch.full_like(logp[0, 0], float("-inf"))
            frozen[PAD] = 0.0
        logp = torch.where(done[..., None], frozen, logp)
        total = scores[..., None] + logp
        new_len = lengths + (~done).float()
        rank = total / length_penalty(new_len, alpha)[..., None]
        _, idx = rank.view(b, -1).topk(k, dim=1)
        beam, word = idx // logp.shape[-1], idx % logp.shape[-1]
        scores = total.view(b, -1).gather(1, idx)
        lengths, done = new_len.gather(1, beam), done.gather(1, beam) | (word == EOS)
        history = torch.cat([history.gather(1, beam[..., None].expand_as(history)), word[..., None]], dim=2)
        flat = (beam + torch.arange(b, device=dev)[:, None] * k).view(-1)
        state = map_state(state, lambda s, flat=flat: s[:, flat])
        if w is not None:
            w = w.view(b, k, 1, -1).gather(1, beam[..., None, None].expand(b, k, 1, w.shape[-1]))
            if att_history is not None:
                idx4 = beam[..., None, None].expand(b, k, *att_history.shape[2:])
                att_history = torch.cat([att_history.gather(1, idx4), w], dim=2)
            else:
                att_history = w
        tokens = word.view(-1)
        if done.all():
            break
    best = (scores / length_penalty(lengths, alpha)).argmax(dim=1)
    ids = history[torch.arange(b), best]
    attention = None if att_history is None else att_history[torch.arange(b), best]
    return ids, attention
