"""Keras's EarlyStopping rules for one member of a population, which stops on its own while
the others go on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class MemberStop:
    """One member's early-stopping record, under Keras's EarlyStopping rules (min_delta 0)."""

    best: float | None = None
    best_epoch: int = 0
    wait: int = 0
    stopped_epoch: int | None = None  # 0-based epoch it stopped after; None = still training

    def update(self, epoch: int, value: float, patience: int) -> bool:
        """Record epoch's monitored value; True when the member's weights are the new best."""
        self.wait += 1
        if self.best is None or value < self.best:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return True
        if self.wait >= patience and epoch > 0:
            self.stopped_epoch = epoch
        return False
