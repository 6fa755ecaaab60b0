"""``videogen`` director commands refuse bad arguments with one line on stderr and exit 2, before any Prefect
server starts or any file is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_storyboard import _board
from tests.flows.test_cli import videogen


def _result(folder: Path, clips: int = 3) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "result.json").write_text(json.dumps({"job_id": "job-1", "clips": [{}] * clips}))
    return folder


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["regenerate", "{dir}", "--clip", "3"], "no clip 3"),  # clips 0-2
        (["regenerate", "{dir}", "--clip", "1", "--variants", "50"], "50 variants"),
        (["regenerate", "{dir}/missing", "--clip", "1"], "no result.json"),
        (["choose", "{dir}", "--clip", "7", "--version", "1"], "no clip 7"),
    ],
)
def test_director_commands_refuse_bad_arguments(tmp_path: Path, args: list[str], words: str) -> None:
    folder = _result(tmp_path / "out")
    before = sorted(p.name for p in folder.iterdir())
    run = videogen(*[a.replace("{dir}", str(folder)) for a in args], timeout=60)
    assert run.returncode == 2, run.stderr
    assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert sorted(p.name for p in folder.iterdir()) == before


def test_render_refuses_a_storyboard_with_a_cut_off_the_beat(tmp_path: Path) -> None:
    """Tried: the 30 s storyboard of tests/core with cut 2 moved from 12.0 s to 11.7 s (no beat there)."""
    board = _board()
    bad = board.model_copy(update={"cuts": [4.0, 8.0, 11.7, 16.0, 20.0, 24.0]})
    path = tmp_path / "storyboard.json"
    path.write_text(bad.model_dump_json())
    out = tmp_path / "out"
    run = videogen("render", str(tmp_path / "song.mp3"), "--prompt", "x", "--storyboard", str(path), "--out",
                   str(out), timeout=60)  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "cuts[2]: 11.700 s is not a detected beat" in run.stderr, run.stderr
    assert not out.exists()


def test_edit_splits_merges_and_locks_a_storyboard_file_in_place(tmp_path: Path) -> None:
    """Tried on the 30 s storyboard of tests/core (7 clips, the last 24-30 s): --split 6 gives 8 clips cut at
    27 s; --lock 6 then --merge 5 (into the locked clip) is refused, as are a merge past the 7 s limit, a clip that
    does not exist and no operation at all: each one line on stderr, exit 2, the file unchanged."""
    path = tmp_path / "storyboard.json"
    path.write_text(_board().model_dump_json())
    run = videogen("edit", str(path), "--split", "6", timeout=60)
    assert run.returncode == 0, run.stderr
    board = json.loads(path.read_text())
    assert len(board["clips"]) == 8 and board["cuts"][-1] == 27.0 and board["estimate"]["clips"] == 8
    assert videogen("edit", str(path), "--lock", "6", timeout=60).returncode == 0
    locked = path.read_text()
    assert json.loads(locked)["clips"][6]["locked"] is True
    for args, words in (
        (["--merge", "5"], "clip 6 is locked"),
        (["--merge", "0"], "8.00 s"),
        (["--split", "12"], "no clip 12"),
        ([], "give one of"),
        (["--lock", "1", "--unlock", "2"], "give one of"),
    ):
        run = videogen("edit", str(path), *args, timeout=60)
        assert run.returncode == 2, (args, run.stderr)
        assert words in run.stderr and len(run.stderr.strip().splitlines()) == 1, (args, run.stderr)
        assert path.read_text() == locked
