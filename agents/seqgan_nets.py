"""SeqGAN's networks and its reward (Yu et al., AAAI 2017): the LSTM generator (a stochastic policy over
tokens), the CNN discriminator with a highway layer, and the Monte-Carlo roll-out estimate of Q(s, a).

The generator is nn.LSTM (the paper's code writes the LSTM cell by hand; the maths is the same). Sampling
reuses REINFORCE's inverse-CDF `sample_categorical` with uniforms from an explicit torch.Generator, so a
run's samples are reproducible and resumable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rlkit.agents.reinforce import sample_categorical

# The paper's discriminator for the synthetic task (its code's dis_filter_sizes / dis_num_filters).
PAPER_FILTER_SIZES = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20)
PAPER_NUM_FILTERS = (100, 200, 200, 200, 200, 100, 100, 100, 100, 100, 160, 160)


class Generator(nn.Module):
    """Embedding -> LSTM -> linear: p(y_t | y_<t); the first input is token 0 (the paper's start token)."""

    def __init__(self, vocab: int, emb_dim: int, hidden: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def log_probs(self, seqs: torch.Tensor) -> torch.Tensor:
        """log G(y_t | y_<t) of each token of `seqs` (n, T) under teacher forcing: (n, T)."""
        start = torch.zeros(len(seqs), 1, dtype=torch.long, device=seqs.device)
        h, _ = self.lstm(self.embed(torch.cat([start, seqs[:, :-1]], 1)))
        return torch.log_softmax(self.head(h), -1).gather(-1, seqs.unsqueeze(-1)).squeeze(-1)

    @torch.no_grad()
    def complete(self, prefix: torch.Tensor, length: int, rng: torch.Generator) -> torch.Tensor:
        """`prefix` (n, t), t >= 0, continued by sampling to `length` tokens: (n, length) int64."""
        n, t = prefix.shape
        start = torch.zeros(n, 1, dtype=torch.long, device=prefix.device)
        h, state = self.lstm(self.embed(torch.cat([start, prefix], 1)))
        logits, out = self.head(h[:, -1]), [prefix]
        for step in range(t, length):
            u = torch.rand(n, generator=rng).to(prefix.device)
            y = sample_categorical(logits, u)
            out.append(y[:, None])
            if step + 1 < length:
                h, state = self.lstm(self.embed(y[:, None]), state)
                logits = self.head(h[:, 0])
        return torch.cat(out, 1)

    def sample(self, n: int, length: int, rng: torch.Generator) -> torch.Tensor:
        """n fresh sequences (n, length) int64 on the generator's device."""
        device = self.head.weight.device
        return self.complete(torch.zeros(n, 0, dtype=torch.long, device=device), length, rng)


class Highway(nn.Module):
    """A highway layer (Srivastava et al. 2015): z = t * relu(W x + b) + (1 - t) * x, t = sigmoid(W_t x + c).

    The transform gate's bias starts at 0, as the paper's code calls it (highway(..., 1, 0)).
    """

    def __init__(self, size: int):
        super().__init__()
        self.lin, self.gate = nn.Linear(size, size), nn.Linear(size, size)
        nn.init.zeros_(self.gate.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.sigmoid(self.gate(x))
        return t * F.relu(self.lin(x)) + (1 - t) * x


def filter_bank(length: int, scale: float) -> list[tuple[int, int]]:
    """(size, count) of the paper's filters that fit a sequence of `length`, counts x `scale` (>= 1 each)."""
    return [
        (s, max(1, round(c * scale))) for s, c in zip(PAPER_FILTER_SIZES, PAPER_NUM_FILTERS) if s <= length
    ]


class Discriminator(nn.Module):
    """Kim's text CNN as SeqGAN's: embedding, convolutions of several widths with ReLU and max-over-time
    pooling, a highway layer, dropout and one logit of "real" (the paper's code: two softmax classes)."""

    def __init__(self, vocab: int, length: int, emb_dim: int, filters: list[tuple[int, int]], dropout: float):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb_dim)
        self.convs = nn.ModuleList(nn.Conv1d(emb_dim, count, size) for size, count in filters)
        total = sum(count for _, count in filters)
        self.highway = Highway(total)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(total, 1)

    def features(self, seqs: torch.Tensor) -> torch.Tensor:
        """The pooled convolution features (n, total filters), before the highway layer."""
        e = self.embed(seqs).transpose(1, 2)  # (n, emb, T)
        return torch.cat([F.relu(conv(e)).amax(-1) for conv in self.convs], 1)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Logits of "real", (n,)."""
        return self.out(self.drop(self.highway(self.features(seqs)))).squeeze(-1)


@torch.no_grad()
def rollout_rewards(
    rollout: Generator,
    disc: Discriminator,
    seqs: torch.Tensor,
    num_rollouts: int,
    rng: torch.Generator,
    chunk: int = 4096,
) -> torch.Tensor:
    """The paper's Q(Y_{1:t-1}, y_t) for every token of `seqs` (n, T): for t < T the mean of D over
    `num_rollouts` completions of Y_{1:t} by the roll-out policy, for t = T D(Y_{1:T}): (n, T) in [0, 1].

    D is used in eval mode (no dropout), as the paper's code does (keep_prob 1 for rewards).
    """
    was_training = disc.training
    disc.eval()
    n, length = seqs.shape
    rewards = torch.empty(n, length, device=seqs.device)
    repeated = seqs.repeat(num_rollouts, 1)  # (num_rollouts * n, T): rollout r of row i is row r * n + i
    for t in range(1, length):
        full = rollout.complete(repeated[:, :t], length, rng)
        prob = torch.cat([torch.sigmoid(disc(part)) for part in full.split(chunk)])
        rewards[:, t - 1] = prob.view(num_rollouts, n).mean(0)
    rewards[:, length - 1] = torch.sigmoid(disc(seqs))
    disc.train(was_training)
    return rewards
