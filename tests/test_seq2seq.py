"""Issue 16 (translation): the generated corpus and the NMT file loader, BLEU, the seq2seq networks and
decoders (teacher forcing = step-by-step decoding, beam width 1 = greedy), and the agent through
`rlkit train`, resume and `rlkit play input=...`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.seq2seq import Seq2SeqAgent, Seq2SeqConfig
from rlkit.agents.seq2seq_nets import Seq2Seq
from rlkit.agents.seq2seq_search import beam_search, greedy, length_penalty
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import UserError
from rlkit.core.tokens import BOS, EOS, PAD, UNK, words_of
from rlkit.envs.translation import TranslationEnv, corpus_bleu
from rlkit.envs.translation_data import LEXICON, toy_corpus, toy_vocabularies
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, read_metrics

SMALL = [
    "agent=seq2seq",
    "env=translation",
    "ui=none",
    "num_threads=1",
    "agent.units=16",
    "agent.num_layers=1",
]
TINY = ["env.kwargs.n_train=96", "env.kwargs.n_test=40", "env.kwargs.batch_size=32", "env.kwargs.max_len=20"]


# ----- data ----------------------------------------------------------------------------------------------
def test_generated_corpus_is_seeded_and_its_splits_are_disjoint() -> None:
    assert toy_corpus(50, 3) == toy_corpus(50, 3) and toy_corpus(50, 3) != toy_corpus(50, 4)
    train = TranslationEnv(split="train", n_train=400, n_test=100)
    test = TranslationEnv(split="test", n_test=100)
    assert len(set(train.sources)) == 400 and len(set(test.sources)) == 100
    assert not set(train.sources) & set(test.sources)
    lengths = [len(s.split()) for s in train.sources + test.sources]
    assert min(lengths) >= 3 and max(lengths) <= 50 and max(lengths) > 30  # long sentences exist
    src_vocab, tgt_vocab = toy_vocabularies()
    assert (
        train.src_vocab == src_vocab and not (train.inputs == UNK).any() and not (train.targets == UNK).any()
    )
    assert tgt_vocab[:4] == ["<pad>", "<unk>", "<s>", "</s>"]


def test_toy_language_reorders_and_agrees() -> None:
    # every pair: as many words on both sides; the verb ends the clause; a plural noun takes "en"
    for src, tgt in toy_corpus(200, 0):
        s, t = src.split(), tgt.split()
        assert len(s) == len(t)
        if len(s) == 5 and s[0] in ("the", "a", "this", "every") and s[2] == "a":  # "the dog sees a cat"
            det, noun, verb, _, obj = s
            lemma = next(v for v, forms in __import__("rlkit.envs.translation_data").envs.translation_data
                         .VERBS.items() if verb in forms)  # fmt: skip
            assert t == [LEXICON[noun], LEXICON[det], LEXICON[obj], LEXICON["a"], t[4]]
            assert t[4].startswith(LEXICON[lemma]) and t[4][len(LEXICON[lemma]) :] in ("a", "o")


def test_bleu_of_a_perfect_translation_is_100_and_the_env_reports_it_per_epoch() -> None:
    assert corpus_bleu(["a b c d e"], ["a b c d e"]) == pytest.approx(100.0)
    assert corpus_bleu(["x y z w"], ["a b c d"]) == pytest.approx(0.0)
    env = TranslationEnv(split="test", n_test=70, batch_size=32)
    env.reset(seed=0)
    rewards, infos, done = [], [], False
    while not done:
        k = env._batch
        _, reward, done, _, info = env.step(env.targets[k * 32 : (k + 1) * 32].copy() if k < 2 else
                                            np.pad(env.targets[64:], ((0, 26), (0, 0))))  # fmt: skip
        rewards.append(reward)
        infos.append(info)
    assert len(rewards) == 3 and rewards[:2] == [0.0, 0.0] and rewards[2] == pytest.approx(100.0)
    assert all(i["metrics"]["exact_match"] == 1.0 for i in infos) and "bleu" in infos[-1]["metrics"]
    env.reset(seed=0)  # empty answers: BLEU 0, length ratio 0
    for _ in range(3):
        _, reward, done, _, info = env.step(np.zeros(env.action_space.shape, np.int64))
    assert done and reward == 0.0 and info["metrics"]["len_ratio"] == 0.0


def write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_reads_the_books_nmt_file_layout(tmp_path: Path) -> None:
    write(tmp_path / "train.vi", ["xin chào", "cảm ơn bạn", "tạm biệt"])
    write(tmp_path / "train.en", ["hello", "thank you", "goodbye"])
    write(tmp_path / "tst2012.vi", ["xin chào bạn mới"])
    write(tmp_path / "tst2012.en", ["hello new friend"])
    write(tmp_path / "vocab.vi", ["<unk>", "<s>", "</s>", "xin", "chào", "bạn"])
    write(tmp_path / "vocab.en", ["<unk>", "<s>", "</s>", "hello", "thank", "you", "goodbye"])
    env = TranslationEnv(prefix=str(tmp_path / "train"), src="vi", tgt="en", split="test", batch_size=2)
    assert env.src_vocab == ["<pad>", "<unk>", "<s>", "</s>", "xin", "chào", "bạn"]
    assert env.inputs[0, :4].tolist() == [4, 5, 6, UNK] and env.inputs[0, 4] == PAD  # "mới" is unknown
    assert env.targets[0, :4].tolist() == [4, UNK, UNK, EOS]  # the reference keeps its words for BLEU
    assert env.references == ["hello new friend"] and env.observation_space.shape == (2, 50)
    train = TranslationEnv(prefix=str(tmp_path / "train"), src="vi", tgt="en", batch_size=2)
    assert len(train.inputs) == 3 and words_of(train.targets[1], train.tgt_vocab) == ["thank", "you"]
    (tmp_path / "vocab.en").unlink()  # no vocabulary file: the train split's words
    built = TranslationEnv(prefix=str(tmp_path / "train"), src="vi", tgt="en", split="test", batch_size=2)
    assert built.tgt_vocab[4:] == ["hello", "thank", "you", "goodbye"]


def test_file_errors_say_what_is_wrong(tmp_path: Path) -> None:
    write(tmp_path / "train.vi", ["a b", "c"])
    write(tmp_path / "train.en", ["x"])
    with pytest.raises(UserError, match="has 2 lines but .*train.en has 1"):
        TranslationEnv(prefix=str(tmp_path / "train"), src="vi", tgt="en")
    write(tmp_path / "train.en", ["x", "y"])
    with pytest.raises(UserError, match="no test files next to .*tst2013.vi, test.vi, tst2012.vi, dev.vi"):
        TranslationEnv(prefix=str(tmp_path / "train"), src="vi", tgt="en", split="test")
    with pytest.raises(UserError, match="nothing.de not found"):
        TranslationEnv(prefix=str(tmp_path / "nothing"), src="de", tgt="en")


# ----- networks and decoding -----------------------------------------------------------------------------
CONFIGS = [
    Seq2SeqConfig(units=8, num_layers=2, attention="none", dropout=0.0),
    Seq2SeqConfig(units=8, num_layers=1, attention="luong", cell="gru", bidirectional=True, dropout=0.0),
    Seq2SeqConfig(units=8, num_layers=2, attention="scaled_luong", dropout=0.0),
    Seq2SeqConfig(units=8, num_layers=2, attention="bahdanau", bidirectional=True, dropout=0.0),
]


def model_and_source(cfg: Seq2SeqConfig) -> tuple[Seq2Seq, torch.Tensor]:
    torch.manual_seed(0)
    model = Seq2Seq(12, 10, cfg).eval()
    src = torch.tensor([[5, 6, 7, 8, 9, 4], [4, 11, 6, 0, 0, 0], [7, 0, 0, 0, 0, 0]])
    return model, src


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.attention}-{c.cell}")
def test_teacher_forcing_equals_step_by_step_decoding(cfg: Seq2SeqConfig) -> None:
    model, src = model_and_source(cfg)
    prev = torch.tensor([[BOS, 4, 5, 6], [BOS, 7, 7, 8], [BOS, 9, 4, 5]])
    with torch.no_grad():
        whole = model(src, prev)
        state, memo = model.start(src)
        steps = []
        for t in range(prev.shape[1]):
            logp, state, _ = model.decoder(prev[:, t : t + 1], state, memo)
            steps.append(logp)
    assert torch.allclose(whole, torch.cat(steps, 1), atol=1e-5)
    padded = torch.cat([src, torch.zeros(3, 4, dtype=torch.long)], 1)  # more padding changes nothing
    assert torch.allclose(whole, model(padded, prev), atol=1e-5)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.attention}-{c.cell}")
def test_beam_of_width_one_is_greedy(cfg: Seq2SeqConfig) -> None:
    model, src = model_and_source(cfg)
    with torch.no_grad():
        ids, att = greedy(model, src, 9)
        beam_ids, beam_att = beam_search(model, src, 9, width=1, alpha=0.6)
    n = max(ids.shape[1], beam_ids.shape[1])
    pad = lambda x: torch.nn.functional.pad(x, (0, n - x.shape[1]))  # noqa: E731
    assert torch.equal(pad(ids), pad(beam_ids))
    if cfg.attention == "none":
        assert att is None and beam_att is None
    else:
        assert torch.allclose(att, beam_att[:, : att.shape[1]], atol=1e-6)
        assert torch.allclose(att.sum(-1)[ids != PAD], torch.tensor(1.0))  # weights sum to 1
        assert (att[1, :, 3:] == 0).all()  # padding gets no attention


def test_beam_search_scores_at_least_as_well_as_greedy_on_average() -> None:
    model, src = model_and_source(CONFIGS[2])

    def logprob(ids: torch.Tensor) -> torch.Tensor:
        ids = torch.nn.functional.pad(ids, (0, 1))
        prev = torch.cat([torch.full_like(ids[:, :1], BOS), ids[:, :-1]], 1)
        picked = model(src, prev).gather(-1, ids[..., None])[..., 0]
        keep = torch.cumsum((prev == EOS).long(), 1) == 0  # words up to and with the first </s>
        return (picked * keep).sum(1)

    with torch.no_grad():
        g, b = greedy(model, src, 9)[0], beam_search(model, src, 9, width=4, alpha=0.0)[0]
        assert logprob(b).sum() >= logprob(g).sum() - 1e-5
    assert length_penalty(torch.tensor(7.0), 0.6) == pytest.approx(2.0**0.6)
    assert length_penalty(torch.tensor(3.0), 0.0) == pytest.approx(1.0)


def test_agent_refuses_another_env_and_bad_settings() -> None:
    with pytest.raises(UserError, match="agent.attention='dot' is invalid: it must be one of none, bahdanau"):
        Seq2SeqConfig(attention="dot").validate()
    with pytest.raises(UserError, match="agent.units=7 is invalid"):
        Seq2SeqConfig(units=7, bidirectional=True).validate()
    assert main(["train", "agent=seq2seq", "env=digits", "ui=none"]) == 2


# ----- through the CLI -----------------------------------------------------------------------------------
def test_trains_through_the_cli_with_bleu_and_perplexity(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = [*SMALL, *TINY, "agent.beam=3", "agent.bidirectional=true", "total_steps=6", "eval.every=3"]
    assert main(["train", *args, "log_every=3", f"hydra.run.dir={run}"]) == 0
    rows = read_metrics(run)
    evals = [r for r in rows if "eval/bleu" in r]
    assert [r["step"] for r in evals] == [3, 6]
    assert all(0 <= r["eval/bleu"] <= 100 and r["eval/return_mean"] == r["eval/bleu"] for r in evals)
    train = [r for r in rows if "train/perplexity" in r][-1]
    assert math.isclose(train["train/perplexity"], math.exp(train["train/loss"]), rel_tol=1e-6)
    assert train["train/perplexity"] > 1
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["name"] == "BLEU" and summary["headline"]["key"] == "bleu"


def test_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = [*SMALL, *TINY, "total_steps=6", "eval.every=3", "log_every=2", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, Seq2SeqAgent, 2):  # mid-epoch (3 batches per epoch)
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["updates"] == 2
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]["model"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["model"]
    assert all(torch.equal(ref[k], resumed[k]) for k in ref)


def test_play_translates_input_and_writes_the_attention_heatmap(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SMALL, *TINY, "total_steps=2", f"hydra.run.dir={run}"]) == 0
    out = tmp_path / "out"
    assert main(["play", f"run={run}", f"out={out}", "input=The dog sees a zebra"]) == 0
    printed = capsys.readouterr().out
    assert "source:      the dog sees a <unk>" in printed and "translation:" in printed
    assert f"Wrote {out / 'latest_attention.png'}" in printed
    with Image.open(out / "latest_attention.png") as image:
        assert image.format == "PNG" and image.size[0] > 100
    assert main(["play", "env=maze", "input=hello"]) == 2
    assert main(["play", f"run={run}", f"out={out}", "render=text", "speed=0"]) == 0
    assert (out / "latest_translations.txt").read_text().count("ref: ") == 20
