"""Word corpora for the book's chapter 14 word2vec task, its vocabulary and the book's `generate_batch`.

Three sources, all offline unless the user downloads text8 on purpose:

* ``synthetic_corpus``: sentences "DET ADJ NOUN VERB DET ADJ NOUN" drawn from a small grammar whose words
  prefer certain neighbours (each noun its own adjectives and verbs, each verb its own objects), with planted
  synonym pairs (SYNONYMS): the two words of a pair realise one concept and are interchangeable in every
  sentence, so their contexts have the same distribution and a good embedding puts them next to each other.
  Generated deterministically from a seed, so "how many planted partners are nearest neighbours" measures
  quality.
* ``pydoc_words``: the English text of the standard library's ``pydoc_data.topics`` (about 66,000 words).
* ``read_words``: a text8 file (one line of lowercase space-separated words, about 17 million, from
  http://mattmahoney.net/dc/text8.zip), plain or the zip itself; any UTF-8 text works (lowercased, split into
  runs of letters and digits, which leaves text8 unchanged). ``download_text8`` fetches it only when called.

The vocabulary is the book's ``build_dataset``: UNK (id 0) followed by the ``vocabulary_size - 1`` most common
words, ids by decreasing count; other words become UNK and UNK's count is theirs.
"""

from __future__ import annotations

import re
import urllib.request
import zipfile
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError

UNK = "UNK"
TOKEN = re.compile(r"[^\W_]+")
TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
TEXT8_BYTES = 31_344_016  # the size the book's maybe_download checks
EXPECTED = "text8: one line of lowercase space-separated words (UTF-8), plain or zipped as text8.zip"

# Planted synonym pairs of the synthetic corpus: the second word is an alias of the first's concept.
SYNONYMS = (
    ("big", "large"),
    ("small", "little"),
    ("happy", "glad"),
    ("fast", "quick"),
    ("dog", "hound"),
    ("car", "automobile"),
    ("house", "home"),
    ("child", "kid"),
    ("sees", "notices"),
    ("eats", "devours"),
)
DETERMINERS = ("the", "a", "this", "every")
ADJECTIVES = ("big", "small", "happy", "fast", "old", "red", "quiet", "dark", "bright", "young")
NOUNS = ("dog", "car", "house", "child", "cat", "river", "king", "tree", "book", "ship", "city", "bird")
VERBS = ("sees", "eats", "finds", "builds", "loves", "carries", "visits", "follows")


@dataclass
class Vocabulary:
    """Words by id (UNK is id 0), their counts in the text the vocabulary was built from, and the lookup."""

    words: list[str]
    counts: np.ndarray  # int64 (V,): occurrences; counts[0] is the number of out-of-vocabulary tokens
    index: dict[str, int]

    def __len__(self) -> int:
        return len(self.words)

    def ids(self, words: list[str]) -> list[int]:
        """Ids of in-vocabulary words; UserError naming the words that are not in it."""
        missing = [w for w in words if w not in self.index]
        if missing:
            raise UserError(f"not in the vocabulary: {', '.join(missing)}")
        return [self.index[w] for w in words]


def tokenize(text: str) -> list[str]:
    """Lowercased runs of letters and digits (text8 is already such a list)."""
    return TOKEN.findall(text.lower())


def build_vocab(words: list[str], vocabulary_size: int) -> Vocabulary:
    """The book's build_dataset: UNK then the most common words (ties in first-seen order), with counts."""
    if vocabulary_size < 2:
        raise UserError(f"env.kwargs.vocabulary_size={vocabulary_size} is invalid: it must be >= 2")
    common = Counter(words).most_common(vocabulary_size - 1)
    known = sum(c for _, c in common)
    vocab_words = [UNK, *(w for w, _ in common)]
    counts = np.array([len(words) - known, *(c for _, c in common)], dtype=np.int64)
    return Vocabulary(vocab_words, counts, {w: i for i, w in enumerate(vocab_words)})


