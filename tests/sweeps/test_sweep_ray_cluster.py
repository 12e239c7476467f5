"""The Ray backend on a two-node cluster on this machine (Ray's `cluster_utils.Cluster`): the
populations train on both nodes, and one whose worker process is killed is retried from its
checkpoint, so the sweep still finishes with every trial's results."""

from __future__ import annotations

import json
import os
import signal

import pytest
import ray
from conftest import synthetic_dataset, write_idx_dataset
from ray.cluster_utils import Cluster

from fashion_mlp.runs import RunDir
from fashion_mlp.sweeps.backends import RayConfig
from fashion_mlp.sweeps.ray_backend import run_sweep_on_ray
from fashion_mlp.sweeps.spec import sweep_spec

pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray")]  # one Ray at a time, in one worker


@pytest.fixture
def two_nodes():
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def test_populations_spread_over_two_nodes_and_a_killed_worker_is_retried(two_nodes, tmp_path):
    data = write_idx_dataset(tmp_path / "data", synthetic_dataset(300, 100, seed=2))
    spec = sweep_spec(
        {
            "preset": "smoke",
            "axes": {"training.seed": [0, 1]},
            "base": {"data": {"name": str(data), "train_limit": 0, "test_limit": 0}},
            "sweep": {"members_per_population": 1},
        }
    )
    killed = []

    def kill_first_worker(kind, **details):  # once population 0's first worker has started
        if kind == "population" and details["number"] == 0 and not killed:
            killed.append(details["node"])
            os.kill(details["pid"], signal.SIGKILL)

    settings = RayConfig(address=two_nodes.address, max_failures=1)
    result = run_sweep_on_ray(
        spec, tmp_path / "sweeps", tmp_path / "runs", settings, on_event=kill_first_worker
    )

    assert killed and not ray.is_initialized()
    assert len(result.rows) == 2
    state = json.loads((result.sweep_dir / "trials.json").read_text(encoding="utf-8"))
    first, second = (entry["ray"] for entry in state["trials"])
    assert first["failures"] == 1 and len(first["nodes"]) == 2  # killed once, then retried
    assert second["failures"] == 0
    nodes = {node.node_id for node in two_nodes.list_all_nodes()}
    assert {first["nodes"][0], second["nodes"][0]} == nodes  # both at once, one on each node
    for entry in state["trials"]:
        run = RunDir(entry["run"])
        assert run.is_finished and len(run.read_history()["loss"]) == 2
