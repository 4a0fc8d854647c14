"""The book's chapter 16 neural machine translation: an encoder-decoder with attention, on a translation
task env (rlkit.envs.translation).

act() translates each source sentence of the minibatch (greedy while training and with `beam` 1, else beam
search with a length penalty: rlkit.agents.seq2seq_search). While training it decodes only one minibatch in
`decode_every` (by update count) and answers the others with padding only, "no answer", which the training
split leaves out of its BLEU: the training headline is the corpus BLEU of those decoded batches' greedy
translations (an unbiased sample of the epoch), evaluation always translates everything. Decoding every
training batch cost as much as a third of training and nothing learns from it (the update reads the
reference, not the answer); `decode_every=1` decodes every batch. observe() keeps the batch and update() takes
one optimiser step on the teacher-forced cross-entropy of the revealed reference (the previous reference
word is the decoder's input, ``<s>`` first), reporting loss (nats per word), perplexity and word accuracy.
`translate(src)` gives one sentence's translation and attention matrix (`rlkit play run=... input=...`).

Defaults are the book's vi->en run (2 layers of 128 units, dropout 0.2, gradient norm clipped to 5, the
`scaled_luong` attention of its second command). Modern practice kept where TF NMT differs: Adam at 1e-3
instead of SGD at 1.0 with a step decay; see rlkit.agents.seq2seq_nets for the attention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from rlkit.agents.model_agent import ModelCheckpointMixin, flat_batch, masked_mean
from rlkit.agents.seq2seq_nets import ATTENTIONS, CELLS, Seq2Seq
from rlkit.agents.seq2seq_search import beam_search, greedy
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.seeding import RandomStream
from rlkit.core.tokens import BOS, PAD
from rlkit.core.types import AgentContext, Transition


@dataclass
class Seq2SeqConfig:
    """Hyperparameters of the seq2seq agent.

    Attributes:
        name: agent name (the `agent=` token).
        cell: lstm or gru.
        units: embedding size and units per layer (the book's num_units 128).
        num_layers: layers of the encoder and of the decoder (2).
        bidirectional: a bidirectional encoder (units/2 per direction; units must be even).
        attention: none, bahdanau, luong or scaled_luong.
        dropout: dropout on embeddings, between layers and before the output layer, in [0, 1) (0.2).
        lr: Adam learning rate.
        grad_clip: clip the gradient's global norm to this (TF NMT's max_gradient_norm 5; None: no clipping).
        beam: beam width of evaluation (1: greedy).
        length_penalty: GNMT's alpha of beam search (0: rank by log-probability alone).
        decode_every: while training, greedy-decode one minibatch in this many (the others: no answer; the
            training BLEU scores the decoded ones); 1: every minibatch. Evaluation decodes all.
    """

    name: str = "seq2seq"
    cell: str = "lstm"
    units: int = 128
    num_layers: int = 2
    bidirectional: bool = False
    attention: str = "scaled_luong"
    dropout: float = 0.2
    lr: float = 0.001
    grad_clip: float | None = 5.0
    beam: int = 1
    length_penalty: float = 0.6
    decode_every: int = 8

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        units_ok = self.units >= 2 and (not self.bidirectional or self.units % 2 == 0)
        middle = [
            ("units", units_ok, ">= 2 (and even with bidirectional=true)"),
            ("num_layers", self.num_layers >= 1, ">= 1"),
        ]
        check_ranges("agent.", decoder_checks(self, middle), lambda key: repr(getattr(self, key)))


def decoder_checks(cfg: Any, middle: list) -> list:
    """The range checks of a seq2seq-style config (cell, attention, dropout, lr, grad_clip, beam,
    length_penalty, decode_every), with the agent's own `middle` checks after attention."""
    head = [
        ("cell", cfg.cell in CELLS, f"one of {', '.join(CELLS)}"),
        ("attention", cfg.attention in ATTENTIONS, f"one of {', '.join(ATTENTIONS)}"),
    ]
    tail = [
        ("dropout", 0 <= cfg.dropout < 1, "in [0, 1)"),
        ("lr", cfg.lr > 0, "> 0"),
        ("grad_clip", cfg.grad_clip is None or cfg.grad_clip > 0, "> 0 or null"),
        ("beam", cfg.beam >= 1, ">= 1"),
        ("length_penalty", cfg.length_penalty >= 0, ">= 0"),
        ("decode_every", cfg.decode_every >= 1, ">= 1"),
    ]
    return head + middle + tail


