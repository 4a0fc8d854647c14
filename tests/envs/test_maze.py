"""Tests for the grid maze environment and its map utilities."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.wrappers import TimeLimit
from hypothesis import given, settings
from hypothesis import strategies as st

from rlkit.envs.maze import AGENT_COLOR, GridMazeEnv
from rlkit.envs.maze_maps import MAPS, SIMPLE, TRAPS, parse_map, random_map

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3


@pytest.mark.filterwarnings("ignore:.*Not able to test alternative render modes")
@pytest.mark.parametrize("kwargs", [{"map": "simple"}, {"map": "traps"}, {"map": "random", "traps": 3}])
def test_check_env(kwargs: dict) -> None:
    check_env(GridMazeEnv(**kwargs), skip_render_check=True)
    for mode in ("ansi", "rgb_array"):
        check_env(GridMazeEnv(render_mode=mode, **kwargs))


def test_book_maps_exact() -> None:
    assert SIMPLE == [".........", ".       .", ".     o .", ".       .", "........."]
    assert TRAPS == [".........", ".  x    .", ".   x o .", ".       .", "........."]
    assert MAPS == {"simple": SIMPLE, "traps": TRAPS}


def test_spaces_and_start() -> None:
    env = GridMazeEnv()
    assert env.observation_space.n == 45 and env.action_space.n == 4
    obs, info = env.reset(seed=0)
    assert obs == 1 * 9 + 1 == 10 and info == {}
    assert env.agent_pos == (1, 1)
    assert env.shortest_path_length() == 6 == GridMazeEnv(map="traps").shortest_path_length()


def test_wall_bump() -> None:
    env = GridMazeEnv()
    env.reset(seed=0)
    for action in (UP, LEFT):
        obs, reward, terminated, truncated, _ = env.step(action)
        assert (obs, reward, terminated, truncated) == (10, 0, False, False)


def test_shortest_path_reaches_treasure() -> None:
    env = GridMazeEnv()
    env.reset(seed=0)
    expected = [(2, 1), (2, 2), (2, 3), (2, 4), (2, 5), (2, 6)]
    for i, (action, cell) in enumerate(zip([DOWN] + [RIGHT] * 5, expected, strict=True)):
        obs, reward, terminated, truncated, _ = env.step(action)
        assert env.agent_pos == cell and obs == cell[0] * 9 + cell[1]
        assert truncated is False
        if i < 5:
            assert (reward, terminated) == (0, False)
    assert (reward, terminated) == (100, True)


def test_trap_consumed_and_restored() -> None:
    env = GridMazeEnv(map="traps")
    env.reset(seed=0)
    assert env.step(RIGHT)[1] == 0
    obs, reward, terminated, _, info = env.step(RIGHT)
    assert (obs, reward, terminated, info["trap"]) == (1 * 9 + 3, -5, False, True)
    env.step(LEFT)
    obs, reward, _, _, info = env.step(RIGHT)
    assert (obs, reward, info["trap"]) == (12, 0, False)
    env.reset()
    env.step(RIGHT)
    assert env.step(RIGHT)[1] == -5


def test_time_limit_truncation() -> None:
    env = TimeLimit(GridMazeEnv(), 30)
    env.reset(seed=0)
    for t in range(30):
        _, reward, terminated, truncated, _ = env.step(UP)
        assert reward == 0 and not terminated
        assert truncated == (t == 29)


def test_render_ansi() -> None:
    env = GridMazeEnv(render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == ".........\n.A      .\n.     o .\n.       .\n........."
    env = GridMazeEnv(map="traps", render_mode="ansi")
    env.reset()
    env.step(RIGHT), env.step(RIGHT), env.step(RIGHT)
    assert env.render().splitlines()[1] == ".   A   ."


def test_render_rgb_array() -> None:
    env = GridMazeEnv(map="traps", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (5 * 16, 9 * 16, 3) and frame.dtype == np.uint8
    agent = np.all(frame == np.array(AGENT_COLOR, dtype=np.uint8), axis=-1)
    rows, cols = np.nonzero(agent)
    assert agent.any() and set(rows // 16) == {1} and set(cols // 16) == {1}
    colours = {tuple(frame[r * 16 + 1, c * 16 + 1]) for r, c in [(0, 0), (1, 2), (1, 3), (2, 6)]}
    assert len(colours) == 4  # wall, floor, trap, treasure are distinct


def test_render_human(capsys: pytest.CaptureFixture[str]) -> None:
    env = GridMazeEnv(render_mode="human")
    env.reset(seed=0)
    assert env.render() is None
    assert ".A      ." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("layout", "match"),
    [
        ([], "empty map"),
        (["", ""], "empty map"),
        ([".....", ". o ", "....."], r"ragged map: row 1 has length 4 but row 0 has length 5"),
        ([".....", ". o#.", "....."], r"unknown symbol '#' at \(row 1, col 3\); valid symbols"),
        ([".....", ".   .", "....."], "no treasure"),
        ([".....", ". .o.", "....."], "treasure unreachable"),
        ([".....", "...o.", "....."], "start on a wall"),
        ([".....", ".AAo.", "....."], "more than one start"),
        (["o"], "no start"),
    ],
)
def test_malformed_maps(layout: list[str], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_map(layout)
    with pytest.raises(ValueError, match=match):
        GridMazeEnv(map=layout)


def test_start_marker_and_open_border() -> None:
    maze = parse_map(["  A", " x ", "o  "])
    assert maze.start == (0, 2) and maze.rows[0] == "   " and maze.shortest_path_length() == 4
    env = GridMazeEnv(map=["  A", " x ", "o  "])
    assert env.reset()[0] == 2
    assert env.step(RIGHT)[0] == 2 and env.step(UP)[0] == 2  # off the grid acts like a wall


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="'simple', 'traps', 'random'"):
        GridMazeEnv(map="nope")
    with pytest.raises(ValueError, match="valid modes are None, 'ansi', 'rgb_array', 'human'"):
        GridMazeEnv(render_mode="rgb")
    with pytest.raises(ValueError, match="rows >= 5"):
        random_map(4, 9, np.random.default_rng(0))


def test_multiline_string_map() -> None:
    env = GridMazeEnv(map="\n.......\n.A  x .\n.   o .\n.......\n")
    assert env.maze.rows == (".......", ".   x .", ".   o .", ".......")
    assert env.reset()[0] == 8 and env.shortest_path_length() == 4
    check_env(env, skip_render_check=True)


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(5, 15), cols=st.integers(5, 15), seed=st.integers(0, 2**32 - 1), traps=st.integers(0, 3)
)
def test_random_maps(rows: int, cols: int, seed: int, traps: int) -> None:
    layout = random_map(rows, cols, np.random.default_rng(seed), traps)
    assert layout == random_map(rows, cols, np.random.default_rng(seed), traps)
    assert len(layout) == rows and all(len(row) == cols for row in layout)
    maze = parse_map(layout)  # validates reachability of the treasure
    assert maze.start == (1, 1) and len(maze.treasures) == 1 and len(maze.traps) == traps
    assert set(layout[0] + layout[-1]) == {"."}
    env = GridMazeEnv(map="random", rows=rows, cols=cols, traps=traps, map_seed=seed)
    assert env.maze == maze and env.observation_space.n == rows * cols
