"""The server's limits and sizes, each with its reason: the one place they are set.

The CLI's flags (host, port, token, runs folder) are in `cli/parser.py`; these are the
settings a deployment rarely changes, passed to `create_app` as one object.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServeSettings:
    runs_dir: Path = Path("runs")  # the folder of run folders; nothing outside it is served
    token: str | None = None  # required on every request when set (needed off loopback)
    # Without a token only these Host headers are answered: a web page whose domain an attacker
    # re-points at 127.0.0.1 (DNS rebinding) sends its own name and gets 400.
    loopback_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1", "[::1]")
    data_name: str | None = None  # trainings' data set; None = each preset's (Fashion-MNIST)
    data_dir: str | None = None  # folder searched first for it; None = the usual sources
    runtime: str = "auto"  # Predictor's: auto (the fastest in-process pass) or onnx (onnxruntime)
    max_request_bytes: int = 32 * 2**20  # a few phone photos; larger bodies get 413 unread
    # Other bodies (JSON): 64 images of 784 numbers pretty-printed are under 1 MB; parsed, a body
    # costs at most about 10 times its size, so this also bounds a request's memory.
    max_json_bytes: int = 2 * 2**20
    max_upload_bytes: int = 20 * 2**20  # one photo: a 48-Mpx phone JPEG is about 15 MB
    max_images_per_request: int = 64  # a gallery at once; more is a batch job, not a request
    max_top_k: int = 10  # every class of a 10-class model
    predictor_cache_size: int = 4  # warm models kept (each ~1 MB for the notebook's MLP)
    test_set_cache_size: int = 2  # runs' test sets with predictions kept (~9 MB each)
    max_listed_images: int = 200  # images in one test-set listing (a page of thumbnails)
    max_explained_images: int = 16  # attributions cost (steps + 1) passes each: a gallery, no more
    map_cache_size: int = 2  # runs' test-set maps kept warm, with their neighbour index (~2 MB)
    max_queued_trainings: int = 8  # waiting trainings; more is refused (429), not queued
    concurrent_trainings: int = 1  # trainings at a time: the CPU is shared with predictions
    # Trainings over HTTP larger than these are refused before they start: the `best` preset has
    # about 1.9 M parameters; 20 M is a wide net that still trains on a laptop.
    max_training_parameters: int = 20_000_000
    max_training_memory_bytes: int = 4 * 2**30  # estimated weights, optimizer state, one batch
    # Connections: a request (headers and body) must arrive whole within request_timeout_s; an
    # idle keep-alive one is closed after idle_timeout_s; a connection that makes max_connections
    # closes the oldest one still sending its request, so a new /health request always gets in.
    request_timeout_s: float = 30.0  # a 20 MB photo over a slow uplink
    idle_timeout_s: int = 5  # uvicorn's default keep-alive
    max_connections: int = 1000  # a busy page holds 6; each costs a socket and a few KB
    progress_interval_s: float = 0.25  # step-progress events at most 4 a second per training

    @property
    def runs_root(self) -> Path:
        """The runs folder, absolute and with links resolved: every run must lie inside it."""
        return self.runs_dir.resolve()

    def to_json(self) -> str:
        """The settings as JSON, for the server's worker processes."""
        return json.dumps(dataclasses.asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """The settings that `to_json` wrote."""
        values = json.loads(text)
        values["runs_dir"] = Path(values["runs_dir"])
        values["loopback_hosts"] = tuple(values["loopback_hosts"])
        return cls(**values)
