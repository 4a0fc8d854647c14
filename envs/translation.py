"""Machine translation as a task env (the book's chapter 16): a minibatch of source sentences, the agent's
translations as the action, corpus BLEU (sacreBLEU) at the end of each epoch.

The observation is source token ids, the action the agent's target token ids, both in the layout of
rlkit.core.tokens (0 pads, ``</s>`` ends an answer). `info["targets"]` reveals the reference ids (words, then
``</s>``, then 0s) for teacher forcing. Per step, info["metrics"] has exact_match (the share of answers equal
to the reference) and len_ratio; at an epoch's last step also bleu, sacreBLEU's corpus BLEU of the whole
epoch's answers against the reference sentences as written (a word outside the vocabulary still counts
against the model), which is that step's reward (0 before): an episode's return is the epoch's BLEU and the
headline. Tokenisation is the corpus's own (``tokenize="none"``): both corpora come tokenised.
On the training split a row answered with padding only is "no answer" (rlkit.core.tokens.answered) and left
out of all three: the seq2seq agent decodes one training minibatch in `decode_every`, so the training BLEU is
that of the decoded sample of the epoch. The test split scores every row (an empty answer scores 0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.core.tokens import SPECIALS, scored, sentence, words_of
from rlkit.envs.supervised import SPLITS, SupervisedEnv, check_choice, check_positive
from rlkit.envs.translation_data import (
    build_vocab,
    encode,
    read_parallel,
    read_vocab,
    toy_corpus,
    toy_vocabularies,
)

TEST_PREFIXES = ("tst2013", "test", "tst2012", "dev")  # IWSLT'15's test, NiuTrans's, then dev sets


def corpus_bleu(hypotheses: list[str], references: list[str]) -> float:
    """sacreBLEU corpus BLEU (0-100) of tokenised sentences against one reference each."""
    import sacrebleu  # only when BLEU is computed

    if not hypotheses:
        return 0.0
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", force=True).score)


def file_corpus(
    prefix: str,
    src: str,
    tgt: str,
    split: str,
    test_prefix: str | None,
    vocab_prefix: str | None,
    max_vocab: int,
) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """(pairs of the split, source vocabulary, target vocabulary) of files in the book's NMT layout."""
    folder = Path(prefix).expanduser().parent
    if split == "test":
        if test_prefix is None:
            found = [folder / p for p in TEST_PREFIXES if Path(f"{folder / p}.{src}").is_file()]
            if not found:
                raise UserError(
                    f"env.kwargs.test_prefix: no test files next to {prefix} (looked for "
                    f"{', '.join(f'{p}.{src}' for p in TEST_PREFIXES)} in {folder}); give "
                    "env.eval_kwargs.test_prefix"
                )
            test_prefix = str(found[0])
        pairs = read_parallel(test_prefix, src, tgt)
    else:
        pairs = read_parallel(prefix, src, tgt)
    vocab_prefix = str(folder / "vocab") if vocab_prefix is None else vocab_prefix
    vocabs = []
    for side, lang in ((0, src), (1, tgt)):
        path = Path(f"{vocab_prefix}.{lang}").expanduser()
        if path.is_file():
            vocabs.append(read_vocab(path))
        else:  # no vocabulary file: the train split's words, the same for both splits
            train = pairs if split == "train" else read_parallel(prefix, src, tgt)
            vocabs.append(build_vocab([p[side] for p in train], max_vocab))
    return pairs, vocabs[0], vocabs[1]


