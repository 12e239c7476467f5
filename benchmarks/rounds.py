"""Interleaved rounds for the benchmarks that time each variant in its own process."""

from __future__ import annotations

from collections.abc import Callable


def interleaved_rounds(
    names: list[str], rounds: int, run: Callable[[str], dict], describe: Callable[[dict], str]
) -> dict[str, list[dict]]:
    """Every variant once per round, each round in a rotated order, so that a busy spell of
    the machine slows all variants alike; variant -> its results. Prints each as it ends."""
    results: dict[str, list[dict]] = {name: [] for name in names}
    for number in range(rounds):
        shift = number % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(run(name))
            print(f"round {number + 1}: {name}: {describe(results[name][-1])}", flush=True)
    return results
