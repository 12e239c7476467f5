"""Where a sweep's populations train, and the Ray backend's settings. Keras-free and Ray-free:
the CLI's parser takes its choices and defaults from here."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from fashion_mlp.errors import ConfigError

BACKENDS = ("local", "ray")  # local: this process, one population after another; ray: Ray Tune
SCHEDULERS = ("fifo", "asha")  # fifo: every population trains all its epochs; asha: Ray Tune's
# ASHA stops the populations that score worst at each rung (1, 4, 16... epochs by default)
RAY_MISSING = "--backend ray needs Ray, an optional extra: pip install 'fashion-mlp[ray]'"


@dataclass(frozen=True)
class RayConfig:
    """How a sweep runs on Ray: which cluster, what each population reserves, scheduling and
    retries. Each population of the sweep is one Ray Tune trial."""

    address: str | None = None  # None = start a Ray on this machine for the sweep; "auto" = the
    # cluster this machine joined (`ray start`); HOST:PORT = that cluster's head node
    cpus_per_trial: float = 1.0  # CPUs Ray reserves per population: how many train at once on
    # a node (JAX itself uses every core it sees)
    gpus_per_trial: float = 0.0  # GPUs per population; a fraction (0.25) shares a GPU by four
    scheduler: str = "fifo"  # fifo | asha (see SCHEDULERS)
    grace_period: int = 1  # asha: epochs every population trains before it may be stopped
    reduction_factor: int = 4  # asha: Ray's default; a quarter of the populations go on per rung
    max_failures: int = 2  # times a population is retried when its worker dies (0 = never);
    # a retry continues from the population's last after-epoch checkpoint

    def __post_init__(self):
        check_ray_config(self)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_ray_config(config: RayConfig) -> None:
    """Each setting checked; errors name the flag, the value and what it takes."""
    if not config.cpus_per_trial > 0:
        raise ConfigError(
            f"--cpus-per-trial {config.cpus_per_trial}: expected a number of CPUs > 0 "
            "(a fraction such as 0.5 is allowed)"
        )
    gpus = config.gpus_per_trial
    if gpus < 0 or (gpus > 1 and not float(gpus).is_integer()) or math.isnan(gpus):
        raise ConfigError(
            f"--gpus-per-trial {gpus}: expected 0 (no GPU), a fraction up to 1 (0.25 shares "
            "one GPU by four populations) or a whole number of GPUs"
        )
    if config.scheduler not in SCHEDULERS:
        raise ConfigError(f"--scheduler {config.scheduler!r}: expected one of {SCHEDULERS}")
    for flag, value, low in (
        ("--grace-period", config.grace_period, 1),
        ("--reduction-factor", config.reduction_factor, 2),
        ("--max-failures", config.max_failures, 0),
    ):
        if not isinstance(value, int) or value < low:
            raise ConfigError(f"{flag} {value!r}: expected an integer >= {low}")
    if config.address is not None and not config.address.strip():
        raise ConfigError("--address '': expected auto or HOST:PORT of a Ray head node")


def ray_config(stored: dict[str, Any], **overrides: Any) -> RayConfig:
    """A RayConfig from trials.json's backend table, with the given settings (not None) over it."""
    known = RayConfig.__dataclass_fields__
    fields = {key: value for key, value in stored.items() if key in known}
    given = {key: value for key, value in overrides.items() if value is not None}
    return RayConfig(**fields | given)
