"""Grid maze treasure hunt environment from the book "21 projects in deep learning" (chapters 18-19)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlkit.envs.maze_maps import DX, DY, FLOOR, MAPS, TRAP, TREASURE, WALL, MazeMap, parse_map, random_map

CELL_PX = 16
COLORS: dict[str, tuple[int, int, int]] = {
    WALL: (64, 64, 64),
    FLOOR: (245, 245, 245),
    TRAP: (220, 40, 40),
    TREASURE: (255, 200, 0),
}
AGENT_COLOR: tuple[int, int, int] = (30, 80, 220)
TRAP_REWARD, TREASURE_REWARD = -5.0, 100.0


def _layout_from_arg(
    map: str | Sequence[str] | MazeMap, rows: int, cols: int, traps: int, map_seed: int
) -> MazeMap:
    """Resolve the ``map`` constructor argument to a validated :class:`MazeMap`."""
    if isinstance(map, MazeMap):
        return map
    if isinstance(map, str):
        if "\n" in map:
            lines = map.splitlines()
            while lines and not lines[0].strip():
                lines.pop(0)
            while lines and not lines[-1].strip():
                lines.pop()
            return parse_map(lines)
        if map == "random":
            return parse_map(random_map(rows, cols, np.random.default_rng(map_seed), traps))
        if map in MAPS:
            return parse_map(MAPS[map])
        if map.endswith(".txt") or "/" in map:
            return _read_map_file(Path(map))
        valid = ", ".join(repr(name) for name in [*MAPS, "random"])
        raise ValueError(
            f"unknown map name {map!r}; valid maps are {valid}, a path to a .txt map file, "
            "or a list of row strings"
        )
    if isinstance(map, (list, tuple)):
        return parse_map(map)
    raise ValueError(f"map must be a name ({', '.join(MAPS)}, random) or a list of rows, got {type(map)}")


def _read_map_file(path: Path) -> MazeMap:
    """A map stored as text, one row per line (surrounding blank lines ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(
            f"map file {path} does not exist (expected a text file with one maze row per line)"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"map file {path} cannot be read as UTF-8 text: {err}") from None
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    try:
        return parse_map(lines)
    except ValueError as err:
        raise ValueError(f"map file {path}: {err}") from None


class GridMazeEnv(gym.Env):
    """Find the treasure in a grid maze, avoiding traps.

    ## Description
    The agent walks on a grid of walls ``'.'``, floor ``' '``, traps ``'x'`` and treasure ``'o'``, as in
    chapter 18 of "21 projects in deep learning" (``chapter_18/env.py``). The default ``"simple"`` map::

        .........
        .A      .
        .     o .
        .       .
        .........

    ## Action Space
    ``Discrete(4)``: 0 up, 1 down, 2 left, 3 right.

    ## Observation Space
    ``Discrete(rows * cols)``: the agent's cell as ``row * cols + col`` (the start of the book maps is 10).

    ## Rewards
    - Treasure: +100.
    - Trap: -5; the trap then disappears until the next reset.
    - Anything else, including bumping into a wall or the grid edge: 0. There is no per-step penalty.

    ## Starting State
    The cell marked ``'A'`` in the map, otherwise ``(1, 1)``. All traps are restored on reset.

    ## Episode End
    - Termination: the agent reaches the treasure.
    - Truncation: none from the env itself; registered ids add a ``TimeLimit`` (default 30 steps).

    ## Arguments
    ```python
    GridMazeEnv(map="simple", render_mode=None, rows=7, cols=11, traps=0, map_seed=0)
    ```
    - ``map``: ``"simple"``, ``"traps"``, ``"random"``, a list/tuple of row strings, or one multi-line
      string (surrounding blank lines are dropped).
    - ``render_mode``: ``None``, ``"ansi"``, ``"rgb_array"`` or ``"human"`` (prints the ansi frame).
    - ``rows``, ``cols``, ``traps``, ``map_seed``: size, trap count and seed of a ``"random"`` map.
    """

    metadata = {"render_modes": ["ansi", "rgb_array", "human"], "render_fps": 8}

    def __init__(
        self,
        map: str | Sequence[str] | MazeMap = "simple",
        render_mode: str | None = None,
        rows: int = 7,
        cols: int = 11,
        traps: int = 0,
        map_seed: int = 0,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            valid = ", ".join(repr(m) for m in self.metadata["render_modes"])
            raise ValueError(f"invalid render_mode {render_mode!r}; valid modes are None, {valid}")
        self.render_mode = render_mode
        self.maze: MazeMap = _layout_from_arg(map, rows, cols, traps, map_seed)
        self.nrow, self.ncol = self.maze.height, self.maze.width
        self.observation_space = spaces.Discrete(self.nrow * self.ncol)
        self.action_space = spaces.Discrete(4)
        self._restore()

    def _restore(self) -> None:
        """Put the traps back and the agent on the start cell."""
        self.grid: list[list[str]] = [list(row) for row in self.maze.rows]
        self.agent_pos: tuple[int, int] = self.maze.start

    def _obs(self) -> int:
        return self.agent_pos[0] * self.ncol + self.agent_pos[1]

    def shortest_path_length(self) -> int:
        """Return the BFS distance from the start to the nearest treasure (6 on both book maps)."""
        return self.maze.shortest_path_length()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[int, dict]:
        """Reset the episode: restore traps and put the agent on the start cell.

        Args:
            seed: Seed for ``self.np_random`` (the dynamics themselves are deterministic).
            options: Unused.

        Returns:
            The start observation and an empty info dict.
        """
        super().reset(seed=seed)
        self._restore()
        if self.render_mode == "human":
            self.render()
        return self._obs(), {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict[str, Any]]:
        """Move the agent one cell.

        Args:
            action: 0 up, 1 down, 2 left, 3 right.

        Returns:
            ``(obs, reward, terminated, truncated, info)`` with ``info = {"trap": bool}``.
        """
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}; valid actions are 0 up, 1 down, 2 left, 3 right")
        a = int(action)
        r, c = self.agent_pos[0] + DX[a], self.agent_pos[1] + DY[a]
        reward, terminated, trap = 0.0, False, False
        if 0 <= r < self.nrow and 0 <= c < self.ncol and self.grid[r][c] != WALL:
            self.agent_pos = (r, c)
            if self.grid[r][c] == TRAP:
                reward, trap = TRAP_REWARD, True
                self.grid[r][c] = FLOOR
            elif self.grid[r][c] == TREASURE:
                reward, terminated = TREASURE_REWARD, True
        if self.render_mode == "human":
            self.render()
        return self._obs(), reward, terminated, False, {"trap": trap}

    def _ansi(self) -> str:
        lines = [list(row) for row in self.grid]
        lines[self.agent_pos[0]][self.agent_pos[1]] = "A"
        return "\n".join("".join(row) for row in lines)

    def _rgb(self) -> np.ndarray:
        palette = np.array([COLORS[s] for s in (WALL, FLOOR, TRAP, TREASURE)], dtype=np.uint8)
        index = {s: i for i, s in enumerate((WALL, FLOOR, TRAP, TREASURE))}
        cells = np.array([[index[ch] for ch in row] for row in self.grid])
        frame = np.repeat(np.repeat(palette[cells], CELL_PX, axis=0), CELL_PX, axis=1)
        yy, xx = np.mgrid[0:CELL_PX, 0:CELL_PX]
        centre = (CELL_PX - 1) / 2
        disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (CELL_PX * 0.4) ** 2
        r0, c0 = self.agent_pos[0] * CELL_PX, self.agent_pos[1] * CELL_PX
        frame[r0 : r0 + CELL_PX, c0 : c0 + CELL_PX][disc] = AGENT_COLOR
        return frame

    def render(self) -> str | np.ndarray | None:
        """Render the current state according to ``render_mode``.

        Returns:
            The map string with the agent as ``'A'`` ("ansi"), a ``(rows*16, cols*16, 3)`` uint8 image
            ("rgb_array"), or None ("human", which prints the ansi frame, or no render mode).
        """
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode to GridMazeEnv.")
            return None
        if self.render_mode == "ansi":
            return self._ansi()
        if self.render_mode == "rgb_array":
            return self._rgb()
        print(self._ansi() + "\n")
        return None
