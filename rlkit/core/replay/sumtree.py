"""A sum tree (with a min tree beside it) for proportional prioritised replay (Schaul et al., 2016).

Leaves hold priorities (already raised to alpha); each inner node holds the sum and the minimum of its
children, so drawing a leaf with probability p_i / sum(p) and finding min(p) both take O(log N).
Everything is vectorised over the batch: updates and draws loop over the tree's depth only, never over
the batch. Parents are recomputed from their children (never patched by deltas), so sums do not drift.
A zero leaf is never drawn: the descent never enters a subtree whose sum is zero.
"""

from __future__ import annotations

import numpy as np

SCALAR_UPDATES = 4  # up to this many leaves, a plain Python walk up the tree beats vectorised numpy calls


class SumTree:
    """Priorities of `size` slots (all zero at first) in a binary tree of sums and minima."""

    def __init__(self, size: int):
        self.size = int(size)
        self.depth = max(1, (self.size - 1).bit_length())
        self.leaves = 1 << self.depth
        self.sums = np.zeros(2 * self.leaves, dtype=np.float64)
        self.mins = np.full(2 * self.leaves, np.inf, dtype=np.float64)  # a zero leaf does not count

    @property
    def total(self) -> float:
        """Sum of all priorities."""
        return float(self.sums[1])

    @property
    def min(self) -> float:
        """Smallest non-zero priority (inf when every priority is zero)."""
        return float(self.mins[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the tree's arrays."""
        return self.sums.nbytes + self.mins.nbytes

    def get(self, indices: np.ndarray) -> np.ndarray:
        """Priorities of the given slots."""
        return self.sums[np.asarray(indices, dtype=np.int64) + self.leaves]

    def priorities(self) -> np.ndarray:
        """All `size` priorities (a copy)."""
        return self.sums[self.leaves : self.leaves + self.size].copy()

    def update(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Sets the priorities of `indices` (values >= 0; with repeated indices the last value wins)."""
        idx = np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            return
        vals = np.broadcast_to(np.asarray(values, dtype=np.float64), idx.shape)
        if idx.size > 1:  # keep the last value of each repeated index, whatever numpy's write order
            rev_unique, rev_first = np.unique(idx[::-1], return_index=True)
            idx, vals = rev_unique, vals[::-1][rev_first]
        if idx.size <= SCALAR_UPDATES:
            self._update_few(idx.tolist(), vals.tolist())
            return
        node = idx + self.leaves
        self.sums[node] = vals
        self.mins[node] = np.where(vals > 0, vals, np.inf)
        self._refresh(node)

    def _update_few(self, indices: list[int], values: list[float]) -> None:
        """The same as update, one leaf at a time: faster than numpy calls for a handful of leaves."""
        sums, mins = self.sums, self.mins
        for i, value in zip(indices, values):
            node = i + self.leaves
            sums[node], mins[node] = value, value if value > 0 else np.inf
            node >>= 1
            while node:
                left = node << 1
                sums[node] = sums[left] + sums[left + 1]
                mins[node] = min(mins[left], mins[left + 1])
                node >>= 1

    def set_all(self, values: np.ndarray) -> None:
        """Replaces every priority at once (used when loading a saved buffer)."""
        vals = np.asarray(values, dtype=np.float64)
        self.sums[:] = 0.0
        self.mins[:] = np.inf
        self.sums[self.leaves : self.leaves + self.size] = vals
        self.mins[self.leaves : self.leaves + self.size] = np.where(vals > 0, vals, np.inf)
        for level in range(self.depth - 1, -1, -1):
            lo, hi = 1 << level, 2 << level
            self.sums[lo:hi] = self.sums[2 * lo : 2 * hi : 2] + self.sums[2 * lo + 1 : 2 * hi : 2]
            self.mins[lo:hi] = np.minimum(self.mins[2 * lo : 2 * hi : 2], self.mins[2 * lo + 1 : 2 * hi : 2])

    def _refresh(self, node: np.ndarray) -> None:
        """Recomputes the ancestors of `node` (all at the leaf level), one level at a time."""
        sums, mins = self.sums, self.mins
        sum_pairs, min_pairs = sums.reshape(-1, 2), mins.reshape(-1, 2)  # row p holds the children of p
        for _ in range(self.depth):
            node = node >> 1
            pair = sum_pairs[node]
            sums[node] = pair[:, 0] + pair[:, 1]
            mins[node] = min_pairs[node].min(axis=1)

    def find(self, mass: np.ndarray) -> np.ndarray:
        """The slot where each cumulative `mass` in [0, total) falls (a batch, one descent per level)."""
        u = np.asarray(mass, dtype=np.float64).copy()
        node = np.ones(u.shape, dtype=np.int64)
        sums = self.sums
        for _ in range(self.depth):
            left = node << 1
            left_sum = sums[left]
            right = ((u >= left_sum) & (sums[left + 1] > 0)) | (left_sum <= 0)
            u -= np.where(right, left_sum, 0.0)
            node = left + right
        return node - self.leaves

    def sample(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """Draws `batch_size` slots with probability proportional to priority (stratified, as in Schaul)."""
        total = self.sums[1]
        if not total > 0:
            raise ValueError("cannot sample from a sum tree whose priorities are all zero")
        mass = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        return self.find(np.minimum(mass, np.nextafter(total, 0.0)))
