"""Atari via ale-py: CLI names, wrapper chain, raw scores, life loss, both vector envs, a DQN smoke run."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from rlkit.core.errors import UserError
from rlkit.envs import ATARI_ID
from rlkit.envs.atari import ale_games, clip_reward, make_atari
from rlkit.envs.atari_vector import AtariNativeVectorEnv, AtariSerialVectorEnv
from rlkit.envs.factory import make_env, make_vector_env
from rlkit.frontend.compose import compose_config
from tests.conftest import train_in_process


def test_game_names_compose_to_the_atari_preset():
    cfg = compose_config(["agent=dqn", "env=Pong"])
    assert (cfg.env.id, cfg.env.kwargs.game, cfg.env.name) == (ATARI_ID, "Pong", "Pong")
    assert cfg.env.eval_kwargs.clip_rewards is False
    assert {"Breakout", "SpaceInvaders", "Seaquest", "Pong"} <= set(ale_games())


def test_a_misspelt_game_suggests_the_name():
    with pytest.raises(UserError, match="Did you mean 'Breakout'"):
        compose_config(["env=Breakot"])


def test_clip_reward_is_the_sign():
    assert [clip_reward(r) for r in (-7.0, 0.0, 0.5, 30.0)] == [-1.0, 0.0, 1.0, 1.0]


def test_wrapper_chain_observations_and_fire_reset():
    env = make_atari("Breakout", noop_max=0)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    assert env.action_space.n == 4
    assert not obs[:-1].any() and obs[-1].any()  # a reset zeroes all but the first frame
    env.close()


def test_serial_and_native_envs_start_games_with_the_same_padding():
    """Training on the native env and evaluating on the wrapper chain must see the same first stacks."""
    serial = make_atari("Breakout", noop_max=0)
    native = AtariNativeVectorEnv(1, game="Breakout", noop_max=0)
    first_serial, _ = serial.reset(seed=0)
    first_native = native.reset(seed=0)[0]
    assert np.array_equal(first_serial[:-1], first_native[:-1])  # the padding before the first frame
    serial.close(), native.close()


def test_life_loss_is_terminal_but_the_game_goes_on():
    env = make_atari("Breakout", terminal_on_life_loss=True)
    env.reset(seed=0)
    ale = env.unwrapped.ale
    for _ in range(2_000):
        _, _, terminated, truncated, info = env.step(0)  # never fire again: the ball is lost quickly
        if terminated:
            break
    assert terminated and "game" not in info  # a life, not the game
    lives = ale.lives()
    env.reset()
    assert ale.lives() == lives >= 1  # no new game: the reset only pressed on
    env.close()


def test_evaluation_env_reports_raw_scores():
    cfg = compose_config(["env=SpaceInvaders", "env.kwargs.max_episode_frames=1200"])
    train_env, eval_env = make_env(cfg.env), make_env(cfg.env, evaluation=True)
    rewards = {}
    for name, env in (("train", train_env), ("eval", eval_env)):
        env.reset(seed=0)
        env.action_space.seed(0)
        rs, done = [], False
        while not done:
            _, r, term, trunc, _ = env.step(1)  # keep firing
            rs.append(r)
            done = term or trunc
        rewards[name] = rs
    assert set(rewards["train"]) <= {0.0, 1.0}
    assert max(rewards["eval"]) > 1.0  # space invaders pay 5-30 points per alien


@pytest.mark.parametrize("backend", ["serial", "native"])
def test_vector_envs_report_whole_games_with_raw_scores(backend):
    cfg = compose_config(
        ["env=SpaceInvaders", "env.kwargs.max_episode_frames=800", f"env.kwargs.vector={backend}"]
    )
    envs = make_vector_env(cfg.env, 2)
    assert isinstance(envs, AtariNativeVectorEnv if backend == "native" else AtariSerialVectorEnv)
    assert envs.single_observation_space.shape == (4, 84, 84)
    obs = envs.reset(seed=0)
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    clipped, finished, ended = np.zeros(2), [], None
    for _ in range(400):
        out = envs.step(np.ones(2, dtype=np.int64))
        clipped += out.reward
        assert set(out.reward.tolist()) <= {0.0, 1.0}
        if out.finished:
            finished, ended = out.finished, out
            break
    assert finished, "800 frames = 200 steps: the cap must end the games"
    i, score, length = finished[0]
    assert score > clipped[i] and 190 <= length <= 200  # no-op starts take up to 30 frames
    assert ended.truncated[i] and not (ended.obs[i] == ended.next_obs[i]).all()  # same-step autoreset
    envs.close()


def test_evaluation_presses_fire_after_a_lost_life_so_a_greedy_policy_cannot_stall():
    """A policy that never presses FIRE: in the evaluation env the ball is relaunched after each lost life and
    the game ends; without that (training envs), the game waits after the first lost life."""
    cfg = compose_config(["env=Breakout", "env.kwargs.noop_max=0"])
    for evaluation, game_ends in ((True, True), (False, False)):
        env = make_env(cfg.env, evaluation=evaluation)
        env.reset(seed=0)
        lives, done, steps = [], False, 0
        while not done and steps < 1500:
            _, _, term, trunc, _ = env.step(0)  # NOOP forever
            done, steps = term or trunc, steps + 1
            lives.append(env.unwrapped.ale.lives())
        env.close()
        assert done is game_ends and min(lives) == (0 if game_ends else 4)


def test_fire_after_life_loss_needs_the_serial_chain():
    cfg = compose_config(["env=Breakout", "env.kwargs.fire_after_life_loss=true"])
    with pytest.raises(UserError, match="fire_after_life_loss=true needs env.kwargs.vector=serial"):
        make_vector_env(cfg.env, 1)


def test_bad_vector_backend_is_refused():
    cfg = compose_config(["env=Breakout", "env.kwargs.vector=threads"])
    with pytest.raises(UserError, match="native, serial"):
        make_vector_env(cfg.env, 1)


@pytest.mark.parametrize("backend", ["serial", "native"])
def test_dqn_smoke_run_on_breakout(run_dir, backend):
    summary = train_in_process(
        run_dir, "agent=dqn", "env=Breakout", "total_steps=160", "num_envs=2", f"env.kwargs.vector={backend}",
        "agent.network=nips", "agent.learning_starts=120", "agent.buffer_size=200", "num_threads=1",
        "agent.target_update_every=40", "eval.every=0", "eval.episodes=1",
        "env.kwargs.max_episode_frames=400",
    )  # fmt: skip
    assert summary["steps"] == 160 and summary["env"] == "Breakout"
    assert 90 <= summary["final_eval"]["length_mean"] <= 100  # 400 frames / frame skip 4, less no-ops
    assert gym.spec(ATARI_ID) is not None