def encode(words: list[str], vocab: Vocabulary) -> np.ndarray:
    """Word ids (int64); words outside the vocabulary get UNK's id 0."""
    get = vocab.index.get
    return np.fromiter((get(w, 0) for w in words), dtype=np.int64, count=len(words))


def generate_batch(
    data: np.ndarray, index: int, batch_size: int, num_skips: int, skip_window: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, int]:
    """The book's skip-gram batch: (centers (batch,), context labels (batch, 1), next index).

    A deque of `2 * skip_window + 1` words slides over `data` from `index` (wrapping around at the end); each
    window's center word is repeated `num_skips` times, paired with that many distinct context words of the
    window drawn at random: rows ``i * num_skips + j``. As in the current TensorFlow tutorial, the returned
    index is that of the next window's first word, so consecutive batches skip no word.
    """
    if batch_size % num_skips != 0:
        raise UserError(
            f"env.kwargs.batch_size={batch_size} must be a multiple of env.kwargs.num_skips={num_skips}"
        )
    if num_skips > 2 * skip_window:
        raise UserError(
            f"env.kwargs.num_skips={num_skips} is invalid: it must be <= 2 * skip_window = {2 * skip_window}"
        )
    span = 2 * skip_window + 1
    n = len(data)
    batch = np.empty(batch_size, dtype=np.int64)
    labels = np.empty((batch_size, 1), dtype=np.int64)
    buffer = deque((data[(index + j) % n] for j in range(span)), maxlen=span)
    others = np.array([j for j in range(span) if j != skip_window])
    centers = batch_size // num_skips
    # num_skips distinct window positions per center, in random order (the book redraws until unused)
    picks = others[np.argsort(rng.random((centers, len(others))), axis=1)[:, :num_skips]]
    for i in range(centers):
        for j, target in enumerate(picks[i]):
            batch[i * num_skips + j] = buffer[skip_window]
            labels[i * num_skips + j, 0] = buffer[target]
        buffer.append(data[(index + i + span) % n])
    return batch, labels, (index + centers) % n


