"""SeqGAN's synthetic task (Yu et al., AAAI 2017, section "Synthetic Data Experiments") as a GAN task env.

Description:
    An oracle LSTM whose parameters are all drawn from N(0, 1) (the paper's G_oracle, seeded by
    `oracle_seed`: the same oracle every time) generates the real data set: `num_sequences` token sequences
    of length `length`. As the GAN tasks of rlkit.envs.gan, the observation is a minibatch of real
    sequences, the action the generator's minibatch of the same shape, and an episode is one epoch.
    At an epoch's last step the env scores every sequence generated in the epoch with the oracle:
    ``nll_oracle`` is the oracle's negative log-likelihood of them, in nats per token (the mean over the
    batch and the positions: the scale of the paper's Table 1, whose random-generator 10.310 on a 5,000-word
    vocabulary can only be per token), and ``nll_oracle_seq`` the same per sequence (x length).
    Lower is better: the headline, and the last step's reward is minus it.
Action Space:
    Box(0, vocab - 1, (batch_size, length), int64): generated token sequences.
Observation Space:
    Box(0, vocab - 1, (batch_size, length), int64): real sequences (a zero-padded last minibatch; info's
    mask marks its real rows).
Rewards:
    0 until the epoch's last step, then -nll_oracle.
Episode End:
    After one pass over the split (ceil(num_sequences / batch_size) steps).
Arguments:
    preset ("paper": vocab 5,000, length 20, embedding and hidden 32, 10,000 sequences; "small": 64, 10, 16,
    512 for tests), vocab, length, emb_dim, hidden, num_sequences (None: the preset's), oracle_seed (0),
    split ("train": the training set, shuffled; "test": the same set in order: the real data an evaluation
    shows does not enter NLL_oracle, which scores as many generated sequences as the set holds),
    batch_size (64, the paper's code), render_mode (None | "rgb_array").

Pictures: draw() writes sequences as lines of token ids (samples/step_<N>.png at evaluations);
`rollout_files` (`rlkit play run=...`) writes 64 generated sequences, each with its oracle NLL, to
<prefix>_sequences.txt. The oracle is the same network as the seqgan agent's generator by the paper's
design; it is written here because an env never imports an agent.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.gan import GRID_SAMPLES, GanEnv
from rlkit.envs.supervised import SPLITS, check_choice, check_positive, num_batches, pad_batch

PRESETS = {
    "paper": {"vocab": 5000, "length": 20, "emb_dim": 32, "hidden": 32, "num_sequences": 10_000},
    "small": {"vocab": 64, "length": 10, "emb_dim": 16, "hidden": 16, "num_sequences": 512},
}
SCORE_CHUNK = 256  # sequences per oracle forward pass (20 x 5,000 logits each: 100 MB)


class OracleLSTM(nn.Module):
    """Embedding -> one LSTM layer -> linear softmax over the vocabulary; token 0 is the start input.

    Every parameter is drawn from N(0, 1) by a generator seeded with `seed` (one bias per gate, as the
    paper's code has: LSTM's second bias is zero), so the same seed gives the same oracle on any machine.
    """

    def __init__(self, vocab: int, emb_dim: int, hidden: int, seed: int):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb_dim)
        self.lstm = nn.LSTM(emb_dim, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)
        gen = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(
                    torch.zeros_like(p) if name == "lstm.bias_hh_l0" else torch.randn(p.shape, generator=gen)
                )
        self.requires_grad_(False)

    def sample(self, n: int, length: int, gen: torch.Generator) -> np.ndarray:
        """n sequences (n, length) int64, each token drawn from the oracle's softmax (in chunks of rows)."""
        sizes = [min(SCORE_CHUNK, n - i) for i in range(0, n, SCORE_CHUNK)]
        return np.concatenate([self._sample(m, length, gen) for m in sizes])

    @torch.no_grad()
    def _sample(self, n: int, length: int, gen: torch.Generator) -> np.ndarray:
        x, state, out = torch.zeros(n, 1, dtype=torch.long), None, []
        for _ in range(length):
            h, state = self.lstm(self.embed(x), state)
            cdf = torch.softmax(self.head(h[:, 0]), -1).cumsum(-1)  # inverse CDF (torch.multinomial: slower)
            x = torch.searchsorted(cdf, torch.rand(n, 1, generator=gen), right=True)
            x = x.clamp_max(cdf.shape[1] - 1)  # cdf[-1] may round below 1
            out.append(x)
        return torch.cat(out, 1).numpy()

    @torch.no_grad()
    def nll(self, seqs: np.ndarray) -> np.ndarray:
        """The oracle's negative log-likelihood of each sequence, nats per token: (n,) float64."""
        out = []
        for chunk in np.array_split(seqs, max(1, -(-len(seqs) // SCORE_CHUNK))):
            y = torch.as_tensor(chunk, dtype=torch.long)
            inputs = torch.cat([torch.zeros(len(y), 1, dtype=torch.long), y[:, :-1]], 1)
            h, _ = self.lstm(self.embed(inputs))
            logp = torch.log_softmax(self.head(h), -1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
            out.append(-logp.double().mean(1).numpy())
        return np.concatenate(out)


def resolve_sizes(preset: str, **given: int | None) -> dict[str, int]:
    """The preset's sizes with the given (non-None) ones replacing them, each checked to be >= 1."""
    check_choice("preset", preset, tuple(PRESETS))
    sizes = {k: (v if given.get(k) is None else given[k]) for k, v in PRESETS[preset].items()}
    for key, value in sizes.items():
        check_positive(key, value)
    if sizes["vocab"] < 2:
        raise UserError(f"env.kwargs.vocab={sizes['vocab']} is invalid: it must be >= 2")
    return sizes


@functools.lru_cache(maxsize=2)
def oracle_data(
    seed: int, vocab: int, length: int, emb_dim: int, hidden: int, num_sequences: int
) -> tuple[OracleLSTM, np.ndarray]:
    """The oracle of `seed` and its training set (drawn with seed + 1); cached, as the train and the
    evaluation env of a run share them (10,000 sequences of 5,000-way draws take a while on a CPU)."""
    oracle = OracleLSTM(vocab, emb_dim, hidden, seed)
    sequences = oracle.sample(num_sequences, length, torch.Generator().manual_seed(seed + 1))
    return oracle, sequences


class SeqGanOracleEnv(GanEnv):
    """The oracle's sequences in minibatches; generated ones scored by the oracle's NLL (the docstring)."""

    headline = Headline("NLL_oracle", "nll_oracle", higher_is_better=False, decimals=3)

    def __init__(
        self,
        preset: str = "paper",
        vocab: int | None = None,
        length: int | None = None,
        emb_dim: int | None = None,
        hidden: int | None = None,
        num_sequences: int | None = None,
        oracle_seed: int = 0,
        split: str = "train",
        batch_size: int = 64,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        s = resolve_sizes(
            preset, vocab=vocab, length=length, emb_dim=emb_dim, hidden=hidden, num_sequences=num_sequences
        )
        self.vocab, self.length = s["vocab"], s["length"]
        self.oracle, self.sequences = oracle_data(oracle_seed, **s)
        self.shuffle = split == "train"
        self._order = np.arange(len(self.sequences))
        batches = num_batches(len(self.sequences), batch_size)
        self._setup((self.length,), np.inf, batch_size, batches, render_mode)
        space = spaces.Box(0, self.vocab - 1, (batch_size, self.length), np.int64)
        self.observation_space, self.action_space = space, space

    def _start_epoch(self) -> None:
        n = len(self.sequences)
        self._order = self.np_random.permutation(n) if self.shuffle else np.arange(n)

    def _real(self) -> tuple[np.ndarray, np.ndarray]:
        rows = self._order[self._batch * self.batch_size : (self._batch + 1) * self.batch_size]
        mask = np.zeros(self.batch_size, dtype=bool)
        mask[: len(rows)] = True
        return pad_batch(self.sequences[rows], self.batch_size), mask

    def random_nll(self, n: int, seed: int = 0) -> float:
        """NLL_oracle of n sequences of uniformly random tokens (the paper's "Random" baseline)."""
        tokens = np.random.default_rng(seed).integers(self.vocab, size=(n, self.length))
        return float(self.oracle.nll(tokens).mean())

    def batch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        return {}

    def epoch_metrics(self, fake: np.ndarray) -> dict[str, float]:
        tokens = np.clip(np.rint(fake), 0, self.vocab - 1).astype(np.int64)
        nll = float(self.oracle.nll(tokens).mean())
        return {"nll_oracle": nll, "nll_oracle_seq": nll * self.length}

    def draw(self, samples: np.ndarray) -> np.ndarray:
        """The sequences as lines of token ids (at most 16 lines), black on white: (H, W, 3) uint8."""
        from PIL import Image, ImageDraw  # Pillow: only when an image is drawn

        lines = [" ".join(str(int(t)) for t in row) for row in np.asarray(samples)[:16]]
        width = 8 + 6 * max((len(line) for line in lines), default=1)
        canvas = Image.new("RGB", (width, 8 + 12 * max(len(lines), 1)), (255, 255, 255))
        pen = ImageDraw.Draw(canvas)
        for i, line in enumerate(lines):
            pen.text((4, 4 + 12 * i), line, fill=(0, 0, 0))
        return np.asarray(canvas)

    def sample_grid(self, agent: Any) -> np.ndarray:
        """The agent's first fixed-seed sequences drawn as text (comparable between evaluations)."""
        if not callable(getattr(agent, "fixed_samples", None)):
            raise UserError("env=seqgan_oracle's samples need a trained sequence generator (agent=seqgan)")
        return self.draw(agent.fixed_samples(16))

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Writes <prefix>_sequences.txt: 64 generated sequences, each after its oracle NLL per token."""
        if not callable(getattr(agent, "fixed_samples", None)):
            raise UserError("env=seqgan_oracle's samples need a trained sequence generator (agent=seqgan)")
        seqs = np.asarray(agent.fixed_samples(GRID_SAMPLES), dtype=np.int64)
        nll = self.oracle.nll(seqs)
        path = Path(out_dir) / f"{prefix}_sequences.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        head = f"# {len(seqs)} generated sequences: NLL_oracle (nats/token), tokens; mean {nll.mean():.3f}\n"
        body = "".join(f"{v:.3f}\t{' '.join(map(str, row))}\n" for v, row in zip(nll, seqs))
        path.write_text(head + body)
        return [path]
