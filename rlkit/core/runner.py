"""The one Runner: drives any agent on any vector env, and owns episodes, evaluation, logging and checkpoints.

The agent decides when it learns (it owns its memory); the runner decides everything about time: budgets,
episode bookkeeping (termination vs truncation is settled in the vector env, once), evaluation every
`eval.every` env steps, periodic metrics, checkpoints and the progress display.
"""

from __future__ import annotations

import shlex
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlkit.core.batch_eval import EvalEnvs
from rlkit.core.checkpoint import Checkpointer
from rlkit.core.commands import command
from rlkit.core.config import RunConfig
from rlkit.core.divergence import check_finite
from rlkit.core.evaluation import EVAL_SEED_OFFSET, EvalResult, warn_all_truncated
from rlkit.core.headline import RETURN, Headline, RecentMetric
from rlkit.core.interrupts import catch_sigint
from rlkit.core.loggers import MultiLogger
from rlkit.core.progress import NullUI, Snapshot
from rlkit.core.timeline import Timeline, next_multiple
from rlkit.core.types import Agent, Transition
from rlkit.core.vector import SerialVectorEnv

UI_PERIOD_S = 0.1
NEW = tuple.__new__  # NEW(Transition, fields): a NamedTuple without its Python-level __new__ (0.3 us)


@dataclass
class Counters:
    """The runner's progress, saved in every checkpoint."""

    step: int = 0
    episodes: int = 0
    best_eval: float = -float("inf")  # the best evaluation's headline score (Headline.score)
    last_eval: dict[str, float] = field(default_factory=dict)


