"""Composition root: turns a composed config into env, agent, loggers and runner, trains, writes summary.json.

This module and cli.py are the only places in rlkit's core that know concrete agent and env classes.
"""

from __future__ import annotations

import contextlib
import json
import platform
import time
from dataclasses import fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlkit.core.checkpoint import Checkpointer
from rlkit.core.config import RunConfig
from rlkit.core.diskio import write_text, writing
from rlkit.core.errors import UserError, check_ranges
from rlkit.core.evaluation import EVAL_SEED_OFFSET
from rlkit.core.headline import headline_of
from rlkit.core.loggers import JsonlLogger, MultiLogger, TensorBoardLogger
from rlkit.core.runner import Runner
from rlkit.core.types import Agent, AgentContext
from rlkit.envs.factory import make_env, make_vector_env
from rlkit.frontend.rundir import check_new_run_dir
from rlkit.frontend.samples import SampleGridLogger, draws_samples
from rlkit.frontend.schemas import agent_config
from rlkit.frontend.ui import make_ui
from rlkit.frontend.video import check_video_env, record_training_video


def resolve_budget(cfg: DictConfig) -> tuple[int | None, int | None]:
    """(total_steps, total_episodes): the run's own, else the env's defaults."""
    steps, episodes = cfg.total_steps, cfg.total_episodes
    if steps is None and episodes is None:
        steps, episodes = cfg.env.default_total_steps, cfg.env.default_total_episodes
    if steps is None and episodes is None:
        raise UserError("no training length: set total_steps=N or total_episodes=N")
    for key, value in (("total_steps", steps), ("total_episodes", episodes)):
        if value is not None and value < 1:
            raise UserError(f"{key}={value} is invalid: it must be >= 1")
    return steps, episodes


def validate(cfg: DictConfig) -> None:
    """Range checks of the run-level keys (types were checked at compose time)."""
    checks = [
        ("seed", cfg.seed >= 0, ">= 0"),
        ("num_envs", cfg.num_envs >= 1, ">= 1"),
        ("log_every", cfg.log_every >= 0, ">= 0 (0: only at the end)"),
        ("eval.every", cfg.eval.every >= 0, ">= 0 (0: only the final evaluation)"),
        ("eval.episodes", cfg.eval.episodes >= 1, ">= 1"),
        ("eval.max_episode_steps", cfg.eval.max_episode_steps >= 1, ">= 1"),
        ("env.eval_episodes", cfg.env.eval_episodes is None or cfg.env.eval_episodes >= 1, ">= 1 or null"),
        ("checkpoint.every", cfg.checkpoint.every >= 0, ">= 0 (0: only the final checkpoint)"),
        ("checkpoint.keep", cfg.checkpoint.keep >= 1, ">= 1"),
        ("video.every", cfg.video.every >= 0, ">= 0 (0: never)"),
        ("video.fps", cfg.video.fps >= 1, ">= 1"),
        ("video.scale", cfg.video.scale >= 1, ">= 1"),
        ("stop.window", cfg.stop.window >= 1, ">= 1"),
        ("num_threads", cfg.num_threads is None or cfg.num_threads >= 1, ">= 1 or null"),
    ]
    check_ranges("", checks, lambda key: str(OmegaConf.select(cfg, key)))
    check_device(cfg.device)


def resolve_device(device: str) -> str:
    """device=auto: CUDA when present, else the CPU; any other value as given (check_device checked it)."""
    if device != "auto":
        return device
    import torch  # heavy: loaded when a run is built, not by `rlkit --help` or a config error

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(device: str) -> None:
    """device= names a torch device type this machine has (auto always passes)."""
    if device == "auto":
        return
    import torch  # heavy: loaded when a run is built, not by `rlkit --help` or a config error

    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError):
        raise UserError(f"device={device} is invalid: valid values are auto, cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device={device}: CUDA is not available here; valid values: auto, cpu")


def set_num_threads(cfg: DictConfig) -> None:
    """num_threads= sets the CPU thread count, once per run, for the whole process (null: the libraries'
    defaults, one thread per core): torch's, and through threadpoolctl the BLAS and OpenMP pools loaded by
    then (numpy's OpenBLAS, and SciPy's and scikit-learn's once the env has used them: it is built first).
    OpenBLAS's idle workers spin for a while after each threaded call, so with two threads on a 2-core
    machine the GAN tasks' Frechet scoring (64x64 matrices) kept a second core busy (issue 14)."""
    if cfg.get("num_threads") is not None:
        import torch  # heavy: loaded when a run is built, not by `rlkit --help` or a config error
        from threadpoolctl import threadpool_limits

        threadpool_limits(cfg.num_threads)
        torch.set_num_threads(cfg.num_threads)


def build_agent(cfg: DictConfig, observation_space: Any, action_space: Any) -> Agent:
    """The agent class that cfg.agent's `_target_` names, built from its typed Config and the env's spaces
    (for train, play and eval alike: the run's num_threads= is set here)."""
    set_num_threads(cfg)
    ctx = AgentContext(
        observation_space=observation_space,
        action_space=action_space,
        num_envs=cfg.num_envs,
        seed=cfg.seed,
        device=resolve_device(cfg.device),
        agent_name=cfg.agent.name,
        env_name=cfg.env.name,
        env_id=cfg.env.id,
        total_steps=resolve_budget(cfg)[0],
    )
    agent_cls, agent_cfg = agent_config(cfg.agent)
    return agent_cls(agent_cfg, ctx)


