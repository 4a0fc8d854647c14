"""What Q-learning and SARSA learn on the book's mazes (chapters 18-19), through the real runner.

Measured facts these tests pin down (README "What the tabular agents learn" explains them):
- Simple map, the book's settings (epsilon 0.1, alpha 0.1, gamma 0.9, 200 episodes): every seed reaches the
  treasure; most, not all, find the 6-step shortest path, because constant epsilon=0.1 explores too little for
  every Q value to converge in 200 episodes. With epsilon decaying from 1 to 0 over the first 2000 steps,
  every seed finds it in the same 200 episodes.
- Trap map: Q-learning reaches the treasure around the traps (return 100, as the book reports); SARSA, on its
  book seed (1), stays away and never reaches it (the book's "timid" SARSA). Yet the gamma=0.9 optimum walks
  through one trap: 100*0.9**5 - 5*0.9**3 = 55.4 beats the detour's 100*0.9**7 = 47.8.
"""

from __future__ import annotations

import itertools

import pytest

from rlkit.envs.maze_maps import DX, DY, TRAPS, parse_map

from ..conftest import train_in_process

BOOK = {"q_learning": "+experiment=book_q_learning", "sarsa": "+experiment=book_sarsa"}
SEEDS = range(10)


def final_evals(tmp_path, *overrides: str) -> list[dict]:
    return [
        train_in_process(tmp_path / f"s{seed}", *overrides, f"seed={seed}")["final_eval"] for seed in SEEDS
    ]


@pytest.mark.parametrize("agent", ["q_learning", "sarsa"])
def test_simple_maze_learned_in_the_books_200_episodes(tmp_path, agent: str) -> None:
    evals = final_evals(tmp_path, BOOK[agent], "env=maze", "eval.every=0")
    assert all(e["return_min"] == 100.0 for e in evals)  # every seed's greedy policy reaches the treasure
    lengths = [e["length_mean"] for e in evals]
    assert all(length <= 8 for length in lengths)
    assert sum(length == 6 for length in lengths) >= 7  # the shortest path on most seeds


@pytest.mark.parametrize("agent", ["q_learning", "sarsa"])
def test_decaying_epsilon_finds_the_shortest_path_on_every_seed(tmp_path, agent: str) -> None:
    decay = ["agent.epsilon=1.0", "agent.epsilon_final=0.0", "agent.epsilon_decay_steps=2000"]
    evals = final_evals(tmp_path, BOOK[agent], "env=maze", "eval.every=0", *decay)
    assert [e["length_mean"] for e in evals] == [6.0] * len(SEEDS)
    assert all(e["return_mean"] == 100.0 for e in evals)


def test_trap_maze_q_learning_detours_and_sarsa_keeps_away(tmp_path) -> None:
    q = final_evals(tmp_path / "q", BOOK["q_learning"], "env=maze_traps", "eval.every=0")
    assert all(e["return_min"] == 100.0 for e in q)  # treasure reached, no trap stepped on
    assert all(e["length_mean"] > 6 for e in q)  # the detour around the traps
    sarsa = final_evals(tmp_path / "s", BOOK["sarsa"], "env=maze_traps", "eval.every=0")
    book_seed = sarsa[1]  # the book runs SARSA with seed 1
    assert book_seed["return_max"] == 0.0 and book_seed["length_mean"] == 50.0  # never reaches it
    assert sum(e["return_mean"] == 0.0 for e in sarsa) >= 2  # SARSA fails where Q-learning never does


def optimal_start_value(layout: list[str], gamma: float) -> float:
    """Value iteration over (position, traps left): the true optimum, independent of rlkit's env code."""
    maze = parse_map(layout)
    traps = tuple(maze.traps)
    cells = [(r, c) for r in range(maze.height) for c in range(maze.width) if maze.is_free((r, c))]
    states = [(pos, left) for pos in cells for left in itertools.product([False, True], repeat=len(traps))]
    value = dict.fromkeys(states, 0.0)
    for _ in range(200):
        for pos, left in states:
            if maze.rows[pos[0]][pos[1]] == "o":
                continue  # terminal
            best = -1e9
            for dr, dc in zip(DX, DY):
                nxt = (pos[0] + dr, pos[1] + dc)
                nxt = nxt if maze.is_free(nxt) else pos
                reward, nleft = 0.0, list(left)
                if nxt in traps and left[traps.index(nxt)]:
                    reward, nleft[traps.index(nxt)] = -5.0, False
                if maze.rows[nxt[0]][nxt[1]] == "o":
                    best = max(best, reward + 100.0)
                else:
                    best = max(best, reward + gamma * value[(nxt, tuple(nleft))])
            value[(pos, left)] = best
    return value[(maze.start, (True,) * len(traps))]


def test_gamma_09_optimum_on_the_trap_map_walks_through_one_trap() -> None:
    gamma = 0.9
    through_trap = -5 * gamma**3 + 100 * gamma**5  # down, right x3 (trap at (2,4)), right x2
    detour = 100 * gamma**7
    assert through_trap == pytest.approx(55.404, abs=1e-3) and detour == pytest.approx(47.830, abs=1e-3)
    assert optimal_start_value(TRAPS, gamma) == pytest.approx(through_trap)