class Runner:
    """Trains `agent` on `envs`, evaluating greedily on a separate env made by `make_eval_env`."""

    def __init__(
        self,
        agent: Agent,
        envs: SerialVectorEnv,
        make_eval_env: Callable[[], gym.Env],
        config: RunConfig,
        logger: MultiLogger,
        run_dir: Path,
        ui: NullUI | None = None,
        title: str = "train",
        record_video: Callable[[Agent, int], Any] | None = None,
        headline: Headline = RETURN,
    ):
        self.agent, self.envs, self.config, self.logger = agent, envs, config, logger
        self.run_dir, self.seed, self.title = Path(run_dir), config.seed, title
        self.ui = ui or NullUI()
        self.counters = Counters()
        self.recent_returns: deque[float] = deque(maxlen=max(config.stop.window, 100))
        self._eval_envs = EvalEnvs(make_eval_env)  # made at the first evaluation
        self._record_video = record_video
        self._last_metrics: dict[str, float] = {}
        self.stopped_early = False
        self.checkpointer = Checkpointer(self.run_dir / "checkpoints", keep=config.checkpoint.keep)
        self._resume_obs: np.ndarray | None = None
        self._interrupted = False
        self.completed = False  # set once the final evaluation and checkpoint are done
        self.headline = headline  # the number the display leads with (the env's, rlkit.core.headline)
        self._track_metric = headline != RETURN  # a task metric from info["metrics"], not returns
        self._recent_metric = RecentMetric(headline.key)
        self._last_result: tuple[int, EvalResult] | None = None  # (step, result) of the latest evaluation
        self._logged_step = -1  # the step of the latest periodic log line
        self._evaluating: tuple[int, int] | None = None  # (episode, episodes) while an evaluation runs
        self._next_eval_ui = 0.0
        self._t0, self._step0 = time.perf_counter(), 0  # reset when train() starts

    # ----- the loop -----------------------------------------------------------------------------------------
    def train(self) -> Counters:
        """Runs until the budget (or the stop condition) is reached, then evaluates and checkpoints."""
        s, c, n = self.config, self.counters, self.envs.num_envs
        obs = self._resume_obs if self._resume_obs is not None else self.envs.reset(seed=self.seed)
        self._t0 = self._t_log = time.perf_counter()
        self._step_log = self._step0 = c.step
        every = s.video.every if self._record_video else 0
        due = Timeline.starting_at(c.step, s.log_every, s.eval.every, every, s.checkpoint.every)
        next_ui = 0.0
        inf = float("inf")  # the budgets, read once (they do not change while training)
        max_steps = inf if s.total_steps is None else s.total_steps
        max_episodes = inf if s.total_episodes is None else s.total_episodes
        agent, envs, track, clock = self.agent, self.envs, self._track_metric, time.perf_counter
        self.ui.start(self.title)
        restore_sigint = catch_sigint(self._on_ctrl_c)
        try:
            while c.step < max_steps and c.episodes < max_episodes and not self.stopped_early:
                action = agent.act(obs)
                new_obs, next_obs, reward, terminated, truncated, info, finished = envs.step(action)
                agent.observe(NEW(Transition, (obs, action, reward, next_obs, terminated, truncated, info)))
                metrics = agent.update()
                if metrics:
                    self._last_metrics = metrics
                c.step += n
                if track:
                    self._recent_metric.add(info)
                for _, ep_return, ep_length in finished:
                    self._end_episode(ep_return, ep_length)
                obs = new_obs
                if c.step >= due.first:
                    self._periodic(due)
                now = clock()
                if now >= next_ui:
                    self.ui.update(self.snapshot())
                    next_ui = now + UI_PERIOD_S
                if self._interrupted:  # Ctrl-C: stop between two steps, where the state is consistent
                    self.logger.flush()
                    self.save()
                    resume = f"{command('rlkit')} train resume={shlex.quote(str(self.run_dir))}"
                    raise KeyboardInterrupt(
                        f"a checkpoint was saved at step {c.step:,}; continue with: {resume}"
                    )
        except BaseException:
            self.ui.stop(self.snapshot())
            raise
        finally:
            restore_sigint()
        if self._logged_step != c.step:  # the loop's last step may have logged and evaluated already
            self._log_periodic()
        if self._last_result is not None and self._last_result[0] == c.step:
            self.final_eval = self._last_result[1]
        else:
            self.save(background=True)  # kept before the final evaluation: a Ctrl-C there loses nothing
            try:
                self.final_eval = self._evaluate()
            except KeyboardInterrupt:
                self.ui.stop(self.snapshot())
                raise KeyboardInterrupt(
                    f"training was saved at step {c.step:,}; the final evaluation was interrupted; finish it "
                    f"with: {command('rlkit')} train resume={shlex.quote(str(self.run_dir))}"
                ) from None
        self.completed = True
        self.save()
        self.ui.stop(self.snapshot())
        return c

    def _on_ctrl_c(self) -> None:
        """First Ctrl-C: finish the step, checkpoint, stop (the loop checks); a second one stops at once."""
        if self._interrupted:
            raise KeyboardInterrupt
        self._interrupted = True

    def _check_finite(self, metrics: dict[str, Any], step: int, state: dict[str, Any] | None = None) -> None:
        """Stops training on a NaN/inf loss or, given a state, parameter (rlkit.core.divergence)."""
        check_finite(metrics, step, self.checkpointer.dir, state)

    def _periodic(self, due: Timeline) -> None:
        """The events due at this step, in this order: periodic log, evaluation, video, checkpoint."""
        s, step = self.config, self.counters.step
        if step >= due.log:
            self._log_periodic()
            due.log = next_multiple(step, s.log_every)
        if step >= due.eval:
            self._evaluate()
            due.eval = next_multiple(step, s.eval.every)
        if step >= due.video:
            self._record_video(self.agent, step)
            due.video = next_multiple(step, s.video.every)
        if step >= due.ckpt:
            self.save(background=True)
            due.ckpt = next_multiple(step, s.checkpoint.every)
        due.refresh()

    # ----- events -------------------------------------------------------------------------------------------
    def _end_episode(self, ret: float, length: int) -> None:
        c, s = self.counters, self.config.stop
        c.episodes += 1
        self.recent_returns.append(ret)
        self.logger.log({"train/episode_return": ret, "train/episode_length": length}, c.step)
        if s.return_mean is not None and len(self.recent_returns) >= s.window:
            window = list(self.recent_returns)[-s.window :]
            if float(np.mean(window)) >= s.return_mean:
                self.stopped_early = True  # never undone by a later episode ending in the same step

    def _recent_headline(self) -> float | None:
        """The recent training value of the headline: the last 100 returns for RL, else the task's metric."""
        if self._track_metric:
            return self._recent_metric.mean()
        recent = list(self.recent_returns)[-100:]
        return float(np.mean(recent)) if recent else None

    def _log_periodic(self) -> None:
        c = self.counters
        self._check_finite(self._last_metrics, c.step)
        now = time.perf_counter()
        sps = (c.step - self._step_log) / max(now - self._t_log, 1e-9)
        self._t_log, self._step_log, self._logged_step = now, c.step, c.step
        metrics = {f"train/{k}": float(v) for k, v in self._last_metrics.items()}
        self.logger.log({**metrics, "train/episodes": c.episodes, "time/sps": sps}, c.step)
        self.logger.flush()

    def _evaluate(self) -> EvalResult:
        c, s = self.counters, self.config.eval
        seed = self.seed + EVAL_SEED_OFFSET
        progress = self._show_eval_progress
        result = self._eval_envs.evaluate(self.agent, s.episodes, seed, s.max_episode_steps, progress)
        self._last_result = (c.step, result)
        c.last_eval = result.summary()
        self.logger.log(result.scalars(), c.step)
        if result.all_truncated:  # a looping policy's capped return: logged, never the best checkpoint
            warn_all_truncated(result, c.step, s.max_episode_steps)
        elif (score := self.headline.score(c.last_eval)) > c.best_eval:  # RL: mean return; a task: its metric
            c.best_eval = score
            state = self.state_dict()
            self._check_finite({}, c.step, state)  # never a diverged best.pt
            self.checkpointer.save_best(state, background=True)
        return result

    def _show_eval_progress(self, episode: int, episodes: int, steps: int = 0) -> None:
        """Tells the display "evaluating k/n episodes" (at most every UI_PERIOD_S, and when it ends)."""
        self._evaluating = (episode, episodes) if episode < episodes else None
        now = time.perf_counter()
        if now >= self._next_eval_ui or self._evaluating is None:
            self._next_eval_ui = now + UI_PERIOD_S
            self.ui.update(self.snapshot())

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly here: agent, counters, recent returns, the envs' episodes."""
        c = self.counters
        runner = {
            "step": c.step,
            "episodes": c.episodes,
            "best_eval": c.best_eval,
            "last_eval": dict(c.last_eval),
            "recent_returns": list(self.recent_returns),
            "stopped_early": self.stopped_early,
            "completed": self.completed,
        }
        envs = self.envs.state_dict() if hasattr(self.envs, "state_dict") else None
        return {"agent": self.agent.state_dict(), "runner": runner, "envs": envs}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continues from a checkpoint: the next train() picks up at its step."""
        r, c = state["runner"], self.counters
        c.step, c.episodes, c.best_eval = int(r["step"]), int(r["episodes"]), float(r["best_eval"])
        c.last_eval = dict(r["last_eval"])
        self.recent_returns.clear()
        self.recent_returns.extend(r["recent_returns"])
        self.stopped_early = bool(r["stopped_early"])
        self.completed = bool(r.get("completed", False))
        self.agent.load_state_dict(state["agent"])
        if state.get("envs") is not None and hasattr(self.envs, "load_state_dict"):
            self._resume_obs = self.envs.load_state_dict(state["envs"])
        else:  # an env that cannot rebuild its episode: start fresh ones, seeded by the step
            self._resume_obs = self.envs.reset(seed=self.seed + c.step)

    def save(self, background: bool = False) -> Path:
        """Writes a numbered checkpoint and points checkpoints/latest.pt at it (never a diverged state).
        The logs are flushed first, so a kill after the checkpoint loses none of the lines before it.
        `background`: written by the checkpointer's thread (rlkit.core.checkpoint); a plain save waits."""
        state = self.state_dict()
        self._check_finite(self._last_metrics, self.counters.step, state)
        self.logger.flush()
        return self.checkpointer.save(state, self.counters.step, background)

    def snapshot(self) -> Snapshot:
        """The numbers the progress display shows."""
        s, c = self.config, self.counters
        by_steps = s.total_steps is not None
        elapsed = time.perf_counter() - self._t0
        h, rl = self.headline, not self._track_metric
        return Snapshot(
            step=c.step,
            episodes=c.episodes,
            total=s.total_steps if by_steps else s.total_episodes,
            unit="steps" if by_steps else "episodes",
            sps=(c.step - self._step0) / max(elapsed, 1e-9),  # this session's steps, not a resumed run's
            elapsed=elapsed,
            return_mean=self._recent_headline(),
            epsilon=self._last_metrics.get("epsilon"),
            eval_mean=c.last_eval.get(h.key),
            eval_std=c.last_eval.get("return_std") if rl else None,
            metric=h.name,
            decimals=h.decimals,
            evaluating=self._evaluating,
        )

    def close(self) -> None:
        """Closes envs and loggers, once the checkpoint being written is complete."""
        self.checkpointer.close()  # the write in progress ends first (a failure was raised by the final save)
        self.envs.close()
        self._eval_envs.close()
        self.logger.close()