def build_runner(cfg: DictConfig, run_dir: Path) -> Runner:
    """Everything a training run needs, wired together."""
    validate(cfg)
    total_steps, total_episodes = resolve_budget(cfg)
    if not cfg.resume:
        check_new_run_dir(run_dir)

    def make_video_env(render_mode: str | None = None):
        return make_env(cfg.env, render_mode=render_mode, evaluation=True)

    if cfg.video.every > 0:
        check_video_env(make_video_env)  # a text-only env fails now, not after hours of training
    envs = make_vector_env(cfg.env, cfg.num_envs)
    agent = build_agent(cfg, envs.single_observation_space, envs.single_action_space)
    run_dir.mkdir(parents=True, exist_ok=True)
    resume_state = None
    if cfg.resume:
        resume_state, _ = Checkpointer(run_dir / "checkpoints").load_latest()
        if resume_state["runner"].get("completed"):
            raise UserError(
                f"the run in {run_dir} is already complete ({resume_state['runner']['step']:,} steps); "
                "nothing to resume"
            )
        truncate_jsonl(run_dir / "metrics.jsonl", after_step=resume_state["runner"]["step"])
    tensorboard = TensorBoardLogger(run_dir)
    if resume_state is not None:  # TensorBoard drops the old file's events logged after the checkpoint
        tensorboard.purge_from(resume_state["runner"]["step"] + 1)
    logger = MultiLogger([tensorboard, JsonlLogger(run_dir / "metrics.jsonl")])
    if draws_samples(envs):  # GAN tasks: samples/step_<N>.png at each evaluation
        logger.loggers.append(SampleGridLogger(agent, make_video_env, run_dir, tensorboard))
    run_cfg = run_config(cfg, total_steps, total_episodes)

    def record_video(agent: Agent, step: int) -> None:
        v = run_cfg.video
        record_training_video(
            agent, make_video_env, run_dir, step, logger, v.fps, v.scale, cfg.seed + EVAL_SEED_OFFSET
        )

    runner = Runner(
        agent,
        envs,
        lambda: make_env(cfg.env, evaluation=True),
        run_cfg,
        logger,
        run_dir,
        ui=make_ui(cfg.ui.value if hasattr(cfg.ui, "value") else str(cfg.ui)),
        title=f"{cfg.agent.name} on {cfg.env.name}",
        record_video=record_video if cfg.video.every > 0 else None,
        headline=headline_of(envs),
    )
    if resume_state is not None:
        runner.load_state_dict(resume_state)
    return runner


def run_config(cfg: DictConfig, total_steps: int | None, total_episodes: int | None) -> RunConfig:
    """The runner's typed config: the run's own sections, with the budget and evaluation size resolved."""
    keys = {f.name for f in fields(RunConfig)}
    run = RunConfig(
        **{k: OmegaConf.to_object(v) if OmegaConf.is_config(v) else v for k, v in cfg.items() if k in keys}
    )
    run.total_steps, run.total_episodes = total_steps, total_episodes
    run.eval.episodes = cfg.env.eval_episodes or cfg.eval.episodes
    return run


def truncate_jsonl(path: Path, after_step: int) -> None:
    """Drops metric lines logged after `after_step` (and a half-written last line), atomically."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # cut short by a crash
        if row.get("step", 0) <= after_step:
            kept.append(line + "\n")
    tmp = path.with_suffix(".jsonl.tmp")
    with writing(tmp):
        tmp.write_text("".join(kept), encoding="utf-8")
        tmp.replace(path)


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that shape a run's numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("rlkit", "numpy", "gymnasium", "torch", "hydra-core"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def train(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Trains as configured, writes <run_dir>/summary.json and returns it."""
    t0 = time.perf_counter()
    runner = build_runner(cfg, run_dir)
    start_step = runner.counters.step  # > 0 when resumed
    try:
        counters = runner.train()
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report (e.g. a full disk)
            runner.close()
        raise
    runner.close()
    final_eval, headline = runner.final_eval.summary(), runner.headline
    summary = {
        "headline": headline.record(final_eval),  # the task's own number first (rlkit.core.headline)
        "agent": cfg.agent.name,
        "env": cfg.env.name,
        "env_id": cfg.env.id,
        "seed": cfg.seed,
        "steps": counters.step,
        "session_steps": counters.step - start_step,  # this process's steps (a resumed run's are fewer)
        "episodes": counters.episodes,
        "stopped_early": runner.stopped_early,
        "resumed": bool(cfg.resume),
        "wall_time_s": round(time.perf_counter() - t0, 3),
        "final_eval": final_eval,
        "best_eval": headline.record({headline.key: headline.unscore(counters.best_eval)}),  # best.pt's
        "run_dir": str(run_dir),
        "versions": package_versions(),
    }
    advice = "the run itself is complete (checkpoints, metrics.jsonl)"
    write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n", advice)
    return summary