def context_pairs(data: np.ndarray, skip_window: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (center, context) pair of `data` within `skip_window` (no wrap-around), centers in text order."""
    centers, contexts = [], []
    for offset in [*range(-skip_window, 0), *range(1, skip_window + 1)]:
        pos = np.arange(max(0, -offset), len(data) - max(0, offset))
        centers.append(pos)
        contexts.append(pos + offset)
    pos, ctx = np.concatenate(centers), np.concatenate(contexts)
    order = np.lexsort((ctx, pos))
    return data[pos[order]], data[ctx[order]]


def subsample_keep(
    data: np.ndarray, counts: np.ndarray, threshold: float, rng: np.random.Generator
) -> np.ndarray:
    """Mikolov's subsampling of frequent words: a bool mask keeping word w with probability
    min(1, sqrt(t / f(w)) + t / f(w)) (word2vec's C code), f its frequency and t the threshold."""
    freq = counts / max(int(counts.sum()), 1)
    ratio = threshold / np.maximum(freq, 1e-12)
    keep_p = np.minimum(1.0, np.sqrt(ratio) + ratio)
    return rng.random(len(data)) < keep_p[data]


# ----- corpora ---------------------------------------------------------------------------------------------
def synthetic_corpus(num_words: int, seed: int = 0) -> list[str]:
    """About `num_words` words of the grammar in the module docstring, SYNONYMS planted; deterministic."""
    rng = np.random.default_rng(seed)
    alias = dict(SYNONYMS)

    def prefs(n_from: int, n_to: int) -> np.ndarray:
        """Each row prefers 3 choices with random weights; row i always includes choice i % n_to (so every
        word of the target class occurs when n_from >= n_to)."""
        p = np.zeros((n_from, n_to))
        for i, row in enumerate(p):
            others = rng.choice(np.delete(np.arange(n_to), i % n_to), size=2, replace=False)
            row[[i % n_to, *others]] = rng.dirichlet(np.ones(3)) + 0.1
        return p / p.sum(axis=1, keepdims=True)

    noun_adj, noun_verb, verb_obj = (
        prefs(len(NOUNS), len(ADJECTIVES)),
        prefs(len(NOUNS), len(VERBS)),
        prefs(len(VERBS), len(NOUNS)),
    )
    n_sent = max(1, num_words // 7)
    subj = rng.integers(len(NOUNS), size=n_sent)
    draws = rng.random((n_sent, 5))

    def pick(p: np.ndarray, u: np.ndarray) -> np.ndarray:  # inverse-CDF sampling, one row of p per draw
        return np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), p.shape[1] - 1)

    verb = pick(noun_verb[subj], draws[:, 0])
    obj = pick(verb_obj[verb], draws[:, 1])
    adj1, adj2 = pick(noun_adj[subj], draws[:, 2]), pick(noun_adj[obj], draws[:, 3])
    det = rng.integers(len(DETERMINERS), size=(n_sent, 2))
    concepts = [
        (DETERMINERS, det[:, 0]),
        (ADJECTIVES, adj1),
        (NOUNS, subj),
        (VERBS, verb),
        (DETERMINERS, det[:, 1]),
        (ADJECTIVES, adj2),
        (NOUNS, obj),
    ]
    use_alias = rng.random((n_sent, len(concepts))) < 0.5
    words: list[str] = []
    for s in range(n_sent):
        for c, (table, ids) in enumerate(concepts):
            word = table[ids[s]]
            words.append(alias[word] if word in alias and use_alias[s, c] else word)
    return words


def pydoc_words() -> list[str]:
    """The words of the Python documentation's topics shipped with the standard library (pydoc_data)."""
    from pydoc_data.topics import topics  # a large module: only for the pydoc corpus

    return tokenize(" ".join(topics[k] for k in sorted(topics)))


def read_words(path: str | Path) -> list[str]:
    """The words of a text8 file, plain or zipped; UserError naming the path if it is missing or malformed."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"env.kwargs.path: corpus file {path} not found (expected {EXPECTED})")
    data = _zip_member(path) if zipfile.is_zipfile(path) else path.read_bytes()
    if b"\x00" in data:
        raise UserError(f"env.kwargs.path: {path} is a binary file, not text (expected {EXPECTED})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserError(f"env.kwargs.path: {path} is not UTF-8 text ({err}); expected {EXPECTED}") from err
    words = tokenize(text)
    if not words:
        raise UserError(f"env.kwargs.path: {path} holds no words (expected {EXPECTED})")
    return words


def _zip_member(path: Path) -> bytes:
    """The bytes of a zip's only file (text8.zip holds one, 'text8')."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                names = ", ".join(m.filename for m in members) or "none"
                raise UserError(
                    f"env.kwargs.path: {path} is a zip with {len(members)} files ({names}); expected exactly "
                    f"one text member, like text8.zip's 'text8'"
                )
            return archive.read(members[0])
    except (zipfile.BadZipFile, OSError) as err:
        raise UserError(f"env.kwargs.path: {path} is a damaged zip ({err}); expected {EXPECTED}") from err


def download_text8(dest: str | Path, url: str = TEXT8_URL, expected_bytes: int = TEXT8_BYTES) -> Path:
    """Downloads text8.zip to `dest` (a folder or a file path) unless it is there; checks its size like the
    book's maybe_download. Runs only when called: nothing in rlkit downloads on its own."""
    dest = Path(dest).expanduser()
    target = dest / "text8.zip" if dest.is_dir() or not dest.suffix else dest
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        urllib.request.urlretrieve(url, tmp)  # noqa: S310 (the user asked for this URL)
        tmp.replace(target)
    size = target.stat().st_size
    if size != expected_bytes:
        raise UserError(f"{target} has {size:,} bytes, expected {expected_bytes:,}: download it again")
    return target
