"""The word2vec agent in the real runner: loss by hand, planted synonyms found, checkpoints, CLI and play."""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from rlkit.agents.word2vec import Word2VecAgent, Word2VecConfig, log_uniform_probs, sgns_loss
from rlkit.core.checkpoint import load_checkpoint
from rlkit.core.errors import IncompatibleError, UserError
from rlkit.envs.factory import make_env
from rlkit.envs.word2vec_report import neighbour_report, project_2d
from rlkit.frontend.app import build_runner
from rlkit.frontend.cli import main
from rlkit.frontend.compose import compose_config

from ..conftest import ctrl_c_at_update, read_metrics, train_in_process, trained_runner

FAST = ("ui=none", "num_threads=1", "checkpoint.every=0", "eval.every=0")
SMALL = ("agent=word2vec", "env=word2vec", "env.kwargs.num_words=40000", "agent.embedding_size=32")


def test_sgns_loss_by_hand() -> None:
    v, u_pos, u_neg = torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(4, 3)
    hits, mask = torch.zeros(2, 4, dtype=torch.bool), torch.tensor([1.0, 0.0])
    assert float(sgns_loss(v, u_pos, u_neg, hits, mask)) == pytest.approx(5 * math.log(2))  # sigmoid(0) = 1/2
    hits[0, :2] = True  # noise words equal to the target are left out
    assert float(sgns_loss(v, u_pos, u_neg, hits, mask)) == pytest.approx(3 * math.log(2))
    v[0, 0], u_pos[0, 0] = 3.0, 3.0  # a confident true pair costs almost nothing
    assert float(sgns_loss(v, u_pos, u_neg, hits, mask)) == pytest.approx(2 * math.log(2) + 1.2e-4, abs=1e-5)
    assert float(log_uniform_probs(50).sum()) == pytest.approx(1.0)


def test_config_defaults_match_the_preset() -> None:
    preset = compose_config(["agent=word2vec", "env=word2vec"]).agent
    assert Word2VecConfig().lr == preset.lr == 0.03  # the docstring's and the YAML's sparse Adam rate


def test_config_errors_name_the_key() -> None:
    with pytest.raises(UserError, match=r"agent\.negatives='nce'"):
        Word2VecConfig(negatives="nce").validate()
    with pytest.raises(UserError, match=r"agent\.embedding_size=0"):
        Word2VecConfig(embedding_size=0).validate()


def test_training_answers_come_from_the_most_frequent_words_evaluation_from_all(run_dir) -> None:
    cfg = compose_config([*FAST, *SMALL, "agent.train_candidates=10"])
    runner = build_runner(cfg, run_dir)
    try:
        obs = runner.envs.reset(seed=0)
        context = obs[..., 1] == 0
        assert context.any()
        train_answers = runner.agent.act(obs)[context]
        assert train_answers.max() < 10  # ids are sorted by frequency: the 10 most frequent words
        greedy = runner.agent.act(obs, explore=False)[context]
        assert greedy.max() >= 10  # evaluation ranks the whole vocabulary (here 40+ words)
    finally:
        runner.close()
    with pytest.raises(UserError, match=r"agent\.train_candidates=0"):
        Word2VecConfig(train_candidates=0).validate()


def test_planted_synonyms_become_nearest_neighbours(run_dir) -> None:
    runner = trained_runner(run_dir, *FAST, *SMALL, "total_steps=1200")
    metrics = runner.final_eval.metrics
    # chance: 1/43 at rank 1 and 8/43 within 8; context words: top 8 of the grammar's neighbours
    assert metrics["synonym_recall_at_1"] >= 0.7 and metrics["synonym_recall"] >= 0.9
    assert metrics["top_k_accuracy"] > 0.6
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert any("train/loss" in r for r in rows) and any("eval/synonym_recall" in r for r in rows)
    env = make_env(compose_config([*FAST, *SMALL]).env, evaluation=True)
    report = neighbour_report(runner.agent, env, words=["dog", "car"], k=3)
    assert report.startswith("Nearest to dog: hound, ") and "Nearest to car: automobile, " in report
    found, sims = runner.agent.nearest([env.unwrapped.vocab.index["dog"]], k=3)
    assert found.shape == (1, 3) and np.all(np.diff(sims[0]) <= 0) and sims[0, 0] <= 1.0


