"""The encoder-decoder networks of the seq2seq agent: embeddings, an LSTM/GRU encoder (optionally
bidirectional), and a decoder with no attention, Bahdanau's or Luong's (optionally scaled).

Shapes: source ids (B, S), target ids (B, T), memory (B, S, units), attention weights (B, T, S). Token ids
follow rlkit.core.tokens (0 pads). The decoder starts from the encoder's final state, as TF NMT's
"standard" architecture passes it (`pass_hidden_state`); a bidirectional encoder has units/2 per direction,
its two directions' states concatenated per layer.

Attention (the book's TF NMT options; Luong et al. 2015, Bahdanau et al. 2015):

* ``luong``: score(h_t, m_s) = h_t . W m_s with the decoder's current top state h_t ("general");
  ``scaled_luong`` multiplies it by a learned scalar g (TF's `scale=True`);
* ``bahdanau``: score = v . tanh(W1 m_s + W2 h_{t-1}) with the previous state, and the context joins the
  next word's embedding as the LSTM's input;
* with attention the output layer reads the attentional state tanh(Wc [h_t; c_t]) (TF's attention layer).

Modern practice kept where TF NMT's default differs: Luong attention is computed without input feeding, so
teacher forcing runs the whole target through cuDNN/MKL's fused LSTM at once (Bahdanau's stays a loop).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rlkit.core.tokens import PAD

CELLS = ("lstm", "gru")
ATTENTIONS = ("none", "bahdanau", "luong", "scaled_luong")

State = Any  # (h, c) for an LSTM, h for a GRU: each (layers, B, units)


def map_state(state: State, fn: Any) -> State:
    """`fn` applied to each tensor of an LSTM's (h, c) or a GRU's h."""
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


def _rnn(cell: str, size_in: int, hidden: int, layers: int, dropout: float, bidirectional: bool = False):
    kind = nn.LSTM if cell == "lstm" else nn.GRU
    drop = dropout if layers > 1 else 0.0
    return kind(size_in, hidden, layers, batch_first=True, dropout=drop, bidirectional=bidirectional)


class Encoder(nn.Module):
    """Source ids -> (memory (B, S, units), mask (B, S) of real tokens, final state per layer)."""

    def __init__(self, vocab: int, units: int, layers: int, cell: str, bidirectional: bool, dropout: float):
        super().__init__()
        self.bidirectional, self.layers = bidirectional, layers
        self.embed = nn.Embedding(vocab, units, padding_idx=PAD)
        self.rnn = _rnn(cell, units, units // 2 if bidirectional else units, layers, dropout, bidirectional)
        self.drop = nn.Dropout(dropout)

    def forward(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, State]:
        lengths = (src != PAD).sum(1).clamp(min=1)
        packed = pack_padded_sequence(
            self.drop(self.embed(src)), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        out, state = self.rnn(packed)
        memory, _ = pad_packed_sequence(out, batch_first=True, total_length=src.shape[1])
        mask = torch.arange(src.shape[1], device=src.device)[None] < lengths[:, None]
        if self.bidirectional:  # (layers * 2, B, units/2) -> (layers, B, units): forward and backward joined

            def join(s: torch.Tensor) -> torch.Tensor:
                s = s.view(self.layers, 2, *s.shape[1:])
                return torch.cat([s[:, 0], s[:, 1]], dim=-1)

            state = map_state(state, join)
        return memory, mask, state


class Decoder(nn.Module):
    """Previous target ids and a state -> log-probabilities of the next ids (and attention weights)."""

    def __init__(self, vocab: int, units: int, layers: int, cell: str, attention: str, dropout: float):
        super().__init__()
        self.attention, self.cell = attention, cell
        self.embed = nn.Embedding(vocab, units, padding_idx=PAD)
        self.rnn = _rnn(cell, 2 * units if attention == "bahdanau" else units, units, layers, dropout)
        self.drop = nn.Dropout(dropout)
        if attention != "none":
            self.keys = nn.Linear(units, units, bias=False)  # W (Luong) or W1 (Bahdanau) on the memory
            self.combine = nn.Linear(2 * units, units, bias=False)  # Wc [h_t; c_t]
        if attention == "scaled_luong":
            self.scale = nn.Parameter(torch.ones(()))
        if attention == "bahdanau":
            self.query = nn.Linear(units, units, bias=False)
            self.v = nn.Linear(units, 1, bias=False)
        self.out = nn.Linear(units, vocab, bias=False)  # TF NMT's projection has no bias

    def memo(self, memory: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """What every decoding step reads: (memory, its projected keys, mask)."""
        keys = self.keys(memory) if self.attention != "none" else memory
        return memory, keys, mask

    def _attend(self, scores: torch.Tensor, memo: tuple) -> tuple[torch.Tensor, torch.Tensor]:
        """scores (B, T, S) -> (contexts (B, T, units), weights (B, T, S)), padding masked out."""
        weights = scores.masked_fill(~memo[2][:, None, :], float("-inf")).softmax(dim=-1)
        return weights @ memo[0], weights

    def forward(self, prev: torch.Tensor, state: State, memo: tuple) -> tuple[torch.Tensor, State, Any]:
        """prev ids (B, T) -> (log-probabilities (B, T, V), final state, weights (B, T, S) or None)."""
        x = self.drop(self.embed(prev))
        weights = None
        if self.attention == "bahdanau":  # a loop: each step's context needs the previous state
            outs, contexts, all_weights = [], [], []
            for t in range(prev.shape[1]):
                top = (state[0] if isinstance(state, tuple) else state)[-1]  # (B, units)
                scores = self.v(torch.tanh(memo[1] + self.query(top)[:, None, :])).transpose(1, 2)
                ctx, w = self._attend(scores, memo)
                out, state = self.rnn(torch.cat([x[:, t : t + 1], ctx], dim=-1), state)
                outs.append(out)
                contexts.append(ctx)
                all_weights.append(w)
            out, ctx, weights = torch.cat(outs, 1), torch.cat(contexts, 1), torch.cat(all_weights, 1)
        else:
            out, state = self.rnn(x, state)
            if self.attention != "none":
                scores = out @ memo[1].transpose(1, 2)
                if self.attention == "scaled_luong":
                    scores = self.scale * scores
                ctx, weights = self._attend(scores, memo)
        if self.attention != "none":
            out = torch.tanh(self.combine(torch.cat([out, ctx], dim=-1)))
        return F.log_softmax(self.out(self.drop(out)), dim=-1), state, weights


class Seq2Seq(nn.Module):
    """Encoder and decoder; forward() is the teacher-forced pass."""

    def __init__(self, src_vocab: int, tgt_vocab: int, cfg: Any):
        super().__init__()
        self.encoder = Encoder(src_vocab, cfg.units, cfg.num_layers, cfg.cell, cfg.bidirectional, cfg.dropout)
        self.decoder = Decoder(tgt_vocab, cfg.units, cfg.num_layers, cfg.cell, cfg.attention, cfg.dropout)

    def start(self, src: torch.Tensor) -> tuple[State, tuple]:
        """(the decoder's first state, its memo) for source ids (B, S)."""
        memory, mask, state = self.encoder(src)
        return state, self.decoder.memo(memory, mask)

    def forward(self, src: torch.Tensor, prev: torch.Tensor) -> torch.Tensor:
        """Log-probabilities (B, T, V) of the next ids given the source and the previous ids (B, T)."""
        state, memo = self.start(src)
        return self.decoder(prev, state, memo)[0]
