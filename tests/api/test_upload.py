"""The upload's audio check, in process (no stack): the API refuses what the CLI and the analysis refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

from api.main import create_app
from api.upload import check_upload
from core.media import cut_audio
from core.settings import Settings


@pytest.fixture(scope="module")
def song(vibe_ace: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_audio(vibe_ace, tmp_path_factory.mktemp("song") / "vibe8.mp3", start=20, seconds=8)


def _wav(path: Path, samples: np.ndarray) -> bytes:
    sf.write(path, samples.astype(np.float32), 22050)
    return path.read_bytes()


def test_refused_uploads_are_problems_without_server_paths(tmp_path: Path, song: Path) -> None:
    """Tried: text, the first 2 KB of an MP3, an empty file, 10 s of silence (refused at upload now, not by a
    failed flow run), a 2 s beep: each an RFC 9457 problem with the check's words, no path, no files left."""
    data_dir = tmp_path / "data"
    beep = np.sin(2 * np.pi * 440 * np.arange(2 * 22050) / 22050) * 0.3
    cases = [
        (b"this is not a song\n" * 50, 415, "not a supported audio file (MP3, WAV, OGG, FLAC, M4A)"),
        (song.read_bytes()[:2048], 422, "truncated or corrupt"),
        (b"", 422, "the file is empty"),
        (_wav(tmp_path / "silent.wav", np.zeros(10 * 22050)), 422, "the song is silent"),
        (_wav(tmp_path / "beep.wav", beep), 422, "the song is too short (2.0 s; the minimum is 7 s)"),
    ]
    with TestClient(create_app(Settings(data_dir=data_dir))) as client:
        for content, status, words in cases:
            r = client.post("/api/jobs", files={"audio": ("song.mp3", content)}, data={"prompt": "neon city"})
            assert r.status_code == status, r.text
            body = r.json()
            assert words in body["detail"] and str(data_dir) not in body["detail"], body
            if status == 422:
                assert (body["error"], body["stage"]) == ("invalid_audio", "audio"), body
    assert not any((data_dir / "jobs").glob("*"))


def test_check_upload_returns_the_decoded_facts(song: Path) -> None:
    """Tried: an 8 s MP3 cut from Vibe Ace -> mp3, 8 s by decoding (+-0.06: the encoder's padding)."""
    facts = check_upload(song, Settings().audio)
    assert facts.format == "mp3" and facts.duration == pytest.approx(8.0, abs=0.06)
