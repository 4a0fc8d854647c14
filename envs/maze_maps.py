"""Maze maps for :class:`rlkit.envs.maze.GridMazeEnv`: parsing, validation, book maps, random mazes.

A map is a list of equal-length strings using the symbols of the book "21 projects in deep learning"
(chapters 18-19): ``'.'`` wall, ``' '`` floor, ``'o'`` treasure, ``'x'`` trap and ``'A'`` an optional
start marker. Without an ``'A'`` the agent starts at ``(1, 1)``, which must then be a non-wall cell.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WALL, FLOOR, TREASURE, TRAP, START = ".", " ", "o", "x", "A"
SYMBOLS: tuple[str, ...] = (WALL, FLOOR, TREASURE, TRAP, START)
DEFAULT_START: tuple[int, int] = (1, 1)
# Moves as (d_row, d_col) for actions 0 up, 1 down, 2 left, 3 right (the book's DX / DY).
DX: tuple[int, ...] = (-1, 1, 0, 0)
DY: tuple[int, ...] = (0, 0, -1, 1)

SIMPLE: list[str] = [".........", ".       .", ".     o .", ".       .", "........."]
TRAPS: list[str] = [".........", ".  x    .", ".   x o .", ".       .", "........."]
MAPS: dict[str, list[str]] = {"simple": SIMPLE, "traps": TRAPS}

Pos = tuple[int, int]


@dataclass(frozen=True)
class MazeMap:
    """A validated maze layout.

    Attributes:
        rows: The map rows with the start marker ``'A'`` replaced by floor.
        start: Start cell ``(row, col)``.
    """

    rows: tuple[str, ...]
    start: Pos

    @property
    def height(self) -> int:
        """Number of rows."""
        return len(self.rows)

    @property
    def width(self) -> int:
        """Number of columns."""
        return len(self.rows[0])

    @property
    def treasures(self) -> tuple[Pos, ...]:
        """All treasure cells, row-major."""
        return self.cells_with(TREASURE)

    @property
    def traps(self) -> tuple[Pos, ...]:
        """All trap cells, row-major."""
        return self.cells_with(TRAP)

    def cells_with(self, symbol: str) -> tuple[Pos, ...]:
        """Return every cell holding ``symbol``, row-major."""
        return tuple((r, c) for r, row in enumerate(self.rows) for c, ch in enumerate(row) if ch == symbol)

    def is_free(self, pos: Pos) -> bool:
        """Return True if ``pos`` lies inside the grid and is not a wall."""
        r, c = pos
        return 0 <= r < self.height and 0 <= c < self.width and self.rows[r][c] != WALL

    def distances(self, source: Pos | None = None) -> dict[Pos, int]:
        """BFS step distances (4-neighbourhood, traps passable) from ``source`` (default: start)."""
        source = self.start if source is None else source
        dist = {source: 0}
        queue = deque([source])
        while queue:
            r, c = queue.popleft()
            for dr, dc in zip(DX, DY, strict=True):
                nxt = (r + dr, c + dc)
                if nxt not in dist and self.is_free(nxt):
                    dist[nxt] = dist[(r, c)] + 1
                    queue.append(nxt)
        return dist

    def shortest_path_length(self) -> int:
        """BFS distance from the start to the nearest treasure."""
        dist = self.distances()
        return min(dist[t] for t in self.treasures)


def parse_map(layout: Sequence[str]) -> MazeMap:
    """Validate a layout and build a :class:`MazeMap`.

    Args:
        layout: Equal-length row strings over the symbols ``'.' ' ' 'o' 'x' 'A'``.

    Returns:
        The parsed map.

    Raises:
        ValueError: If the map is empty, ragged, has an unknown symbol, has no valid start or more than
            one ``'A'``, has no treasure, or has a treasure that cannot be reached from the start.
    """
    if isinstance(layout, str):
        raise ValueError("map must be a sequence of row strings, not a single string")
    rows = list(layout)
    for i, row in enumerate(rows):
        if not isinstance(row, str):
            raise ValueError(f"map row {i} is not a string: {row!r}")
    if not rows or all(len(row) == 0 for row in rows):
        raise ValueError("empty map: it needs at least one non-empty row")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"ragged map: row {i} has length {len(row)} but row 0 has length {width}")
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            if ch not in SYMBOLS:
                valid = ", ".join(repr(s) for s in SYMBOLS)
                raise ValueError(f"unknown symbol {ch!r} at (row {r}, col {c}); valid symbols are {valid}")
    starts = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == START]
    if len(starts) > 1:
        raise ValueError(f"more than one start 'A': found {len(starts)} at {starts}")
    if starts:
        start = starts[0]
    else:
        start = DEFAULT_START
        if not (start[0] < len(rows) and start[1] < width):
            raise ValueError(f"no start: no 'A' in the map and the default start {start} is outside the map")
        if rows[start[0]][start[1]] == WALL:
            raise ValueError(f"start on a wall: no 'A' in the map and the default start {start} is a wall")
    maze = MazeMap(rows=tuple(row.replace(START, FLOOR) for row in rows), start=start)
    if not maze.treasures:
        raise ValueError("no treasure 'o' in the map")
    reachable = maze.distances()
    unreachable = [t for t in maze.treasures if t not in reachable]
    if unreachable:
        raise ValueError(f"treasure unreachable from the start {start}: {unreachable}")
    return maze


def random_map(rows: int, cols: int, rng: np.random.Generator, traps: int = 0) -> list[str]:
    """Generate a random maze with a guaranteed path from ``(1, 1)`` to the treasure.

    A wall border surrounds a randomized-DFS perfect maze carved on the odd cells; a few extra walls are
    knocked out to create loops. The treasure goes on the free cell farthest from the start and ``traps``
    traps on random free cells other than start and treasure. Deterministic for a given ``rng`` state.

    Args:
        rows: Number of rows (>= 5).
        cols: Number of columns (>= 5).
        rng: Source of randomness.
        traps: Number of traps to place (>= 0).

    Returns:
        The map as a list of row strings (no ``'A'``; the start is ``(1, 1)``).

    Raises:
        ValueError: If ``rows`` or ``cols`` is below 5, or ``traps`` is negative or too large.
    """
    if rows < 5 or cols < 5:
        raise ValueError(f"random maze needs rows >= 5 and cols >= 5, got rows={rows}, cols={cols}")
    if traps < 0:
        raise ValueError(f"traps must be >= 0, got {traps}")
    grid = np.full((rows, cols), WALL, dtype="<U1")
    in_maze = lambda r, c: 1 <= r <= rows - 2 and 1 <= c <= cols - 2  # noqa: E731
    grid[1, 1] = FLOOR
    stack = [(1, 1)]
    while stack:
        r, c = stack[-1]
        options = [(r + 2 * dr, c + 2 * dc) for dr, dc in zip(DX, DY, strict=True)]
        options = [(nr, nc) for nr, nc in options if in_maze(nr, nc) and grid[nr, nc] == WALL]
        if not options:
            stack.pop()
            continue
        nr, nc = options[int(rng.integers(len(options)))]
        grid[(r + nr) // 2, (c + nc) // 2] = FLOOR
        grid[nr, nc] = FLOOR
        stack.append((nr, nc))
    # Knock out interior walls lying between two free cells to create loops.
    candidates = []
    for r in range(1, rows - 1):
        for c in range(1, cols - 1):
            if grid[r, c] != WALL:
                continue
            vertical = grid[r - 1, c] == FLOOR and grid[r + 1, c] == FLOOR
            horizontal = grid[r, c - 1] == FLOOR and grid[r, c + 1] == FLOOR
            if vertical != horizontal:
                candidates.append((r, c))
    n_extra = min(len(candidates), max(1, (rows * cols) // 25))
    for i in rng.permutation(len(candidates))[:n_extra]:
        grid[candidates[i]] = FLOOR
    maze = MazeMap(rows=tuple("".join(row) for row in grid), start=DEFAULT_START)
    dist = maze.distances()
    treasure = max(dist, key=lambda p: (dist[p], p))
    grid[treasure] = TREASURE
    free = sorted(p for p in dist if p not in (DEFAULT_START, treasure))
    if traps > len(free):
        raise ValueError(f"traps={traps} but only {len(free)} free cells are available for traps")
    for i in rng.permutation(len(free))[:traps]:
        grid[free[i]] = TRAP
    return ["".join(row) for row in grid]