def check_sequence_spaces(ctx: AgentContext, obs_rank: int, integer_obs: bool, needs: str, use: str) -> None:
    """IncompatibleError unless observation (batch, ...) of rank `obs_rank` (integer ids if `integer_obs`) and
    action (batch, length) of integer ids are Boxes of one batch; `needs` and `use` word the error."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = (
        isinstance(obs, spaces.Box)
        and isinstance(act, spaces.Box)
        and len(obs.shape) == obs_rank
        and len(act.shape) == 2
        and obs.shape[0] == act.shape[0]
        and (not integer_obs or np.issubdtype(obs.dtype, np.integer))
        and np.issubdtype(act.dtype, np.integer)
    )
    if not fits:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' needs {needs}, but env '{ctx.env_name}' has observation space "
            f"{describe_space(obs)} and action space {describe_space(act)}. Use {use}."
        )


def translation_shapes(ctx: AgentContext) -> tuple[int, int, int]:
    """(source vocabulary, target vocabulary, answer length) of a translation env; IncompatibleError else."""
    needs = (
        "a translation task env (observation: source ids (batch, length); action: target ids (batch, length))"
    )
    check_sequence_spaces(ctx, 2, True, needs, "env=translation")
    obs, act = ctx.observation_space, ctx.action_space
    return int(obs.high.max()) + 1, int(act.high.max()) + 1, int(act.shape[1])


def teacher_forcing_nll(logp: torch.Tensor, targets: torch.Tensor, rows: torch.Tensor) -> tuple[Any, Any]:
    """(mean negative log-likelihood per reference word, the words' mask); logp (B, T, V), targets (B, T)
    padded with 0 after ``</s>``, rows (B,) 1 for real examples."""
    words = (targets != PAD) & (rows[:, None] > 0)
    picked = logp.gather(-1, targets[..., None]).squeeze(-1)
    return -(picked * words).sum() / words.sum().clamp(min=1), words


class Seq2SeqAgent(ModelCheckpointMixin):
    """An encoder-decoder trained with teacher forcing, one Adam step per minibatch of sentence pairs."""

    Config = Seq2SeqConfig  # the schema of the agent YAMLs whose _target_ is this class

    model_name = "seq2seq"

    def __init__(self, cfg: Seq2SeqConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.rng = RandomStream(ctx.seed, self.device)  # initialisation and dropout draw from it
        with self.rng:
            model, self.answer_len = self.build(cfg, ctx)
        self.model = model.to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.updates = 0
        self._batch: Transition | None = None
        self._forward = None  # ModelCheckpointMixin's cache: unused (teacher forcing needs the targets)

    def build(self, cfg: Any, ctx: AgentContext) -> tuple[torch.nn.Module, int]:
        """(the network, the answer length) for the env's spaces; IncompatibleError for another env."""
        src_vocab, tgt_vocab, answer_len = translation_shapes(ctx)
        return Seq2Seq(src_vocab, tgt_vocab, cfg), answer_len

    def inputs(self, obs: np.ndarray) -> torch.Tensor:
        """The network's input for observations (num_envs, batch, ...): (num_envs * batch, ...)."""
        return flat_batch(obs, self.device).long()

    def decode(self, src: torch.Tensor, beam: int) -> tuple[torch.Tensor, Any]:
        """(ids (B, answer_len), attention (B, answer_len, S) or None) of source ids (B, S), in eval mode."""
        self.model.eval()
        with torch.inference_mode():
            if beam == 1:
                ids, att = greedy(self.model, src, self.answer_len)
            else:
                ids, att = beam_search(self.model, src, self.answer_len, beam, self.cfg.length_penalty)
        pad = self.answer_len - ids.shape[1]
        ids = torch.nn.functional.pad(ids, (0, pad), value=PAD)
        if att is not None:
            att = torch.nn.functional.pad(att, (0, 0, 0, pad))
        return ids, att

    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """Translations of each env's minibatch: (num_envs, batch, answer_len) int64 target ids; while
        training (explore) all 0s, no answer, except on one minibatch in `decode_every`."""
        n, b = obs.shape[:2]
        if explore and self.updates % self.cfg.decode_every:
            return np.zeros((n, b, self.answer_len), dtype=np.int64)
        ids, _ = self.decode(self.inputs(obs), 1 if explore else self.cfg.beam)
        return ids.cpu().numpy().reshape(n, b, -1)

    def translate(self, src: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """One sentence's translation ids (answer_len,) and attention (answer_len, S) or None."""
        ids, att = self.decode(self.inputs(np.asarray(src)[None, None]), self.cfg.beam)
        return ids[0].cpu().numpy(), None if att is None else att[0].float().cpu().numpy()

    def update(self) -> dict[str, float]:
        """One Adam step on the teacher-forced loss of the last observed minibatch."""
        tr, self._batch = self._batch, None
        if tr is None:
            return {}
        src = self.inputs(tr.obs)
        targets, rows = self._revealed(tr)
        targets = targets.long()
        prev = torch.cat([torch.full_like(targets[:, :1], BOS), targets[:, :-1]], dim=1)
        self.model.train()
        with self.rng:
            logp = self.model(src, prev)
        loss, words = teacher_forcing_nll(logp, targets, rows)
        accuracy = masked_mean(logp.detach().argmax(-1) == targets, words)  # no boolean indexing: no sync
        value = self._step(loss, self.cfg.grad_clip)
        return {"loss": value, "perplexity": math.exp(min(value, 50.0)), "word_accuracy": accuracy}
