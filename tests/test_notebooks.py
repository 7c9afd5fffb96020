"""The notebooks in notebooks/ run, cell by cell, against a live server: a failing cell fails the suite."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def served(demo_path, tmp_path_factory):
    from conftest import serving

    with serving(str(demo_path), tmp_path_factory.mktemp("notebooks")) as server:
        yield server


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_against_the_service(path, served, monkeypatch, tmp_path):
    monkeypatch.setenv("WIJKPLAN_URL", served.url)
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(
        o.output_type in ("display_data", "execute_result") and "image/png" in o.get("data", {}) for o in outputs
    )


def test_there_is_a_notebook_for_the_analyst_and_for_the_planner():
    assert {p.stem for p in NOTEBOOKS} == {"analist", "planner"}
