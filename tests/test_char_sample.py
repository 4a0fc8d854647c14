"""Issue 12 item 14: `rlkit play` on a Char-RNN run prints generated text (prime, length, temperature, seed),
as the book's sample.py does, instead of next-character predictions on training windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlkit.frontend.cli import main


@pytest.fixture(scope="module")
def char_run(tmp_path_factory) -> Path:
    """A Char-RNN run that has learned a text whose next character always follows from the current one."""
    folder = tmp_path_factory.mktemp("char")
    text = folder / "cyclic.txt"
    text.write_text("hello world, " * 200, encoding="utf-8")
    run_dir = folder / "run"
    overrides = [
        "agent=char_rnn", "env=char_text", f"env.kwargs.path={text}", "env.kwargs.num_steps=20",
        "total_steps=120", "agent.hidden=32", "agent.dropout=0.0", "num_threads=1",
    ]  # fmt: skip
    assert main(["train", "ui=none", f"hydra.run.dir={run_dir}", *overrides]) == 0
    return run_dir


def play(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["play", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_play_prints_text_generated_from_the_prime(char_run: Path, capsys) -> None:
    code, out, _ = play(capsys, f"run={char_run}", "temperature=0", "length=26", "prime=hello")
    assert code == 0
    assert out == "hello world, hello world, hello\n"  # greedy: the learned text, nothing else printed


def test_sampling_is_seeded_and_has_the_asked_length(char_run: Path, capsys) -> None:
    args = (f"run={char_run}", "temperature=3", "length=300", "prime=ROMEO:")
    first, again = play(capsys, *args, "seed=1")[1], play(capsys, *args, "seed=1")[1]
    other = play(capsys, *args, "seed=2")[1]
    assert first == again != other
    sampled = first[len("ROMEO:") : -1].replace("<unk>", "?")  # <unk>: the vocabulary's unknown char
    assert first.startswith("ROMEO:") and first.endswith("\n") and len(sampled) == 300
    assert set(sampled) <= set("helo wrd,?")


def test_default_sample_needs_no_keys(char_run: Path, capsys) -> None:
    code, out, _ = play(capsys, f"run={char_run}")
    assert code == 0 and len(out) == 1 + 500 + 1 and "episode" not in out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["temperature=-1"], "temperature=-1 is invalid: it must be a number >= 0"),
        (["temperature=warm"], "temperature=warm is invalid: it must be a number >= 0"),
        (["length=0"], "length=0 is invalid: it must be an integer >= 1"),
        (["prime="], "prime= is empty"),
    ],
)
def test_bad_sample_options_are_one_line(char_run: Path, capsys, args: list[str], expected: str) -> None:
    code, _, err = play(capsys, f"run={char_run}", *args)
    assert code == 2 and expected in err and len(err.strip().splitlines()) == 1


def test_sample_keys_are_refused_where_nothing_generates_text(tmp_path: Path, capsys) -> None:
    maze = tmp_path / "maze"
    assert main(["train", "ui=none", f"hydra.run.dir={maze}"]) == 0
    capsys.readouterr()
    code, _, err = play(capsys, f"run={maze}", "temperature=0.8")
    assert code == 2 and "temperature=: only for a trained run of a text task" in err
    code, _, err = play(capsys, "env=char_text", "prime=ROMEO:")
    assert code == 2 and "a random policy on char_text" in err
    assert "temperature" in (main(["play", "--help"]) == 0 and capsys.readouterr().out)
