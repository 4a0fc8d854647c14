"""The plan of `rlkit sweep`: its arguments, the configurations (a grid or random samples) and their trials.

Grid: a comma list outside brackets is a grid axis, as in Hydra's multirun (`agent.lr=1e-3,3e-4
agent.double=true,false`: 4 configurations). Random search (`sweep.search=random sweep.samples=N`): each axis
is drawn from `uniform(a,b)`, `loguniform(a,b)`, `randint(a,b)` (b excluded, as Ray Tune's), `choice(a,b,..)`
or a comma list, with numpy's generator seeded by `sweep.seed`, so the plan is the same every time. Each
configuration runs with `seeds=N` seeds (0..N-1, or a list [3,4]); a trial is one (configuration, seed), an
ordinary `rlkit train` run directory at <sweep dir>/trials/<config>/seed_<k>/. The plan is written to
<sweep dir>/sweep.json, which `rlkit sweep resume=<sweep dir>` reads back.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from rlkit.core.diskio import write_text
from rlkit.core.errors import UserError
from rlkit.frontend.bench import parse_list, split_top_level

SETTINGS = {
    "search": "grid (default), random, or optuna (Optuna's TPE through Ray Tune, pip install optuna)",
    "samples": "configurations drawn by random or Optuna search (default 10)",
    "seed": "seed of the random search's draws (default 0)",
    "cpus_per_trial": "CPUs Ray reserves for each trial (default 1)",
    "gpus_per_trial": "GPUs Ray reserves for each trial (default 0; fractions share a GPU)",
    "address": "Ray cluster to run on: auto, host:port or ray://host:10001 (default: a local Ray, started "
    "and stopped by rlkit)",
    "storage": "folder every node of a multi-node cluster can read and write (NFS); the sweep dir goes there",
    "max_retries": "times a crashed trial is retried from its last checkpoint (default 2)",
    "num_cpus": "CPUs of the local Ray (default: all)",
    "reeval_seeds": "N: after the sweep, re-train the best configuration on N fresh seeds (default 0)",
}
OTHER_KEYS = {
    "seeds": "seeds per configuration: N (0..N-1) or a list [3,4] (default 3)",
    "out": "sweep directory (default runs/sweep/<date>/<time>_<env>)",
    "resume": "a sweep directory to continue: finished trials are kept, the others run or resume",
    "ui": "live table: auto (default), rich, plain or none",
}
DISTRIBUTION = re.compile(r"(uniform|loguniform|randint|choice)\((.*)\)")
DEFAULTS: dict[str, Any] = {"search": "grid", "samples": 10, "seed": 0, "cpus_per_trial": 1.0,
                            "gpus_per_trial": 0.0, "address": None, "storage": None, "max_retries": 2,
                            "num_cpus": None, "reeval_seeds": 0}  # fmt: skip


@dataclass
class Trial:
    """One configuration with one seed."""

    config: str  # the configuration's name, a folder name
    seed: int
    overrides: list[str]  # everything `rlkit train` gets, seed= included, run dir and ui= excluded

    @property
    def name(self) -> str:
        """'<config>/seed_<k>': its place under <sweep dir>/trials/."""
        return f"{self.config}/seed_{self.seed}"


@dataclass
class Plan:
    """What a sweep runs: written to sweep.json, read back by `rlkit sweep resume=`."""

    argv: list[str]
    common: list[str]
    configs: dict[str, list[str]]  # name -> the overrides that make it
    seeds: list[int]
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS))
    fresh: dict[str, list[int]] = field(default_factory=dict)  # re-evaluations: config -> its own seeds

    def trials(self) -> list[Trial]:
        """Every (configuration, seed), seeds alternating across configurations; re-evaluations last."""
        main = [(n, seed) for seed in self.seeds for n in self.configs if n not in self.fresh]
        fresh = [(n, seed) for n, seeds in self.fresh.items() for seed in seeds]
        return [Trial(n, seed, [*self.common, *self.configs[n], f"seed={seed}"]) for n, seed in main + fresh]

    def add_reeval(self, best: str) -> str:
        """Adds `reeval_<best>`: the best configuration again, on settings['reeval_seeds'] unused seeds (as RL
        Zoo recommends: the search's own seeds flatter the winner)."""
        name, first = f"reeval_{best}", max(self.seeds) + 1
        self.configs[name] = list(self.configs[best])
        self.fresh[name] = list(range(first, first + int(self.settings["reeval_seeds"])))
        return name

    def save(self, sweep_dir: Path) -> None:
        """Writes <sweep dir>/sweep.json."""
        write_text(sweep_dir / "sweep.json", json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, sweep_dir: Path) -> Plan:
        """The plan of an existing sweep directory, or a UserError."""
        path = sweep_dir / "sweep.json"
        if not path.is_file():
            raise UserError(f"resume={sweep_dir}: not a sweep directory of `rlkit sweep` (no sweep.json)")
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def trial_dir(sweep_dir: Path, trial: Trial) -> Path:
    """<sweep dir>/trials/<config>/seed_<k>: the trial's run directory."""
    return sweep_dir / "trials" / trial.config / f"seed_{trial.seed}"


def finished(sweep_dir: Path, trial: Trial) -> bool:
    """The trial's run completed: `rlkit train` wrote its summary.json."""
    return (trial_dir(sweep_dir, trial) / "summary.json").is_file()


def parse_args(argv: list[str]) -> tuple[dict[str, str], list[str], dict[str, list[str]]]:
    """(sweep keys and seeds/out/resume/ui, fixed overrides, swept overrides: key -> values as written)."""
    opts, fixed, swept = {}, [], {}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            raise UserError(f"rlkit sweep: '{arg}' is not key=value; see rlkit sweep --help")
        if key.startswith("sweep."):
            if key[6:] not in SETTINGS:
                raise UserError(
                    f"rlkit sweep: unknown setting {key}; valid: {', '.join('sweep.' + k for k in SETTINGS)}"
                )
            opts[key] = value
        elif key in OTHER_KEYS:
            opts[key] = value
        elif key in ("seed", "hydra.run.dir") or key.startswith("hydra.run"):
            raise UserError(f"rlkit sweep: {key}= is set per trial by the sweep; use seeds=N and out=DIR")
        elif len(values := split_top_level(value)) > 1 or DISTRIBUTION.fullmatch(value.strip()):
            swept[key] = values
        else:
            fixed.append(arg)
    return opts, fixed, swept


def settings_of(opts: dict[str, str]) -> dict[str, Any]:
    """The sweep.* settings with their types, defaults filled in."""
    out = dict(DEFAULTS)
    for key, value in opts.items():
        if not key.startswith("sweep."):
            continue
        name, kind = key[6:], type(DEFAULTS[key[6:]])
        try:
            out[name] = value if DEFAULTS[name] is None or kind is str else kind(float(value))
        except ValueError:
            raise UserError(f"rlkit sweep: {key}={value} is not a number") from None
    if out["search"] not in ("grid", "random", "optuna"):
        raise UserError(f"rlkit sweep: sweep.search={out['search']}; valid: grid, random, optuna")
    if (
        out["samples"] < 1
        or out["cpus_per_trial"] <= 0
        or out["gpus_per_trial"] < 0
        or out["max_retries"] < 0
    ):
        raise UserError("rlkit sweep: sweep.samples and sweep.cpus_per_trial must be positive, "
                        "sweep.gpus_per_trial, sweep.max_retries and sweep.reeval_seeds >= 0")  # fmt: skip
    return out


def parse_seeds(text: str) -> list[int]:
    """'5' -> [0..4]; '[3,4]' -> [3, 4]."""
    try:
        seeds = list(range(int(text))) if text.strip().isdigit() else [int(s) for s in parse_list(text)]
    except ValueError:
        raise UserError(
            f"rlkit sweep: seeds={text}; give a count (seeds=5) or a list (seeds=[3,4])"
        ) from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise UserError(f"rlkit sweep: seeds={text} is empty or repeats a seed")
    return seeds


def grid(swept: dict[str, list[str]]) -> list[list[str]]:
    """Every combination of the comma lists (the last key varies fastest)."""
    for key, values in swept.items():
        if len(values) == 1:  # a lone uniform(...) etc.
            raise UserError(f"rlkit sweep: {key}={values[0]} is a distribution; add sweep.search=random")
    combos: list[list[str]] = [[]]
    for key, values in swept.items():
        combos = [[*c, f"{key}={v}"] for c in combos for v in values]
    return combos


def draw(spec: list[str], rng: np.random.Generator) -> str:
    """One value of an axis: a comma list or a distribution, as an override value."""
    match = DISTRIBUTION.fullmatch(spec[0]) if len(spec) == 1 else None
    if match is None:
        return spec[rng.integers(len(spec))]
    kind, args = match.group(1), split_top_level(match.group(2))
    if kind == "choice":
        return args[rng.integers(len(args))]
    try:
        low, high = float(args[0]), float(args[1])
        if len(args) != 2 or not low < high or (kind == "loguniform" and low <= 0):
            raise ValueError
    except (ValueError, IndexError):
        raise UserError(f"rlkit sweep: {kind}({match.group(2)}) needs two numbers a < b (a > 0 for "
                        "loguniform)") from None  # fmt: skip
    if kind == "randint":
        return str(int(rng.integers(math.ceil(low), math.ceil(high))))
    value = (
        math.exp(rng.uniform(math.log(low), math.log(high)))
        if kind == "loguniform"
        else rng.uniform(low, high)
    )
    return f"{value:.4g}"


def random_configs(swept: dict[str, list[str]], samples: int, seed: int) -> list[list[str]]:
    """`samples` configurations, each axis drawn independently; repeated draws are kept once."""
    rng, out = np.random.default_rng(seed), []
    for _ in range(samples):
        combo = [f"{key}={draw(spec, rng)}" for key, spec in swept.items()]
        if combo not in out:
            out.append(combo)
    return out


def config_name(index: int, overrides: list[str]) -> str:
    """'00_lr=0.001_double=true': index, then each swept key's last part and value, safe as a folder name."""
    parts = [f"{o.partition('=')[0].rpartition('.')[2]}={o.partition('=')[2]}" for o in overrides]
    text = re.sub(r"[^\w.=+-]+", "-", "_".join(parts)).strip("-")[:80] or "default"
    return f"{index:02d}_{text}"


def make_plan(argv: list[str]) -> tuple[Plan, dict[str, str]]:
    """The plan of a new sweep and the options given (out=, ui=)."""
    opts, fixed, swept = parse_args(argv)
    settings = settings_of(opts)
    if settings["search"] == "optuna":  # Optuna proposes the configurations as the sweep runs
        if not swept:
            raise UserError(
                "rlkit sweep: sweep.search=optuna needs an axis, e.g. 'agent.lr=loguniform(1e-4,1e-2)'"
            )
        random_configs(swept, 1, 0)  # every axis checked now, in one line
        combos, settings["space"] = [], swept
    elif settings["search"] == "random":
        combos = random_configs(swept, int(settings["samples"]), int(settings["seed"]))
    else:
        combos = grid(swept)
    configs = {config_name(i, c): c for i, c in enumerate(combos)}
    return Plan(argv, fixed, configs, parse_seeds(opts.get("seeds", "3")), settings), opts


def default_out(common: list[str], storage: str | None) -> Path:
    """<storage or runs>/sweep/<date>/<time>_<env>."""
    env = next((a.partition("=")[2] for a in common if a.startswith("env=")), "maze").replace("/", "_")
    now = datetime.now()
    root = Path(storage) if storage else Path("runs")
    return root / "sweep" / now.strftime("%Y-%m-%d") / f"{now.strftime('%H-%M-%S')}_{env}"
