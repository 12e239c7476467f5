"""Where a population's arrays live. On a CPU with several JAX devices (fashion_mlp.backend
gives JAX one per core), the member axis is split over them, so that every core trains its share
of the members in parallel: each member's step is too small for XLA to spread over cores
itself. The data is copied to each of those devices; an accelerator keeps everything on one.
"""

from __future__ import annotations

import math

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

MEMBER_AXIS = "members"


def member_device_count(members: int, devices: list) -> int:
    """How many of `devices` share `members` members: the most CPU devices that split them
    evenly (1 on an accelerator, where one device already runs them all at once)."""
    if devices[0].platform != "cpu":
        return 1
    return max(count for count in range(1, len(devices) + 1) if members % count == 0)


def padded_size(members: int, most: int, devices: list) -> int:
    """How many member slots a program of `members` gets: on CPU devices, the next multiple of
    the device count when that spreads the members over more cores (5 members on 2 cores: 6
    slots, 3 per core, instead of 5 on one core) and stays within `most`. The extra slots
    train copies of a member that are never kept: time on an idle core, nothing else."""
    count = len(devices)
    padded = math.ceil(members / count) * count
    per_device_unpadded = members / member_device_count(members, devices)
    if devices[0].platform != "cpu" or padded > most or padded // count >= per_device_unpadded:
        return members
    return padded


class MemberPlacement:
    """Puts a population's arrays on its devices: per-member arrays (leading member axis)
    split over them, shared arrays (data, validation batches) copied to each."""

    def __init__(self, members: int, devices: list | None = None):
        devices = list(devices or jax.devices())
        self.devices = tuple(devices[: member_device_count(members, devices)])
        if len(self.devices) == 1:
            self._split = self._whole = SingleDeviceSharding(self.devices[0])
        else:
            mesh = Mesh(np.array(self.devices), (MEMBER_AXIS,))
            self._split = NamedSharding(mesh, PartitionSpec(MEMBER_AXIS))
            self._whole = NamedSharding(mesh, PartitionSpec())

    def split(self, tree):
        """Per-member arrays, their member axis spread over the devices."""
        return jax.device_put(tree, self._split)

    def whole(self, tree):
        """Arrays every member reads, complete on each device."""
        return jax.device_put(tree, self._whole)


class DeviceData:
    """The training and validation arrays, put on a population's devices once for every
    population that trains on the same ones."""

    def __init__(self, x_train, y_train, x_val, y_val):
        self.num_train = len(x_train)
        self.host = (x_train, y_train, x_val, y_val)
        self.placed: dict[tuple, tuple] = {}  # devices -> (x, y, validation or None)
        self.host_bytes = sum(array.nbytes for array in self.host if array is not None)

    def on(self, placement: MemberPlacement) -> tuple:
        """(x, y, validation or None) on `placement`'s devices, copied there the first time."""
        if placement.devices not in self.placed:
            x_train, y_train, x_val, y_val = self.host
            validation = None if x_val is None else placement.whole((x_val, y_val))
            self.placed[placement.devices] = (*placement.whole((x_train, y_train)), validation)
        return self.placed[placement.devices]