def test_untrained_embeddings_do_not_find_the_synonyms(run_dir) -> None:
    runner = trained_runner(run_dir, *FAST, *SMALL, "total_steps=1")
    assert runner.final_eval.metrics["synonym_recall_at_1"] < 0.3


def test_checkpoint_restores_the_embeddings(run_dir) -> None:
    overrides = [*FAST, *SMALL, "total_steps=30"]
    runner = trained_runner(run_dir, *overrides)
    state = runner.agent.state_dict()
    fresh = build_runner(compose_config(["ui=none", *overrides, "seed=3"]), run_dir.parent / "other")
    fresh.agent.load_state_dict(state)
    np.testing.assert_array_equal(fresh.agent.embeddings(), runner.agent.embeddings())
    torch.testing.assert_close(fresh.agent.model.counts, runner.agent.model.counts)
    assert fresh.agent.updates == 30
    fresh.close()
    wide = build_runner(compose_config([*overrides, "agent.embedding_size=16"]), run_dir.parent / "wide")
    with pytest.raises(UserError, match="does not fit"):
        wide.agent.load_state_dict(state)
    wide.close()


def test_resumed_mid_epoch_keeps_no_answers_and_writes_the_same_metrics(tmp_path, monkeypatch) -> None:
    args = [*SMALL, "total_steps=24", "log_every=4", "eval.every=12", "ui=none", "num_threads=1", "seed=1"]
    train_in_process(tmp_path / "ref", *args)
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, Word2VecAgent, 10):
        assert main(["train", *args, "checkpoint.every=0", f"hydra.run.dir={run}"]) == 130
    state = load_checkpoint(run / "checkpoints" / "latest.pt")
    assert state["envs"]["actions"] == [[None] * 10]  # the env says its batches ignore the answers
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")


def test_refuses_a_non_word2vec_env(run_dir) -> None:
    with pytest.raises(IncompatibleError, match="env=word2vec"):
        build_runner(compose_config(["ui=none", "agent=word2vec", "env=char_text"]), run_dir)


def test_cli_trains_on_a_text8_zip_and_play_writes_the_report_and_map(tmp_path, capsys) -> None:
    corpus = tmp_path / "text8.zip"
    with zipfile.ZipFile(corpus, "w") as archive:
        archive.writestr("text8", "alpha beta gamma delta epsilon zeta " * 300)
    run = tmp_path / "run"
    args = [*FAST, "agent=word2vec", "env=word2vec", f"env.kwargs.path={corpus}", "env.kwargs.k=2"]
    assert main(["train", f"hydra.run.dir={run}", *args, "agent.embedding_size=16", "total_steps=300"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 300 and summary["final_eval"]["top_k_accuracy"] > 0.95  # both neighbours known
    capsys.readouterr()
    assert main(["play", f"run={run}", "speed=0", "ui=plain"]) == 0
    out = capsys.readouterr().out
    assert "Nearest to alpha: " in out and "latest_map.png" in out
    report = (run / "videos" / "latest_neighbours.txt").read_text()
    assert report.count("Nearest to ") == 6
    with Image.open(run / "videos" / "latest_map.png") as picture:
        assert picture.format == "PNG" and picture.width > 300


def test_tsne_map_projection() -> None:
    points = np.random.default_rng(0).normal(size=(12, 5))
    assert project_2d(points, "tsne").shape == (12, 2)
    xy = project_2d(points, "pca")
    assert xy.shape == (12, 2) and np.var(xy[:, 0]) >= np.var(xy[:, 1])
