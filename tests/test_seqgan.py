"""Issue 14 (SeqGAN part): the oracle task env, SeqGAN's networks and roll-out reward, and agent=seqgan on
env=seqgan_oracle through `rlkit train` (adversarial and the MLE baseline), resume and `rlkit play`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rlkit.agents.seqgan import SeqGanAgent
from rlkit.agents.seqgan_nets import Discriminator, Generator, Highway, filter_bank, rollout_rewards
from rlkit.core.checkpoint import load_checkpoint
from rlkit.envs.seqgan_oracle import OracleLSTM, SeqGanOracleEnv
from rlkit.frontend.cli import main
from tests.conftest import ctrl_c_at_update, read_metrics

TASK = [
    "env=seqgan_oracle",
    "env.kwargs.preset=small",
    "env.kwargs.num_sequences=128",
    "env.kwargs.batch_size=32",
]
AGENT = [
    "agent=seqgan",
    "agent.pretrain_epochs=1",
    "agent.d_pretrain_epochs=1",
    "agent.filter_scale=0.05",
    "agent.rollouts=2",
    "agent.d_steps=1",
    "agent.k=2",
]
SMALL = [*TASK, *AGENT, "ui=none", "num_threads=1", "total_episodes=4", "log_every=2"]  # 4 steps per epoch


# ----- the oracle ---------------------------------------------------------------------------------------
def test_the_oracle_is_fixed_by_its_seed() -> None:
    a, b, c = (OracleLSTM(20, 4, 5, seed) for seed in (3, 3, 4))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.head.weight, c.head.weight)
    w = torch.cat([p.flatten() for n, p in a.named_parameters() if n != "lstm.bias_hh_l0"])
    assert abs(float(w.mean())) < 0.15 and 0.85 < float(w.std()) < 1.15  # N(0, 1)
    env1, env2 = SeqGanOracleEnv("small", oracle_seed=5), SeqGanOracleEnv("small", oracle_seed=5)
    assert np.array_equal(env1.sequences, env2.sequences) and env1.sequences.shape == (512, 10)


def test_oracle_nll_matches_a_step_by_step_computation() -> None:
    oracle = OracleLSTM(7, 3, 4, seed=1)
    seqs = np.array([[1, 6, 0, 2], [5, 5, 3, 1]])
    cell = torch.nn.LSTMCell(3, 4).requires_grad_(False)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in oracle.lstm.state_dict().items()})
    for i, seq in enumerate(seqs):
        h = c = torch.zeros(1, 4)
        total, x = 0.0, 0
        for y in seq:  # the start token 0, then each token feeds the next step
            h, c = cell(oracle.embed(torch.tensor([x])), (h, c))
            total -= float(torch.log_softmax(oracle.head(h), -1)[0, y])
            x = int(y)
        assert oracle.nll(seqs)[i] == pytest.approx(total / 4, rel=1e-5)


def test_the_oracle_likes_its_own_sequences_better_than_random_ones() -> None:
    env = SeqGanOracleEnv("small")
    own = float(env.oracle.nll(env.sequences).mean())
    assert own < env.random_nll(512) - 0.5
    obs, _ = env.reset(seed=0)
    for _ in range(env.batches_per_epoch):  # the real sequences as the "generated" ones
        obs, reward, done, _, info = env.step(obs)
    assert done and reward == pytest.approx(-info["metrics"]["nll_oracle"])
    assert info["metrics"]["nll_oracle"] == pytest.approx(own, rel=1e-6)  # one epoch: every sequence once
    assert info["metrics"]["nll_oracle_seq"] == pytest.approx(10 * own, rel=1e-6)


def test_bad_oracle_settings_fail_in_one_line(capsys) -> None:
    assert main(["train", "agent=seqgan", "env=seqgan_oracle", "env.kwargs.preset=huge", "ui=none"]) == 2
    err = capsys.readouterr().err
    assert "env.kwargs.preset='huge' is invalid: valid values are paper, small" in err
    assert main(["train", "agent=seqgan", "env=gaussian_ring", "ui=none"]) == 2
    assert "needs a sequence GAN task env" in capsys.readouterr().err


# ----- networks and the reward ----------------------------------------------------------------------------
def test_highway_and_discriminator_shapes() -> None:
    torch.manual_seed(0)
    hw, x = Highway(6), torch.randn(5, 6)
    assert hw(x).shape == (5, 6)
    torch.nn.init.constant_(hw.gate.bias, -50.0)  # a closed transform gate carries the input through
    assert torch.allclose(hw(x), x, atol=1e-6)
    assert filter_bank(10, 0.05) == [
        (1, 5),
        (2, 10),
        (3, 10),
        (4, 10),
        (5, 10),
        (6, 5),
        (7, 5),
        (8, 5),
        (9, 5),
        (10, 5),
    ]
    assert sum(c for _, c in filter_bank(20, 1.0)) == 1720  # the paper's 12 sizes, 1..10, 15, 20
    disc = Discriminator(30, 10, 8, filter_bank(10, 0.05), dropout=0.25)
    seqs = torch.randint(30, (7, 10))
    assert disc.features(seqs).shape == (7, 70) and disc(seqs).shape == (7,)


def test_rollout_rewards_have_one_value_per_token() -> None:
    torch.manual_seed(0)
    gen, disc = Generator(12, 4, 5), Discriminator(12, 6, 4, filter_bank(6, 0.02), dropout=0.5)
    seqs = gen.sample(9, 6, torch.Generator().manual_seed(0))
    assert seqs.shape == (9, 6) and seqs.dtype == torch.long and int(seqs.max()) < 12
    prefix = seqs[:, :3]
    assert torch.equal(gen.complete(prefix, 6, torch.Generator().manual_seed(1))[:, :3], prefix)
    rewards = rollout_rewards(gen, disc, seqs, num_rollouts=4, rng=torch.Generator().manual_seed(2))
    assert rewards.shape == (9, 6) and bool(((rewards >= 0) & (rewards <= 1)).all())
    disc.eval()
    assert torch.allclose(rewards[:, -1], torch.sigmoid(disc(seqs)))  # t = T: D of the sequence itself
    assert disc.training is False  # left as it was given
    torch.nn.init.zeros_(disc.out.weight)
    torch.nn.init.constant_(disc.out.bias, 0.7)  # a D that says sigmoid(0.7) to everything
    flat = rollout_rewards(gen, disc, seqs, num_rollouts=4, rng=torch.Generator().manual_seed(2))
    assert torch.allclose(flat, torch.full((9, 6), float(torch.sigmoid(torch.tensor(0.7)))))


# ----- through rlkit train, resume and play ---------------------------------------------------------------
@pytest.mark.parametrize("adversarial", [True, False])
def test_seqgan_trains_through_the_cli(tmp_path: Path, adversarial: bool) -> None:
    run = tmp_path / "run"
    args = [*SMALL, f"agent.adversarial={str(adversarial).lower()}", "eval.every=4", f"hydra.run.dir={run}"]
    assert main(["train", *args]) == 0
    rows = read_metrics(run)
    train = [r for r in rows if any(k.startswith("train/") and "loss" in k for k in r)]
    keys = set().union(*train)
    assert "train/mle_loss" in keys
    assert ({"train/pg_loss", "train/reward_mean", "train/d_loss", "train/d_real"} <= keys) is adversarial
    evals = [r for r in rows if "eval/nll_oracle" in r]
    assert [r["step"] for r in evals] == [4, 8, 12, 16]
    assert all(2.0 < r["eval/nll_oracle"] < 6.0 for r in evals)  # ln 64 = 4.16 is a uniform guess
    summary = json.loads((run / "summary.json").read_text())
    assert summary["headline"]["key"] == "nll_oracle" and summary["headline"]["higher_is_better"] is False
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_12.png",
        "step_16.png",
        "step_4.png",
        "step_8.png",
    ]
    state = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]
    assert state["epochs"] == 4 and state["adv_steps"] == (8 if adversarial else 0)


def test_the_mle_baseline_starts_from_the_same_pre_trained_generator(tmp_path: Path) -> None:
    firsts = []
    for adversarial in ("true", "false"):
        run = tmp_path / adversarial
        args = [*SMALL, f"agent.adversarial={adversarial}", "eval.every=4", f"hydra.run.dir={run}"]
        assert main(["train", *args]) == 0
        firsts.append(next(r for r in read_metrics(run) if "eval/nll_oracle" in r))
    assert firsts[0] == firsts[1]  # after the MLE epoch: same samples, same NLL_oracle


def test_seqgan_resume_after_ctrl_c_matches_an_uninterrupted_run(tmp_path: Path, monkeypatch) -> None:
    args = [*SMALL, "eval.every=8", "checkpoint.every=0"]
    assert main(["train", *args, f"hydra.run.dir={tmp_path / 'ref'}"]) == 0
    run = tmp_path / "run"
    with ctrl_c_at_update(monkeypatch, SeqGanAgent, 11):  # adversarial, mid-epoch and mid-round
        assert main(["train", *args, f"hydra.run.dir={run}"]) == 130
    assert load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]["adv_steps"] == 3
    assert main(["train", f"resume={run}"]) == 0
    assert read_metrics(run) == read_metrics(tmp_path / "ref")
    ref = load_checkpoint(tmp_path / "ref" / "checkpoints" / "latest.pt")["agent"]
    resumed = load_checkpoint(run / "checkpoints" / "latest.pt")["agent"]
    for net in ("generator", "rollout", "disc"):
        assert all(torch.equal(ref[net][k], resumed[net][k]) for k in ref[net])


def test_play_writes_generated_sequences(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert main(["train", *SMALL, "total_episodes=1", f"hydra.run.dir={run}"]) == 0
    out = tmp_path / "out"
    assert main(["play", f"run={run}", f"out={out}", "render=gif"]) == 0
    assert f"Wrote {out / 'latest_sequences.txt'}" in capsys.readouterr().out
    lines = (out / "latest_sequences.txt").read_text().splitlines()
    assert lines[0].startswith("# 64 generated sequences") and len(lines) == 65
    nll, tokens = lines[1].split("\t")
    assert 0 < float(nll) < 10 and len(tokens.split()) == 10 and all(0 <= int(t) < 64 for t in tokens.split())
