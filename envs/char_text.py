"""The book's chapter 12 Char-RNN task: predict the next character of a UTF-8 text, scored in bits per char.

One step shows a minibatch of `num_steps`-character windows (int64 ids, (batch, num_steps)); the action is the
model's log-probabilities of the next character at every position ((batch, num_steps, vocab) float32, e.g.
log_softmax of the logits); the env scores them against the true next characters (revealed in
``info["targets"]``): bits per char, perplexity and next-char accuracy. The train split is the head of the
text, the test split its held-out tail (`test_fraction`); the vocabulary (the `max_vocab` most frequent
characters of the train part, the rest mapped to ``<unk>``) comes from the train part for both splits.
`generate` and `rollout_txt` sample new text from a trained agent with a temperature; render("ansi") returns
the last generated text (else the last minibatch's first window and the model's most likely next chars).
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive

DEFAULT_TEXT = Path(__file__).parent / "data" / "tinyshakespeare_excerpt.txt"
UNK = "<unk>"


def read_text(path: str | Path) -> str:
    """The text of a UTF-8 file; UserError naming the path when it is missing, not UTF-8 or too short."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"env.kwargs.path: text file {path} not found (expected a UTF-8 text file)")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"env.kwargs.path: {path} is not UTF-8 text ({err})") from err
    return text


def build_vocab(text: str, max_vocab: int) -> list[str]:
    """The `max_vocab` most frequent characters (ties in first-seen order) followed by ``<unk>``."""
    counts = Counter(text)
    chars = [c for c, _ in counts.most_common(max_vocab)]
    return [*chars, UNK]


def encode(text: str, vocab: list[str]) -> np.ndarray:
    """Character ids (int64); characters outside the vocabulary get the ``<unk>`` id (the last)."""
    index = {c: i for i, c in enumerate(vocab[:-1])}
    unk = len(vocab) - 1
    return np.array([index.get(c, unk) for c in text], dtype=np.int64)


def decode(ids: Any, vocab: list[str]) -> str:
    """The text of character ids (``<unk>`` written as such)."""
    return "".join(vocab[int(i)] for i in np.asarray(ids).ravel())