class TranslationEnv(SupervisedEnv):
    """Translate minibatches of sentences; an episode is one epoch, its return the epoch's corpus BLEU.

    ## Description
    Without `prefix`: a generated English -> toy-language corpus (rlkit.envs.translation_data: reordered noun
    phrases, agreement, subject-object-verb clauses, fronted because-clauses), 3-50 tokens. The test split
    is `n_test` pairs drawn from `data_seed`, the train split `n_train` other pairs (no test source repeats).
    With `prefix=DIR/train src=vi tgt=en`: the files ``DIR/train.vi``/``DIR/train.en`` (train) and the first
    of ``DIR/tst2013``, ``test``, ``tst2012``, ``dev`` (or `test_prefix`) for the test split, as IWSLT'15
    and NiuTrans ship them; vocabularies from ``DIR/vocab.<lang>`` (or `vocab_prefix`), else the train
    split's `max_vocab` most frequent words; other words read as ``<unk>``.

    ## Observation Space
    Box(0, src_vocab - 1, (batch_size, max_len), int64): source ids, 0-padded (longer sentences are cut).

    ## Action Space
    Box(0, tgt_vocab - 1, (batch_size, max_len + 1), int64): the translations' ids, each ended by ``</s>``.

    ## Rewards
    0, and at the last step of an epoch the epoch's corpus BLEU (0-100).

    ## Arguments
    prefix (None: generated), src ("en"), tgt ("toy"), test_prefix, vocab_prefix (None: found by prefix),
    split ("train" | "test"), n_train (20000), n_test (1000), data_seed (0), max_len (50), max_vocab (50000),
    batch_size (64), shuffle (None: True for train), render_mode (None | "ansi": the last batch's first 3).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}
    reward_key = "exact_match"
    headline = Headline("BLEU", "bleu", decimals=2)

    def __init__(
        self,
        prefix: str | None = None,
        src: str = "en",
        tgt: str = "toy",
        test_prefix: str | None = None,
        vocab_prefix: str | None = None,
        split: str = "train",
        n_train: int = 20000,
        n_test: int = 1000,
        data_seed: int = 0,
        max_len: int = 50,
        max_vocab: int = 50000,
        batch_size: int = 64,
        shuffle: bool | None = None,
        render_mode: str | None = None,
    ):
        check_choice("split", split, SPLITS)
        for key, value in (
            ("n_train", n_train),
            ("n_test", n_test),
            ("max_len", max_len),
            ("max_vocab", max_vocab),
        ):
            check_positive(key, value)
        if prefix:
            pairs, self.src_vocab, self.tgt_vocab = file_corpus(
                prefix, src, tgt, split, test_prefix, vocab_prefix, max_vocab
            )
        else:
            pairs = toy_corpus(n_test, 2 * data_seed + 1, max_len)
            if split == "train":
                pairs = toy_corpus(n_train, 2 * data_seed, max_len, exclude={s for s, _ in pairs})
            self.src_vocab, self.tgt_vocab = toy_vocabularies()
        self.sources, self.references = [p[0] for p in pairs], [p[1] for p in pairs]
        self.max_len = max_len
        x = encode(self.sources, self.src_vocab, max_len, eos=False)
        y = encode(self.references, self.tgt_vocab, max_len + 1, eos=True)
        obs_space = spaces.Box(0, len(self.src_vocab) - 1, (batch_size, max_len), np.int64)
        act_space = spaces.Box(0, len(self.tgt_vocab) - 1, (batch_size, max_len + 1), np.int64)
        shuffle = split == "train" if shuffle is None else shuffle
        self.split = split
        self._epoch: list[tuple[str, str]] = []
        super().__init__(x, y, batch_size, shuffle, obs_space, act_space, render_mode)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        """Starts an epoch: the BLEU of the new epoch starts from no sentences."""
        self._epoch = []
        return super().reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        """Scores the translations; the epoch's last step adds its corpus BLEU, which is the reward."""
        obs, _, terminated, truncated, info = super().step(action)
        reward = 0.0
        if terminated:
            hyps, refs = zip(*self._epoch) if self._epoch else ((), ())
            info["metrics"]["bleu"] = reward = corpus_bleu(list(hyps), list(refs))
            self._epoch = []
        return obs, reward, terminated, truncated, info

    def score(self, pred: np.ndarray, target: np.ndarray, mask: np.ndarray) -> dict[str, float]:
        """exact_match and len_ratio (answer words / reference words) of the batch; keeps the answers
        (on the training split only the rows answered: rlkit.core.tokens.answered)."""
        rows = self._rows()
        keep = scored(pred, len(rows), self.split == "train")
        hyps = [sentence(pred[k], self.tgt_vocab) for k in np.flatnonzero(keep)]
        refs = [self.references[r] for r in rows[keep]]
        self._epoch += list(zip(hyps, refs))
        if not refs:
            return {"exact_match": 0.0, "len_ratio": 0.0}
        hyp_words, ref_words = sum(len(h.split()) for h in hyps), sum(len(r.split()) for r in refs)
        return {
            "exact_match": float(np.mean([h == r for h, r in zip(hyps, refs)])),
            "len_ratio": hyp_words / max(ref_words, 1),
        }

    # ----- what a person looks at --------------------------------------------------------------------------
    def render(self) -> str | None:
        """The last scored batch's first 3 sentences: source, reference and the model's answer (ansi);
        before the first step, the first batch's without an answer."""
        if self.render_mode != "ansi":
            return None
        obs, target, pred, mask = self._last or (self._current, self._target(), None, self._mask())
        lines = []
        for k in np.flatnonzero(mask)[:3]:
            lines += [f"src: {sentence(obs[k], self.src_vocab)}",
                      f"ref: {sentence(target[k], self.tgt_vocab)}",
                      f"out: {'?' if pred is None else sentence(pred[k], self.tgt_vocab)}",
                      ""]  # fmt: skip
        return "\n".join(lines)

    def encode_text(self, text: str) -> np.ndarray:
        """A sentence typed by a person as source ids (max_len,): lower-cased, split on spaces."""
        words = text.lower().split()
        if not words:
            raise UserError('input= is empty: give a sentence to translate, e.g. input="the dog sees a cat"')
        return encode([" ".join(words)], self.src_vocab, self.max_len, eos=False)[0]

    def translate_text(self, agent: Any, text: str, out_dir: str | Path, prefix: str = "latest") -> list[str]:
        """Translates `text` with the agent (`rlkit play run=... input="..."`); writes the attention heatmap.

        Returns the lines to print: source as read (``<unk>`` for unknown words), translation, and the PNG.
        """
        if not callable(getattr(agent, "translate", None)):
            raise UserError("input= needs a trained translation agent (agent=seq2seq)")
        src = self.encode_text(text)
        out, attention = agent.translate(src)
        src_words = [SPECIALS[1] if i == 1 else self.src_vocab[i] for i in src if i != 0]
        out_words = words_of(out, self.tgt_vocab)
        lines = [f"source:      {' '.join(src_words)}", f"translation: {' '.join(out_words)}"]
        if attention is not None:
            path = Path(out_dir) / f"{prefix}_attention.png"
            attention_png(
                attention[: len(out_words) + 1, : len(src_words)], src_words, [*out_words, "</s>"], path
            )
            lines.append(f"Wrote {path}")
        return lines

    def rollout_files(self, agent: Any, out_dir: str | Path, prefix: str = "latest") -> list[Path]:
        """Writes <prefix>_translations.txt: the first 20 test sentences with reference and translation."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        n = min(20, len(self.inputs))
        pred = agent.act(np.asarray(self.inputs[:n])[None], explore=False)[0]
        lines = []
        for k in range(n):
            lines += [f"src: {self.sources[k]}", f"ref: {self.references[k]}",
                      f"out: {sentence(pred[k], self.tgt_vocab)}", ""]  # fmt: skip
        path = out_dir / f"{prefix}_translations.txt"
        path.write_text("\n".join(lines), encoding="utf-8")
        return [path]


def attention_png(weights: np.ndarray, src_words: list[str], out_words: list[str], path: str | Path) -> Path:
    """The attention matrix as a heatmap: output words down, source words across."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # only when a heatmap is drawn

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(1.5 + 0.35 * len(src_words), 1.0 + 0.3 * len(out_words)))
    ax.imshow(np.asarray(weights), cmap="viridis", aspect="auto", vmin=0.0)
    ax.set_xticks(range(len(src_words)), src_words, rotation=90, fontsize=8)
    ax.set_yticks(range(len(out_words)), out_words, fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
