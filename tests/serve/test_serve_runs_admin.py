"""Keeping runs over HTTP: the page's facts in the runs list (sweep, ensemble, planned epochs,
cancelled), renaming and tagging, deleting (never a run being trained), the default run."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient
from serve_fixtures import copy_run, make_run, serve_dataset

from fashion_mlp.runs import RunDir
from fashion_mlp.serve import ServeSettings, create_app

pytestmark = pytest.mark.xdist_group("serve-runs-admin")


def edit_metrics(run: RunDir, **values) -> None:
    run.write_metrics(run.read_metrics() | values)


@pytest.fixture(scope="module")
def kept(tmp_path_factory):
    """A plain run, a sweep trial, an ensemble and an unfinished run, served."""
    root = tmp_path_factory.mktemp("kept")
    data = serve_dataset(root / "data")
    runs_dir = root / "runs"
    plain = make_run(runs_dir, data, "plain")
    trial = copy_run(plain, "trial", {})
    sweep = {"sweep": str(root / "sweeps" / "20261129-lr"), "number": 0, "members": 2}
    edit_metrics(trial, population=sweep, engine="population")
    ensemble = copy_run(plain, "ensemble", {})
    members = [{"run": "plain", "test_accuracy": 0.5}, {"run": "trial", "test_accuracy": 0.5}]
    edit_metrics(ensemble, engine="ensemble", ensemble={"members": members})
    copy_run(plain, "unfinished", {"training": {"epochs": 7}}).mark_unfinished()
    app = create_app(ServeSettings(runs_dir=runs_dir, data_name=str(data)))
    return SimpleNamespace(
        client=TestClient(app, base_url="http://127.0.0.1:8000"), runs_dir=runs_dir, app=app
    )


def rows(kept) -> dict[str, dict]:
    return {row["name"]: row for row in kept.client.get("/api/runs").json()}


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


def fake_jobs(kept, monkeypatch, **runs) -> None:
    """This server's trainings, as if jobs trained (run name -> status) these runs."""
    jobs = [
        SimpleNamespace(summary=lambda r=r, s=s: {"run": r, "status": s}) for r, s in runs.items()
    ]
    monkeypatch.setattr(kept.app.state.context.trainings, "list", lambda: jobs)


def test_the_list_says_what_each_run_is(kept):
    listed = rows(kept)
    assert listed["trial"]["kind"] == "trial" and listed["trial"]["sweep"] == "20261129-lr"
    assert listed["ensemble"]["kind"] == "ensemble" and listed["ensemble"]["members"] == 2
    assert listed["plain"]["kind"] == "run" and "sweep" not in listed["plain"]
    unfinished = listed["unfinished"]
    assert (unfinished["status"], unfinished["epochs"], unfinished["epochs_planned"]) == (
        "unfinished",
        0,
        7,
    )
    assert all(row["title"] is None and row["tags"] == [] for row in listed.values())
    assert not any(row["default"] or row["training"] for row in listed.values())


def test_a_run_cancelled_by_this_server_is_listed_as_cancelled(kept, monkeypatch):
    fake_jobs(kept, monkeypatch, unfinished="cancelled", plain="running")
    listed = rows(kept)
    assert listed["unfinished"]["status"] == "cancelled"
    assert listed["plain"]["training"] and listed["plain"]["status"] == "finished"


def test_rename_and_tag_a_run(kept):
    client = kept.client
    renamed = client.patch("/api/runs/plain", json={"title": "  my best  "}).json()
    assert renamed["title"] == "my best" and renamed["name"] == "plain"
    tagged = client.patch("/api/runs/plain", json={"tags": ["keep", "paper v2", "keep"]}).json()
    assert tagged["title"] == "my best" and tagged["tags"] == ["keep", "paper v2"]
    stored = json.loads((kept.runs_dir / "plain" / "labels.json").read_text())
    assert stored == {"title": "my best", "tags": ["keep", "paper v2"]}
    assert rows(kept)["plain"]["tags"] == ["keep", "paper v2"]
    cleared = client.patch("/api/runs/plain", json={"title": None, "tags": []}).json()
    assert (cleared["title"], cleared["tags"]) == (None, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": "x" * 81}, "at most 80"),
        ({"title": "two\nlines"}, "printable"),
        ({"tags": ["no/slash"]}, "tags"),
        ({"tags": [" "]}, "tags"),
        ({"tags": [f"t{i}" for i in range(13)]}, "at most 12"),
        ({"tags": "keep"}, "valid list"),
    ],
    ids=["long-title", "newline", "slash", "blank-tag", "too-many", "not-a-list"],
)
def test_bad_titles_and_tags_are_422(kept, body, message):
    assert message in error_of(kept.client.patch("/api/runs/trial", json=body), 422)
    assert not (kept.runs_dir / "trial" / "labels.json").exists()


@pytest.mark.parametrize("run_id", ["nope", "..", "%2e%2e%2fplain"])
def test_unknown_runs_cannot_be_renamed_or_deleted(kept, run_id):
    assert error_of(kept.client.patch(f"/api/runs/{run_id}", json={"title": "x"}), 404)
    assert error_of(kept.client.delete(f"/api/runs/{run_id}"), 404)


def test_a_damaged_labels_file_is_reported_and_can_be_replaced(kept):
    (kept.runs_dir / "trial" / "labels.json").write_text("{not json")
    assert "labels.json is corrupt" in rows(kept)["trial"]["problem"]
    assert kept.client.patch("/api/runs/trial", json={"title": "fixed"}).json()["title"] == "fixed"
    (kept.runs_dir / "trial" / "labels.json").unlink()


def test_the_default_run(kept):
    client = kept.client
    assert client.get("/api/default-run").json() == {"run": None}
    assert client.put("/api/default-run", json={"run": "ensemble"}).json() == {"run": "ensemble"}
    assert client.get("/api/default-run").json() == {"run": "ensemble"}
    assert [name for name, row in rows(kept).items() if row["default"]] == ["ensemble"]
    assert "only a finished run" in error_of(
        client.put("/api/default-run", json={"run": "unfinished"}), 409
    )
    assert error_of(client.put("/api/default-run", json={"run": "../plain"}), 404)
    assert error_of(client.put("/api/default-run", json={}), 422)
    assert client.put("/api/default-run", json={"run": None}).json() == {"run": None}
    assert not any(row["default"] for row in rows(kept).values())


def test_a_run_being_trained_is_never_deleted(kept, monkeypatch):
    fake_jobs(kept, monkeypatch, plain="running")
    assert "cancel its training" in error_of(kept.client.delete("/api/runs/plain"), 409)
    monkeypatch.undo()
    with RunDir(kept.runs_dir / "plain").lock():  # another trainer holds it
        assert "in use" in error_of(kept.client.delete("/api/runs/plain"), 409)
    assert (kept.runs_dir / "plain" / "model.keras").is_file()


def test_delete_a_run_and_the_default_it_was(kept):
    client = kept.client
    doomed = copy_run(RunDir(kept.runs_dir / "plain"), "doomed", {})
    client.put("/api/default-run", json={"run": "doomed"})
    assert client.delete("/api/runs/doomed").json() == {"deleted": "doomed"}
    assert not doomed.path.exists() and "doomed" not in rows(kept)
    assert client.get("/api/default-run").json() == {"run": None}
    assert error_of(client.delete("/api/runs/doomed"), 404)
