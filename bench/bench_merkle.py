"""Merkle tree: root, compact-range appends, and proof generation/verification at n = 1,000,000.

Pure Python, hashing only (no storage). Each figure is the median of several runs.
"""

from __future__ import annotations

import hashlib
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from consentkit.audit.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

N = 1_000_000


def _median_seconds(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(n: int = N, runs: int = 3, proofs: int = 5) -> dict[str, float]:
    """Measure the Merkle operations over ``n`` random leaf hashes; returns named figures."""
    rng = random.Random(20261123)
    leaves = [hashlib.sha256(rng.randbytes(16)).digest() for _ in range(n)]
    tree_root = _median_seconds(lambda: root(leaves), runs)
    head = root(leaves)

    def appends() -> None:
        compact = CompactRange()
        compact.extend(leaves)

    append_seconds = _median_seconds(appends, runs)
    indices = [rng.randrange(n) for _ in range(proofs)]
    sizes = [rng.randrange(1, n) for _ in range(proofs)]
    incl = {i: inclusion_proof(leaves, i, n) for i in indices}
    cons = {s: consistency_proof(leaves, s, n) for s in sizes}
    old_roots = {s: root(leaves[:s]) for s in sizes}
    verify_runs = 200
    return {
        "leaves": float(n),
        "root_s": tree_root,
        "compact_range_appends_per_s": n / append_seconds,
        "inclusion_proof_generation_s": statistics.median(
            _median_seconds(partial(inclusion_proof, leaves, i, n), 1) for i in indices
        ),
        "inclusion_proof_verification_us": 1e6
        * statistics.median(
            _median_seconds(partial(verify_inclusion, leaves[i], i, n, incl[i], head), verify_runs) for i in indices
        ),
        "consistency_proof_generation_s": statistics.median(
            _median_seconds(partial(consistency_proof, leaves, s, n), 1) for s in sizes
        ),
        "consistency_proof_verification_us": 1e6
        * statistics.median(
            _median_seconds(partial(verify_consistency, s, n, old_roots[s], head, cons[s]), verify_runs) for s in sizes
        ),
    }


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:36} {value:,.3f}")
