"""The book's chapter 14 word2vec: skip-gram embeddings trained with negative sampling on a word2vec task env.

Two embedding tables (input vectors v, output vectors u; V x embedding_size). For a (center c, context o)
pair the loss is skip-gram negative sampling (Mikolov et al. 2013):
``-log sigmoid(u_o . v_c) - sum_n log sigmoid(-u_n . v_c)`` over `num_sampled` noise words n shared by the
minibatch (as TensorFlow's sampled losses share them); a noise word equal to the row's target is dropped.
The book trains the same pairs with NCE (`tf.nn.nce_loss`, which adds a bias per word and draws its noise from
a log-uniform (Zipfian) distribution over ids sorted by frequency); here the noise is the unigram
distribution raised to 0.75 (word2vec's choice), its counts learned from the context words the env reveals
(kept in the checkpoint), or `negatives: log_uniform` for the book's sampler.

Optimiser: sparse Adam (lr 0.03 in configs/agent/word2vec.yaml) by default, updating only the rows a batch
touches. The book's plain SGD with learning rate 1.0 needs its 100,000 steps; Adam's per-row step sizes reach
good neighbours in a few thousand on the offline corpora (see benchmarks/README.md). `optimizer: sgd`
(sparse) is the book's.

Acting answers the env's questions (rlkit.envs.word2vec): CONTEXT rows get the k words with the highest
u . v_c + log q(word), q the noise distribution (at the optimum u . v_c = log(p(word | c) / (K q(word)))
so this ranks by p(word | c); u . v_c alone ranks by pointwise mutual information and favours rare words),
NEIGHBOURS rows the k words with the most similar L2-normalised input vectors (cosine similarity,
the word itself left out). `nearest(ids, k)` and `embeddings()` serve the report and the 2-D map.
While training, CONTEXT answers only feed the train accuracy; with a large vocabulary, scoring every word
for every row costs more than the update (128 x 128 x 50,000 multiply-adds a step on text8, ~45 ms of the
step's ~47 ms on one core), so they are ranked among the `train_candidates` most frequent words (ids are
sorted by frequency); evaluation always ranks the whole vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from rlkit.agents.model_agent import ModelCheckpointMixin, masked_mean
from rlkit.core.errors import IncompatibleError, check_ranges, describe_space
from rlkit.core.lazy import LazyMetric
from rlkit.core.seeding import seeded
from rlkit.core.types import AgentContext, Transition

OPTIMIZERS = ("adam", "sgd")
NEGATIVES = ("unigram", "log_uniform")
CONTEXT, NEIGHBOURS = 0, 1  # the question kinds of rlkit.envs.word2vec


@dataclass
class Word2VecConfig:
    """Hyperparameters of the skip-gram agent (the book's sizes).

    Attributes:
        name: agent name (the `agent=` token).
        embedding_size: dimensions of each word vector (the book's 128).
        num_sampled: noise words per minibatch (the book's 64).
        negatives: unigram (counts^distortion, learned from the revealed context words) or log_uniform (the
            book's NCE sampler, which assumes ids sorted by frequency, as the vocabulary is).
        distortion: the unigram counts' exponent (0.75; 0 is uniform).
        optimizer: adam (sparse Adam) or sgd (sparse SGD, the book's GradientDescentOptimizer).
        lr: learning rate (0.03 for adam, as in configs/agent/word2vec.yaml; the book's SGD uses 1.0).
        train_candidates: while training, rank context answers among this many most frequent words
            (None: the whole vocabulary); greedy acting (evaluation) always uses the whole vocabulary.
    """

    name: str = "word2vec"
    embedding_size: int = 128
    num_sampled: int = 64
    negatives: str = "unigram"
    distortion: float = 0.75
    optimizer: str = "adam"
    lr: float = 0.03
    train_candidates: int | None = 4096

    def validate(self) -> None:
        """Raises UserError naming the first key that is out of range."""
        checks = [
            ("embedding_size", self.embedding_size >= 1, ">= 1"),
            ("num_sampled", self.num_sampled >= 1, ">= 1"),
            ("negatives", self.negatives in NEGATIVES, f"one of {', '.join(NEGATIVES)}"),
            ("distortion", 0 <= self.distortion <= 1, "in [0, 1]"),
            ("optimizer", self.optimizer in OPTIMIZERS, f"one of {', '.join(OPTIMIZERS)}"),
            ("lr", self.lr > 0, "> 0"),
            ("train_candidates", self.train_candidates is None or self.train_candidates >= 1, ">= 1 or null"),
        ]
        check_ranges("agent.", checks, lambda key: repr(getattr(self, key)))


class SkipGram(nn.Module):
    """Input and output embeddings (sparse gradients) and the context-word counts seen in training."""

    def __init__(self, vocab: int, dim: int):
        super().__init__()
        self.inp = nn.Embedding(vocab, dim, sparse=True)
        self.out = nn.Embedding(vocab, dim, sparse=True)
        nn.init.uniform_(self.inp.weight, -1.0, 1.0)  # the book's embeddings
        nn.init.trunc_normal_(
            self.out.weight, std=1.0 / math.sqrt(dim), a=-2 / math.sqrt(dim), b=2 / math.sqrt(dim)
        )
        self.register_buffer("counts", torch.ones(vocab, dtype=torch.float64))  # add-one smoothed

    def normalized(self) -> torch.Tensor:
        """The input embeddings scaled to unit length (V, dim)."""
        return F.normalize(self.inp.weight, dim=1)


def sgns_loss(
    v: torch.Tensor, u_pos: torch.Tensor, u_neg: torch.Tensor, hits: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean skip-gram negative-sampling loss over the rows where mask is 1.

    v, u_pos (B, d): center and true-context vectors; u_neg (K, d): shared noise vectors; hits (B, K) bool:
    noise words equal to the row's target (left out); mask (B,) float.
    """
    pos = F.logsigmoid((v * u_pos).sum(-1))
    neg = F.logsigmoid(-(v @ u_neg.T)).masked_fill(hits, 0.0).sum(-1)
    return -((pos + neg) * mask).sum() / mask.sum().clamp(min=1)


def log_uniform_probs(vocab: int) -> torch.Tensor:
    """TensorFlow's log-uniform candidate sampler: P(id) = log((id + 2) / (id + 1)) / log(vocab + 1)."""
    ids = torch.arange(vocab, dtype=torch.float64)
    return torch.log((ids + 2) / (ids + 1)) / math.log(vocab + 1)


def word2vec_spaces(ctx: AgentContext) -> tuple[int, int]:
    """(vocabulary size, k) of a word2vec task env; IncompatibleError for any other env."""
    obs, act = ctx.observation_space, ctx.action_space
    fits = (
        isinstance(obs, spaces.Box)
        and isinstance(act, spaces.MultiDiscrete)
        and obs.shape[1:] == (2,)
        and len(act.shape) == 2
        and act.shape[0] == obs.shape[0]
        and np.issubdtype(obs.dtype, np.integer)
    )
    if not fits:
        raise IncompatibleError(
            f"agent '{ctx.agent_name}' needs a word2vec task env (observation: (batch, 2) rows of word id "
            f"and question kind; action: MultiDiscrete (batch, k) word ids), but env '{ctx.env_name}' has "
            f"observation space {describe_space(obs)} and action space {describe_space(act)}. "
            "Use env=word2vec."
        )
    return int(act.nvec.flat[0]), int(act.shape[1])


class Word2VecAgent(ModelCheckpointMixin):
    """Skip-gram with negative sampling: one sparse optimiser step per batch of (center, context) pairs."""

    Config = Word2VecConfig  # the schema of the agent YAMLs whose _target_ is this class

    model_name = "word2vec"

    def __init__(self, cfg: Word2VecConfig, ctx: AgentContext):
        cfg.validate()
        self.cfg, self.device = cfg, torch.device(ctx.device)
        self.vocab, self.k = word2vec_spaces(ctx)
        self.generator = torch.Generator().manual_seed(ctx.seed)  # noise words, drawn on the CPU
        with seeded(ctx.seed):
            self.model = SkipGram(self.vocab, cfg.embedding_size).to(self.device)
        params = list(self.model.parameters())
        if cfg.optimizer == "adam":
            self.optimizer = torch.optim.SparseAdam(params, lr=cfg.lr)
        else:
            self.optimizer = torch.optim.SGD(params, lr=cfg.lr)
        self.updates = 0
        self._batch: Transition | None = None
        self._forward: tuple[np.ndarray, torch.Tensor] | None = None
        self._noise_probs: torch.Tensor | None = None  # noise_probs() of the current counts

    # ----- what the mixin needs --------------------------------------------------------------------------
    def _output(self, obs: np.ndarray) -> torch.Tensor:
        """The center words' input vectors, (num_envs * batch, dim)."""
        ids = torch.as_tensor(np.asarray(obs)[..., 0], device=self.device).flatten(0, 1)
        return self.model.inp(ids)

    # ----- acting ----------------------------------------------------------------------------------------
    def act(self, obs: np.ndarray, explore: bool = True) -> np.ndarray:
        """k word ids per row: likely context words (kind 0) or nearest neighbours (kind 1); (n, batch, k)."""
        obs = np.asarray(obs)
        n, b = obs.shape[:2]
        v = None
        if explore:
            v = self._output(obs)
            self._forward = (obs, v)
            v = v.detach()
            if not obs[..., 1].any():  # a training batch: every row asks for context words
                with torch.inference_mode():
                    return self._likely_context(v, train=True).cpu().numpy().reshape(n, b, self.k)
        with torch.inference_mode():
            kinds = torch.as_tensor(obs[..., 1].reshape(-1), device=self.device)
            ids = torch.as_tensor(obs[..., 0].reshape(-1), device=self.device)
            answers = torch.zeros((n * b, self.k), dtype=torch.long, device=self.device)
            ctx_rows = kinds != NEIGHBOURS
            if bool(ctx_rows.any()):
                vc = v[ctx_rows] if v is not None else self.model.inp.weight[ids[ctx_rows]]
                answers[ctx_rows] = self._likely_context(vc, train=v is not None)
            if not bool(ctx_rows.all()):
                answers[~ctx_rows] = self._nearest(ids[~ctx_rows], self.k)[0]
        return answers.cpu().numpy().reshape(n, b, self.k)

    def _likely_context(self, vc: torch.Tensor, train: bool) -> torch.Tensor:
        """The k words of highest u . v_c + log q for center vectors vc, among the `train_candidates` most
        frequent words while training (ids are sorted by frequency), else the whole vocabulary."""
        m = self.cfg.train_candidates if train and self.cfg.train_candidates is not None else self.vocab
        m = max(min(m, self.vocab), self.k)
        log_q = self.noise_probs()[:m].log().to(device=self.device, dtype=vc.dtype)
        return (vc @ self.model.out.weight[:m].T + log_q).topk(self.k, dim=1).indices

    def _nearest(self, ids: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        unit = self.model.normalized()
        sims = unit[ids] @ unit.T
        sims[torch.arange(len(ids), device=sims.device), ids] = -float("inf")  # not the word itself
        top = sims.topk(min(k, self.vocab - 1), dim=1)
        return top.indices, top.values

    def nearest(self, ids: np.ndarray | list[int], k: int = 8) -> tuple[np.ndarray, np.ndarray]:
        """(ids (n, k), cosine similarities (n, k)) of each word's k nearest neighbours, itself left out."""
        with torch.inference_mode():
            found, sims = self._nearest(torch.as_tensor(np.asarray(ids), device=self.device).long(), k)
        return found.cpu().numpy(), sims.float().cpu().numpy()

    def embeddings(self) -> np.ndarray:
        """The L2-normalised input embeddings, (V, embedding_size) float32."""
        with torch.inference_mode():
            return self.model.normalized().float().cpu().numpy()

    def state_dict(self) -> dict:
        """The mixin's state (model with the context counts, optimiser, updates) and the noise generator."""
        return {**super().state_dict(), "noise_rng": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restores a state_dict(); refuses one of another vocabulary or embedding size."""
        super().load_state_dict(state)
        self._noise_probs = None  # the counts came with the model
        if "noise_rng" in state:
            self.generator.set_state(state["noise_rng"])

    # ----- learning --------------------------------------------------------------------------------------
    def noise_probs(self) -> torch.Tensor:
        """The distribution noise words are drawn from (float64, V; made again only after the counts change,
        so the update's draw and the next act's ranking share it). Do not modify it in place."""
        if self._noise_probs is None:
            if self.cfg.negatives == "log_uniform":
                self._noise_probs = log_uniform_probs(self.vocab)
            else:
                p = self.model.counts.detach().cpu() ** self.cfg.distortion
                self._noise_probs = p / p.sum()
        return self._noise_probs

    def update(self) -> dict[str, float]:
        """One optimiser step on the negative-sampling loss of the last batch; returns loss and accuracy."""
        tr, v, targets, mask = self._take_batch()
        if tr is None:
            return {}
        kinds = np.asarray(tr.obs)[..., 1].reshape(-1)
        neighbours = bool(kinds.any())  # questions about neighbours have no context word to learn from
        full = not neighbours and all(bool(i["mask"].all()) for i in tr.info)  # a whole training batch
        if neighbours:
            mask = mask * torch.as_tensor(kinds == CONTEXT, device=self.device)
        targets = targets.long().clamp(min=0)
        with torch.no_grad():  # the noise distribution learns the context words' frequencies
            seen = targets if full else targets[mask > 0]
            self.model.counts.index_add_(0, seen, torch.ones_like(seen, dtype=torch.float64))
            self._noise_probs = None
        noise = torch.multinomial(self.noise_probs(), self.cfg.num_sampled, True, generator=self.generator)
        noise = noise.to(self.device)
        loss = sgns_loss(
            v, self.model.out(targets), self.model.out(noise), noise[None] == targets[:, None], mask
        )
        value = self._step(loss)
        # computed only if the runner reads it (rlkit.core.lazy): the action and targets are not changed later
        return {"loss": value, "accuracy": LazyMetric(partial(self._accuracy, tr.action, targets, mask))}

    def _accuracy(self, action: np.ndarray, targets: torch.Tensor, mask: torch.Tensor) -> float:
        """Share of the real context rows whose first answer is the target."""
        answers = torch.as_tensor(np.asarray(action).reshape(len(mask), -1)[:, 0], device=self.device)
        return masked_mean(answers == targets, mask)
