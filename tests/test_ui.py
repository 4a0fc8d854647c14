"""The progress display: rich on a terminal, plain lines elsewhere, nothing with ui=none."""

from __future__ import annotations

import io

from rich.console import Console

from rlkit.frontend.ui import NullUI, PlainUI, RichUI, Snapshot, make_ui

from .conftest import train_in_process

SNAP = Snapshot(step=500, episodes=42, total=1000, unit="steps", sps=1234.0, elapsed=2.0, return_mean=12.5,
                epsilon=0.1, eval_mean=100.0, eval_std=0.0)  # fmt: skip


def test_plain_lines_carry_the_numbers_and_no_control_characters() -> None:
    out = io.StringIO()
    ui = PlainUI(every=0.0, stream=out)
    ui.start("q_learning on maze")
    ui.update(SNAP)
    ui.stop(SNAP)
    text = out.getvalue()
    assert "\x1b" not in text and "\r" not in text
    line = text.splitlines()[1]
    for part in ("500/1,000 steps (50%)", "1,234 steps/s", "episodes 42", "recent return 12.50",
                 "epsilon 0.100", "eval 100.00 ± 0.00", "elapsed 0:00:02", "left ~0:00:02"):  # fmt: skip
        assert part in line


def test_rich_display_draws_bar_and_stats() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=150)
    ui = RichUI(console)
    ui.start("q_learning on maze")
    ui.update(SNAP)
    ui.stop(SNAP)
    text = console.file.getvalue()
    assert "q_learning on maze" in text and "500/1,000" in text and "recent return 12.50" in text


def test_auto_picks_plain_when_stdout_is_not_a_terminal() -> None:
    assert type(make_ui("auto")) is PlainUI  # pytest captures stdout: not a terminal
    assert type(make_ui("none")) is NullUI and type(make_ui("rich")) is RichUI


def test_ui_none_prints_nothing(tmp_path, capsys) -> None:
    train_in_process(tmp_path / "r", "total_episodes=5", "ui=none")
    assert capsys.readouterr().out == ""
    train_in_process(tmp_path / "p", "total_episodes=5", "ui=plain")
    assert "[rlkit] 5/5 episodes (100%)" in capsys.readouterr().out
