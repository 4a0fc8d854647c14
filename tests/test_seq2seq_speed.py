"""Issue 16's speed change: the seq2seq/captioning agents decode one training minibatch in `decode_every`,
the training splits leave unanswered rows out; evaluation and the updates stay as they were."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rlkit.agents.seq2seq import Seq2SeqAgent, Seq2SeqConfig
from rlkit.core.tokens import answered, words_of
from rlkit.core.types import AgentContext
from rlkit.envs.shapes_captions import ShapesCaptionsEnv
from rlkit.envs.translation import TranslationEnv, corpus_bleu
from rlkit.frontend.cli import main

TRANSLATION = [
    "agent=seq2seq",
    "env=translation",
    "agent.units=16",
    "agent.num_layers=1",
    "env.kwargs.n_train=96",
    "env.kwargs.n_test=40",
    "env.kwargs.batch_size=32",
    "env.kwargs.max_len=20",
    "total_steps=12",
    "eval.every=6",
    "log_every=3",
]
CAPTIONING = [
    "agent=captioning",
    "env=shapes_captions",
    "agent.units=16",
    "agent.channels=4",
    "agent.lr=0.01",
    "env.kwargs.n_train=64",
    "env.eval_kwargs.n_test=40",
    "env.kwargs.batch_size=32",
    "total_steps=8",
    "eval.every=4",
    "log_every=2",
]

# Recorded from the code before the change (commit 0c25ca2, every training batch decoded), seed 3.
BEFORE = {
    "translation": {
        "eval": [(6, 0.1784647715958136, 1.7422204790037508), (12, 0.22605758982941768, 1.6070404236020885)],
        "loss": [5.136542797088623, 5.132133960723877, 5.128110885620117, 5.126094341278076],
        "train_return": [0.11145981190517415, 0.12406363321136475, 0.11919172102641282, 0.12466425271525354],
    },
    "captioning": {
        "eval": [(4, 0.7964756072365138, 18.75), (8, 2.4044864001750925, 32.475200500944766)],
        "loss": [3.360750913619995, 3.2796645164489746, 3.1844849586486816, 3.1022298336029053],
        "train_return": [0.11131085001257926, 0.5939882261292668, 0.5939882261292668, 1.525226137211488],
    },
}


def run_lines(tmp_path: Path, args: list[str], name: str) -> list[dict]:
    run = tmp_path / name
    assert main(["train", *args, "ui=none", "num_threads=1", "seed=3", f"hydra.run.dir={run}"]) == 0
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("task", ["translation", "captioning"])
def test_eval_metrics_and_updates_are_those_of_the_code_before(tmp_path: Path, task: str) -> None:
    lines = run_lines(tmp_path, TRANSLATION if task == "translation" else CAPTIONING, task)
    second = "eval/len_ratio" if task == "translation" else "eval/bleu1"
    evals = [(d["step"], d["eval/return_mean"], d[second]) for d in lines if "eval/return_mean" in d]
    assert evals == [pytest.approx(e, rel=1e-5) for e in BEFORE[task]["eval"]]
    losses = [d["train/loss"] for d in lines if "train/loss" in d]
    assert losses == pytest.approx(BEFORE[task]["loss"], rel=1e-5)


def test_decode_every_1_reproduces_the_old_training_headline(tmp_path: Path) -> None:
    lines = run_lines(tmp_path, [*TRANSLATION, "agent.decode_every=1"], "every")
    returns = [d["train/episode_return"] for d in lines if "train/episode_return" in d]
    assert returns == pytest.approx(BEFORE["translation"]["train_return"], rel=1e-5)


def test_bad_decode_every_is_one_line(capsys: pytest.CaptureFixture) -> None:
    assert main(["train", *TRANSLATION, "ui=none", "agent.decode_every=0"]) == 2
    assert "agent.decode_every" in capsys.readouterr().err


def test_agent_decodes_one_training_batch_in_decode_every_and_all_at_evaluation() -> None:
    env = TranslationEnv(split="test", n_test=40, batch_size=8, max_len=20)
    ctx = AgentContext(env.observation_space, env.action_space, seed=0)
    agent = Seq2SeqAgent(Seq2SeqConfig(units=16, num_layers=1, decode_every=4), ctx)
    obs = env.reset(seed=0)[0][None]
    full = agent.act(obs, explore=False)
    assert answered(full[0]).all()
    for updates, decoded in ((0, True), (1, False), (3, False), (4, True), (9, False)):
        agent.updates = updates
        out = agent.act(obs, explore=True)
        assert out.shape == full.shape and out.dtype == np.int64
        assert answered(out[0]).all() if decoded else not out.any()
        if decoded:
            np.testing.assert_array_equal(out, full)  # greedy = evaluation's beam 1
        assert np.array_equal(agent.act(obs, explore=False), full)


def test_training_split_scores_only_answered_rows_and_test_split_all() -> None:
    for split in ("train", "test"):
        env = TranslationEnv(split=split, n_train=64, n_test=64, batch_size=32, max_len=20)
        env.reset(seed=1)
        answers = []
        for k in range(2):
            rows = env._rows()
            action = env.targets[rows].copy()
            action[1::2] = 0  # odd rows: no answer
            if k == 1:
                action[4] = 0 if split == "train" else action[4]
                action[6, 0], action[6, 1:] = action[6, 1], 0  # a wrong answer, still an answer
            _, reward, done, _, info = env.step(action)
            keep = answered(action) if split == "train" else np.ones(32, dtype=bool)
            answers += [(" ".join(words_of(action[i], env.tgt_vocab)), env.references[rows[i]])
                        for i in np.flatnonzero(keep)]  # fmt: skip
            assert info["metrics"]["exact_match"] == pytest.approx(
                np.mean([h == r for h, r in answers[-int(keep.sum()) :]])
            )
        assert done
        hyps, refs = zip(*answers)
        assert reward == info["metrics"]["bleu"] == pytest.approx(corpus_bleu(list(hyps), list(refs)))
        assert len(answers) == (31 if split == "train" else 64)
        assert (reward > 90) if split == "train" else (reward < 60)  # empty answers count at test only


def test_captions_training_split_skips_unanswered_rows() -> None:
    env = ShapesCaptionsEnv(split="train", n_train=32, n_test=8, batch_size=16)
    env.reset(seed=0)
    action = env.targets[env._rows()].copy()
    action[8:] = 0
    info = env.step(action)[-1]
    assert info["metrics"]["exact_match"] == 1.0 and len(env._epoch) == 8
