"""Ray for `rlkit sweep`: connecting (a local instance rlkit starts and stops, or a cluster), and running the
trials with Ray Tune (resources per trial, retries of crashed trials, progress into the live table).

Ray is imported here only, inside functions: `rlkit --help` and `rlkit train` never load it. Ray's own output
is silenced (Tune's verbose=0, log_to_driver off, warnings-only logging, no dashboard); the live table
(rlkit.frontend.sweep_table) is what the user sees.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from rlkit.core.errors import UserError
from rlkit.core.headline import Headline
from rlkit.frontend.sweep_plan import Trial, trial_dir
from rlkit.frontend.sweep_table import SweepTable
from rlkit.frontend.sweep_trial import KILL_ENV, run_trial

TOKEN = Path.home() / ".ray" / "auth_token"  # Ray >= 2.5x's cluster token, made by `ray start`
LOCAL_OBJECT_STORE = 256 * 1024**2  # bytes: trials pass no data through Ray, only small progress reports


def _ray():
    try:
        import ray
    except ImportError:
        raise UserError(
            'rlkit sweep needs Ray: pip install -e ".[sweep]" (or pip install "ray[tune]")'
        ) from None
    return ray


def connect(settings: dict[str, Any]) -> bool:
    """Starts a local Ray (True: rlkit stops it) or joins sweep.address (False); refuses a multi-node cluster
    without sweep.storage."""
    if settings.get("address") and "RAY_AUTH_MODE" not in os.environ and TOKEN.is_file():
        os.environ["RAY_AUTH_MODE"] = "token"  # `ray start` made a token: send it (read when Ray is imported)
    ray = _ray()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic reporter, which verbose=0 silences
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # the trials write their own TensorBoard
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False, "configure_logging": True}
    if ray.is_initialized():
        started = False
    elif settings.get("address"):
        try:
            ray.init(address=settings["address"], **quiet)
        except (ConnectionError, RuntimeError, ValueError) as err:
            reason = " ".join(str(err).split())[:200]
            raise UserError(
                f"sweep.address={settings['address']}: cannot connect to Ray ({reason})"
            ) from None
        started = False
    else:
        ncpu = settings.get("num_cpus")
        os.environ.setdefault("RAY_worker_niceness", "0")  # trials at `rlkit train`'s priority (Ray's: 15)
        ray.init(address="local", num_cpus=int(ncpu) if ncpu else None, include_dashboard=False,
                 object_store_memory=LOCAL_OBJECT_STORE, **quiet)  # fmt: skip
        started = True
    for name in ("ray", "ray.tune", "ray.train"):  # trial errors are reported in rlkit's own lines
        logging.getLogger(name).setLevel(logging.CRITICAL)
    alive = [n for n in ray.nodes() if n.get("Alive")]
    if len(alive) > 1 and not settings.get("storage"):
        if started:
            ray.shutdown()
        raise UserError(
            f"the Ray cluster has {len(alive)} nodes: set sweep.storage=<folder every node reads and writes, "
            "e.g. an NFS mount>; the sweep directory is made there"
        )
    return started


def disconnect(started: bool) -> None:
    """Stops the local Ray rlkit started (a cluster is left running)."""
    if started:
        _ray().shutdown()


def nodes() -> int:
    """Alive nodes of the connected Ray."""
    return sum(1 for n in _ray().nodes() if n.get("Alive"))


def trial_config(sweep_dir: Path, trial: Trial, headline: Headline) -> dict[str, Any]:
    """What the trainable gets: where to train, with which overrides, where to log."""
    return {
        "name": trial.name,
        "overrides": trial.overrides,
        "run_dir": str(trial_dir(sweep_dir, trial).absolute()),
        "log": str((sweep_dir / "logs" / trial.config / f"seed_{trial.seed}.log").absolute()),
        "key": f"eval/{headline.key}",
        "higher": headline.higher_is_better,
        "kill_once": os.environ.get(KILL_ENV) == trial.name,
    }


def _trainable(config: dict[str, Any]) -> None:
    run_trial(config["trial"])


class _Sink:
    """The live table as the progress callback holds it: Tune pickles its callbacks with the experiment's
    state, and a table (which holds the terminal) does not pickle; a copy reports nowhere."""

    def __init__(self, table: SweepTable | None):
        self.table = table

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self.table = None

    def event(self, trial: Any, status: str | None, result: dict | None = None) -> None:
        if self.table is not None:
            self.table.event(trial.config["trial"]["name"], status, result)


def run(
    sweep_dir: Path, trials: list[Trial], settings: dict[str, Any], table: SweepTable, headline: Headline
) -> dict:
    """Runs `trials` with Ray Tune, reporting the task's headline metric; {trial name: error or None}."""
    from ray import tune

    sink = _Sink(table)

    class Progress(tune.Callback):
        """Trial events into the live table."""

        def on_trial_start(self, iteration, trials, trial, **info):
            sink.event(trial, "running")

        def on_trial_result(self, iteration, trials, trial, result, **info):
            sink.event(trial, None, result)

        def on_trial_complete(self, iteration, trials, trial, **info):
            sink.event(trial, "done", trial.last_result)

        def on_trial_recover(self, iteration, trials, trial, **info):
            sink.event(trial, "retrying")

        def on_trial_error(self, iteration, trials, trial, **info):
            sink.event(trial, "failed")

    resources = {"cpu": float(settings["cpus_per_trial"]), "gpu": float(settings["gpus_per_trial"])}
    space = {"trial": tune.grid_search([trial_config(sweep_dir, t, headline) for t in trials])}
    run_config = tune.RunConfig(
        name="ray",
        storage_path=str(sweep_dir.absolute()),
        verbose=0,
        callbacks=[Progress()],
        failure_config=tune.FailureConfig(max_failures=int(settings["max_retries"])),
    )
    tuner = tune.Tuner(
        tune.with_resources(_trainable, resources),
        param_space=space,
        tune_config=tune.TuneConfig(reuse_actors=True),  # a worker process serves trial after trial
        run_config=run_config,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = tuner.fit()
    errors: dict[str, str | None] = {}
    for result in results:
        name = result.config["trial"]["name"]
        errors[name] = None if result.error is None else _last_line(result.error)
    return errors


def _last_line(err: BaseException) -> str:
    """The root cause's message in one line (Tune wraps a trial's exception in its own)."""
    text = str(err).strip().splitlines()
    found = [ln for ln in text if "rlkit train exited" in ln]
    return (found[-1] if found else text[-1] if text else type(err).__name__).strip()[:300]
