"""Parallel corpora for the translation task: a generated toy language, and the book's NMT file format.

`toy_corpus(n, seed)` writes English-like sentences and their translation into a rule-based toy language that
differs from English the way real pairs do, so a model must learn reordering and agreement, not a word list:

* noun phrases turn around: noun, adjectives in reverse order, then the determiner (``the big red dog`` ->
  ``hunda rosa bela na``); a prepositional phrase becomes a postposition after its noun phrase;
* agreement: plural nouns, adjectives and determiners take plural forms, and the verb agrees with the
  subject's number and the tense (present or past): one target verb form per (verb, tense, number);
* clauses are subject-object-(adverb)-verb, and a ``because`` clause moves in front of the clause it explains,
  so words travel up to the whole sentence's length;
* sentences join 1-4 clauses, 3 to `max_len` (default 50) source tokens.

`read_parallel(prefix, src, tgt)` reads ``<prefix>.<src>`` and ``<prefix>.<tgt>`` (one tokenised sentence per
line, as IWSLT'15 and NiuTrans ship them), `read_vocab` a ``vocab.<lang>`` file (one token per line; TF NMT's
``<unk> <s> </s>`` at the top are recognised and kept at ids 1-3), `build_vocab` a vocabulary from sentences.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np

from rlkit.core.errors import UserError
from rlkit.core.tokens import EOS, SPECIALS, UNK

NOUNS = [
    "dog", "cat", "bird", "horse", "farmer", "teacher", "king", "queen", "river", "tree", "house",
    "garden", "city", "boat", "book", "apple", "stone", "song", "letter", "window", "door", "mountain",
    "village", "friend", "soldier", "student", "doctor", "baker", "fox", "wolf",
]  # fmt: skip
ADJECTIVES = [
    "big", "small", "red", "blue", "old", "young", "happy", "quiet", "green", "dark", "bright", "tall",
    "brave", "clever", "lazy", "strong",
]  # fmt: skip
VERBS = {  # lemma: (3rd person singular present, plural present, past)
    "see": ("sees", "see", "saw"), "like": ("likes", "like", "liked"),
    "follow": ("follows", "follow", "followed"),
    "carry": ("carries", "carry", "carried"), "find": ("finds", "find", "found"),
    "help": ("helps", "help", "helped"), "watch": ("watches", "watch", "watched"),
    "paint": ("paints", "paint", "painted"), "build": ("builds", "build", "built"),
    "visit": ("visits", "visit", "visited"), "love": ("loves", "love", "loved"),
    "call": ("calls", "call", "called"), "feed": ("feeds", "feed", "fed"), "hide": ("hides", "hide", "hid"),
}  # fmt: skip
DETERMINERS = {
    "the": ("the", "the"),
    "a": ("a", "some"),
    "this": ("this", "these"),
    "every": ("every", "all"),
}
PREPOSITIONS = ["near", "under", "behind", "with"]
ADVERBS = ["quickly", "slowly", "often", "never"]
CONJUNCTIONS = ("and", "but", "because")
PLURALS = {"city": "cities", "fox": "foxes", "wolf": "wolves", "church": "churches"}
_SYLLABLES = [c + v for c in "bdfghklmnprstvz" for v in "aeiou"]


def _lexicon() -> dict[str, str]:
    """Each English lemma's toy-language lemma: distinct made-up words drawn from a fixed seed."""
    rng = np.random.default_rng(1234)
    lemmas = [*NOUNS, *ADJECTIVES, *VERBS, *DETERMINERS, *PREPOSITIONS, *ADVERBS, *CONJUNCTIONS]
    out: dict[str, str] = {}
    used: set[str] = set()
    for lemma in lemmas:
        word = ""
        while not word or word in used:
            word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4))))
        used.add(word)
        out[lemma] = word
    return out


LEXICON = _lexicon()


def _noun_phrase(rng: random.Random, depth: int) -> tuple[list[str], list[str], bool]:
    """(English words, toy words, plural) of a noun phrase, with a prepositional phrase when depth allows."""
    noun, plural = rng.choice(NOUNS), rng.random() < 0.4
    det = rng.choice(list(DETERMINERS))
    adjs = rng.sample(ADJECTIVES, rng.randrange(3))
    src = [DETERMINERS[det][plural], *adjs, PLURALS.get(noun, noun + "s") if plural else noun]
    mark = "en" if plural else ""
    tgt = [LEXICON[noun] + mark, *[LEXICON[a] + ("i" if plural else "") for a in reversed(adjs)]]
    tgt.append(LEXICON[det] + mark)
    if depth > 0 and rng.random() < 0.3:
        prep = rng.choice(PREPOSITIONS)
        s, t, _ = _noun_phrase(rng, depth - 1)
        src += [prep, *s]
        tgt += [*t, LEXICON[prep]]
    return src, tgt, plural