def windows(ids: np.ndarray, num_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping windows: inputs ids[k*T:(k+1)*T] and targets shifted by one character, both (n, T)."""
    n = (len(ids) - 1) // num_steps
    x = ids[: n * num_steps].reshape(n, num_steps)
    y = ids[1 : n * num_steps + 1].reshape(n, num_steps)
    return x, y


def char_scores(logp: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Bits per char, perplexity and next-char accuracy of log-probabilities (N, T, V) over real rows."""
    if not mask.any():
        return {"bpc": 0.0, "perplexity": 1.0, "accuracy": 0.0}
    lp, tg = logp[mask], target[mask]
    picked = np.take_along_axis(lp, tg[..., None], axis=-1)[..., 0]
    nats = float(-np.clip(picked, -100.0, 0.0).mean())
    return {
        "bpc": nats / math.log(2),
        "perplexity": math.exp(nats),
        "accuracy": float((lp.argmax(-1) == tg).mean()),
    }


def sample_char(logp: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """A character id drawn from softmax(logp / temperature); the most likely one when temperature is 0."""
    if temperature <= 0:
        return int(np.argmax(logp))
    z = np.asarray(logp, dtype=np.float64) / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


class CharTextEnv(SupervisedEnv):
    """Next-character prediction on windows of a text, one minibatch per step; an episode is one epoch.

    ## Observation Space
    Box(0, vocab - 1, (batch_size, num_steps), int64): character ids.

    ## Action Space
    Box(float32 min, 0, (batch_size, num_steps, vocab), float32): log-probabilities of the next character.

    ## Rewards
    Next-char accuracy (argmax of the action) of the minibatch; info["metrics"] also has bpc and perplexity.

    ## Arguments
    path (None: the packaged tinyshakespeare excerpt, about 80 KB), split ("train" | "test"), num_steps (50),
    batch_size (32), max_vocab (3500), test_fraction (0.1: the held-out tail), shuffle (None: True for
    train), render_mode (None | "ansi").
    """

    actions_ignored = True  # the epoch's minibatches do not depend on the answers (rlkit.core.vector)

    metadata = {"render_modes": ["ansi"], "render_fps": 1}
    reward_key = "accuracy"
    headline = Headline("bits per char", "bpc", higher_is_better=False)

    def __init__(
        self,
        path: str | None = None,
        split: str = "train",
        num_steps: int = 50,
        batch_size: int = 32,
        max_vocab: int = 3500,
        test_fraction: float = 0.1,
        shuffle: bool | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (("num_steps", num_steps), ("max_vocab", max_vocab)):
            check_positive(key, value)
        if not 0 < test_fraction < 1:
            raise UserError(f"env.kwargs.test_fraction={test_fraction!r} is invalid: it must be in (0, 1)")
        self.path = Path(path).expanduser() if path else DEFAULT_TEXT
        text = read_text(self.path)
        cut = int(len(text) * (1 - test_fraction))
        part = text[:cut] if split == "train" else text[cut:]
        if len(text[:cut]) <= num_steps or len(text[cut:]) <= num_steps:
            raise UserError(
                f"env.kwargs.path: {self.path} has {len(text)} characters: too short for "
                f"num_steps={num_steps} and test_fraction={test_fraction} (each split needs "
                f"more than num_steps characters)"
            )
        self.vocab = build_vocab(text[:cut], max_vocab)
        self.num_steps = num_steps
        x, y = windows(encode(part, self.vocab), num_steps)
        v = len(self.vocab)
        obs_space = spaces.Box(0, v - 1, (batch_size, num_steps), np.int64)
        act_space = spaces.Box(np.finfo(np.float32).min, 0.0, (batch_size, num_steps, v), np.float32)
        shuffle = split == "train" if shuffle is None else shuffle
        self.generated: str | None = None
        super().__init__(x, y, batch_size, shuffle, obs_space, act_space, render_mode)

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """Bits per char, perplexity and next-char accuracy of the log-probabilities in `pred`."""
        return char_scores(pred, target, mask)

    def sample_text(self, agent: Any, length: int, temperature: float, prime: str, seed: int) -> str:
        """`rlkit play`'s hook for text tasks: `generate` (prime, then `length` sampled characters)."""
        return generate(agent, self, length=length, temperature=temperature, prime=prime, seed=seed)

    def render(self) -> str | None:
        """The last generated text, else the last scored window and the model's most likely next chars."""
        if self.render_mode != "ansi":
            return None
        if self.generated is not None:
            return self.generated
        if self._last is None:
            return decode(self._current[0], self.vocab)
        obs, _, pred, _ = self._last
        return f"input: {decode(obs[0], self.vocab)!r}\nmodel: {decode(pred[0].argmax(-1), self.vocab)!r}\n"


def generate(
    agent: Any, env: Any, length: int = 500, temperature: float = 1.0, prime: str = "\n", seed: int = 0
) -> str:
    """`prime` (as given) followed by `length` characters sampled one at a time from the agent's greedy
    predictions (the book's sample.py; characters of `prime` outside the vocabulary reach the model as <unk>).

    The model sees the last `num_steps` characters (placed at the start of the window: the model is causal,
    so the padding after them changes nothing) and the next character is drawn from its distribution at the
    last real position with `temperature` (0: always the most likely). Stored in env.generated for render().
    """
    base = env.unwrapped
    if not prime:
        raise UserError("prime= is empty: give the text the sample starts from, e.g. prime=ROMEO:")
    rng = np.random.default_rng(seed)
    ids = list(encode(prime, base.vocab))
    start = len(ids)
    obs = np.zeros(base.observation_space.shape, dtype=np.int64)
    for _ in range(length):
        context = ids[-base.num_steps :]
        obs[0, : len(context)] = context
        logp = agent.act(obs[None], explore=False)[0][0, len(context) - 1]
        ids.append(sample_char(logp, temperature, rng))
    base.generated = prime + decode(ids[start:], base.vocab)
    return base.generated


def rollout_txt(agent: Any, env: Any, path: str | Path, **kwargs: Any) -> Path:
    """Writes `generate(agent, env, **kwargs)` to a UTF-8 .txt file (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(generate(agent, env, **kwargs), encoding="utf-8")
    return path