def _clause(rng: random.Random) -> tuple[list[str], list[str]]:
    """One subject-verb-object clause: English order, and the toy language's subject-object-adverb-verb."""
    subj, subj_t, plural = _noun_phrase(rng, 1)
    obj, obj_t, _ = _noun_phrase(rng, 1)
    verb, past = rng.choice(list(VERBS)), rng.random() < 0.5
    form = VERBS[verb][2] if past else VERBS[verb][1 if plural else 0]
    ending = ("o" if past else "a") + ("n" if plural else "")
    adv = [rng.choice(ADVERBS)] if rng.random() < 0.3 else []
    src = [*subj, *adv, form, *obj]
    tgt = [*subj_t, *obj_t, *[LEXICON[a] for a in adv], LEXICON[verb] + ending]
    return src, tgt


def toy_sentence(rng: random.Random, max_len: int) -> tuple[list[str], list[str]]:
    """One sentence pair of 1-4 clauses, at most `max_len` English tokens (Python's `random`: stable
    across versions and fast)."""
    while True:
        src, tgt = _clause(rng)
        for _ in range(rng.choices(range(4), weights=(0.3, 0.3, 0.25, 0.15))[0]):
            conj = rng.choice(CONJUNCTIONS)
            s, t = _clause(rng)
            src += [conj, *s]
            tgt = [*t, LEXICON[conj], *tgt] if conj == "because" else [*tgt, LEXICON[conj], *t]
        if len(src) <= max_len:
            return src, tgt


def toy_corpus(
    n: int, seed: int, max_len: int = 50, exclude: set[str] | None = None
) -> list[tuple[str, str]]:
    """`n` distinct sentence pairs ("english", "toy") from `seed`; sources in `exclude` are skipped."""
    rng, seen = random.Random(seed), set(exclude or ())
    pairs: list[tuple[str, str]] = []
    while len(pairs) < n:
        src, tgt = toy_sentence(rng, max_len)
        s = " ".join(src)
        if s not in seen:
            seen.add(s)
            pairs.append((s, " ".join(tgt)))
    return pairs


def toy_vocabularies() -> tuple[list[str], list[str]]:
    """Every word the generator can write: (English vocabulary, toy-language vocabulary), specials first."""
    src = [
        *NOUNS,
        *(PLURALS.get(n, n + "s") for n in NOUNS),
        *ADJECTIVES,
        *(f for v in VERBS.values() for f in v),
    ]
    src += [*(f for d in DETERMINERS.values() for f in d), *PREPOSITIONS, *ADVERBS, *CONJUNCTIONS]
    tgt = [LEXICON[w] + e for w in (*NOUNS, *DETERMINERS) for e in ("", "en")]
    tgt += [LEXICON[a] + e for a in ADJECTIVES for e in ("", "i")]
    tgt += [LEXICON[v] + e for v in VERBS for e in ("a", "an", "o", "on")]
    tgt += [LEXICON[w] for w in (*PREPOSITIONS, *ADVERBS, *CONJUNCTIONS)]
    return [*SPECIALS, *dict.fromkeys(src)], [*SPECIALS, *dict.fromkeys(tgt)]


# ----- files ---------------------------------------------------------------------------------------------
def read_lines(path: Path) -> list[str]:
    """The stripped lines of a UTF-8 file; UserError naming the path when it is missing or not UTF-8."""
    if not path.is_file():
        raise UserError(
            f"env.kwargs.prefix: file {path} not found (expected one tokenised sentence per line)"
        )
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    except UnicodeDecodeError as err:
        raise UserError(f"env.kwargs.prefix: {path} is not UTF-8 text ({err})") from err


def read_parallel(prefix: str | Path, src: str, tgt: str) -> list[tuple[str, str]]:
    """The sentence pairs of ``<prefix>.<src>`` and ``<prefix>.<tgt>`` (empty pairs dropped)."""
    a, b = Path(f"{prefix}.{src}"), Path(f"{prefix}.{tgt}")
    left, right = read_lines(a), read_lines(b)
    if len(left) != len(right):
        raise UserError(
            f"{a} has {len(left)} lines but {b} has {len(right)}: a parallel corpus needs as many"
        )
    pairs = [(s, t) for s, t in zip(left, right) if s and t]
    if not pairs:
        raise UserError(f"{a} and {b} hold no sentence pair")
    return pairs


def read_vocab(path: Path) -> list[str]:
    """A vocabulary file, one token per line, as the four specials followed by its other tokens."""
    words = [w for w in read_lines(path) if w]
    return [*SPECIALS, *dict.fromkeys(w for w in words if w not in SPECIALS)]


def build_vocab(sentences: list[str], max_vocab: int) -> list[str]:
    """The four specials and the `max_vocab` most frequent tokens (ties in first-seen order)."""
    counts = Counter(w for s in sentences for w in s.split())
    return [*SPECIALS, *(w for w, _ in counts.most_common(max_vocab) if w not in SPECIALS)]


def encode(sentences: list[str], vocab: list[str], length: int, eos: bool) -> np.ndarray:
    """Token ids (n, length) int64, 0-padded and cut to `length`; `eos` appends ``</s>`` (within `length`)."""
    index = {w: i for i, w in enumerate(vocab)}
    out = np.zeros((len(sentences), length), dtype=np.int64)
    for k, s in enumerate(sentences):
        ids = [index.get(w, UNK) for w in s.split()][: length - 1 if eos else length]
        out[k, : len(ids)] = ids
        if eos:
            out[k, len(ids)] = EOS
    return out
