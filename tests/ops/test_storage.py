"""Job storage on a local directory and on a real S3-compatible server (moto's standalone server on loopback):
the same contract for both, tags and lifecycle rules read back from the bucket, signed URLs that download, and a
full render that leaves exactly the expected keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
import redis

from core.contracts import JobResult
from core.errors import StorageError
from core.media import cut_audio, probe
from core.settings import Settings, get_settings
from core.storage import TAG_KEY, JobKeys, Storage
from devtools.databases import RedisServer
from devtools.stack import ROOT
from devtools.workers import MotoS3, PrefectPool, prefect_server
from providers.storage import get_storage
from providers.storage.lifecycle import apply_lifecycle, ensure_bucket, lifecycle_rules, read_lifecycle
from providers.storage.local import LocalStorage
from providers.storage.s3 import S3Storage


def _settings(moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucket: str) -> Settings:
    for name, value in {**moto_s3.env(), "VIDEOGEN_STORAGE__BUCKET": bucket}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VIDEOGEN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture()
def s3_settings(moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """S3 storage on a fresh bucket (created), scratch files in tmp_path; the environment is restored after."""
    settings = _settings(moto_s3, tmp_path, monkeypatch, f"t-{uuid.uuid4().hex[:12]}")
    ensure_bucket(settings.storage)
    yield settings
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "root")
    settings: Settings = request.getfixturevalue("s3_settings")
    return S3Storage(settings.storage, settings.cache_dir)


def test_storage_contract(storage: Storage, tmp_path: Path) -> None:
    """Input tried: a file and bytes put under one job's keys, read back, listed, copied, fetched, deleted."""
    keys = JobKeys("job-1")
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"\x00video" * 1000)
    clip_uri = storage.put_file(keys.clip(0, ".mp4"), src, "intermediate")
    storage.put_bytes(keys.intermediate("plan.json"), b'{"a": 1}', "intermediate")
    assert storage.key(clip_uri) == "jobs/job-1/intermediate/clips/clip-000.mp4"
    assert storage.read_bytes("jobs/job-1/intermediate/plan.json") == b'{"a": 1}'
    assert storage.list("jobs/job-1/") == ["jobs/job-1/intermediate/clips/clip-000.mp4",
                                           "jobs/job-1/intermediate/plan.json"]  # fmt: skip
    assert storage.has(clip_uri) and not storage.exists(keys.final("final.mp4"))
    assert storage.local(clip_uri).read_bytes() == src.read_bytes()
    # adopt: nothing to do for our own key; a copy for another key; an upload for an outside file
    assert storage.adopt(clip_uri, keys.clip(0, ".mp4"), "intermediate") == clip_uri
    final = storage.adopt(clip_uri, keys.final("final.mp4"), "final")
    assert storage.read_bytes(keys.final("final.mp4")) == src.read_bytes() and storage.has(final)
    outside = tmp_path / "song.mp3"
    outside.write_bytes(b"ID3 song")
    song = storage.adopt(outside.as_uri(), keys.input("audio.mp3"), "input")
    assert storage.key(song) == "jobs/job-1/input/audio.mp3"
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("jobs/job-1/intermediate/missing.json")
    assert storage.delete_prefix("jobs/job-1/") == 4 and storage.list("jobs/job-1/") == []


def test_bad_keys_are_refused(tmp_path: Path) -> None:
    """Input tried: job ids and file names that would escape the job's folder."""
    for job_id in ("", "a/b", ".."):
        with pytest.raises(ValueError):
            JobKeys(job_id)
    with pytest.raises(ValueError):
        JobKeys("j").input("..")
    with pytest.raises(StorageError):
        LocalStorage(tmp_path).put_bytes("../outside.json", b"{}", "intermediate")


def test_s3_objects_are_tagged_and_signed_urls_download(s3_settings: Settings) -> None:
    """Input tried: one object of each retention class; the tags and a presigned GET are checked over HTTP."""
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    keys = JobKeys("tagged")
    for kind, key in (("input", keys.input("audio.mp3")), ("intermediate", keys.clip(1, ".json")),
                      ("final", keys.final("final.mp4"))):  # fmt: skip
        storage.put_bytes(key, f"{kind} bytes".encode(), kind)  # type: ignore[arg-type]
        tags = storage.client.get_object_tagging(Bucket=storage.bucket, Key=key)["TagSet"]
        assert tags == [{"Key": TAG_KEY, "Value": kind}], key
    url = storage.signed_url(keys.final("final.mp4"), filename="my video.mp4")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    reply = httpx.get(url)
    assert reply.status_code == 200 and reply.content == b"final bytes"
    assert "attachment" in reply.headers.get("content-disposition", "")


def test_unknown_bucket_is_a_clear_error(moto_s3: MotoS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Input tried: a bucket that does not exist; reading from it fails with StorageError, not a raw botocore error."""
    settings = _settings(moto_s3, tmp_path, monkeypatch, "no-such-bucket-here")
    try:
        with pytest.raises((StorageError, FileNotFoundError)):
            S3Storage(settings.storage, settings.cache_dir).read_bytes("jobs/x/final/final.mp4")
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_lifecycle_rules_read_back_as_configured(s3_settings: Settings) -> None:
    """Input tried: the default retention (intermediates 1 day, finals and inputs 7) applied to a fresh bucket."""
    config = s3_settings.storage
    assert read_lifecycle(config) == []
    rules = {r["ID"]: r for r in apply_lifecycle(config)}
    assert rules["videogen-intermediate"]["Filter"] == {"Tag": {"Key": TAG_KEY, "Value": "intermediate"}}
    assert rules["videogen-intermediate"]["Expiration"] == {"Days": 1}
    assert rules["videogen-final"]["Expiration"] == {"Days": 7}
    assert rules["videogen-input"]["Expiration"] == {"Days": 7}
    assert rules["videogen-prefect-results"]["Filter"] == {"Prefix": "prefect-results/"}
    assert all(r["Status"] == "Enabled" for r in rules.values())
    assert set(rules) == {r["ID"] for r in lifecycle_rules(config)}


def test_apply_lifecycle_command(moto_s3: MotoS3, tmp_path: Path) -> None:
    """Input tried: `videogen infra apply-lifecycle` on a bucket that does not exist yet, with 2-day intermediates;
    again with a CORS origin for the web UI; then on local storage, where it must refuse."""
    bucket = f"cli-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, **moto_s3.env(), "VIDEOGEN_STORAGE__BUCKET": bucket, "COLUMNS": "200",
           "VIDEOGEN_STORAGE__INTERMEDIATE_DAYS": "2", "VIDEOGEN_DATA_DIR": str(tmp_path)}  # fmt: skip
    env.pop("PREFECT_API_URL", None)
    cmd = [sys.executable, "-m", "flows.cli", "infra", "apply-lifecycle", "--no-register-results"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr + done.stdout
    assert f"created bucket {bucket}" in done.stdout and "expire after 2 day(s)" in done.stdout
    client = boto3.client("s3", endpoint_url=moto_s3.endpoint_url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    rules = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert rules["videogen-intermediate"]["Expiration"] == {"Days": 2}
    assert "CORS" not in done.stdout  # no origins configured: no CORS rule
    env["VIDEOGEN_STORAGE__CORS_ORIGINS"] = '["https://videogen.example"]'
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "CORS: GET, HEAD from https://videogen.example" in done.stdout
    cors = client.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert cors[0]["AllowedOrigins"] == ["https://videogen.example"] and "GET" in cors[0]["AllowedMethods"]
    env["VIDEOGEN_STORAGE__BACKEND"] = "local"
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "storage is local" in done.stdout


@pytest.fixture(scope="module")
def short_song(vibe_ace: Path, session_dir: Path) -> Path:
    return cut_audio(vibe_ace, session_dir / "ops-vibe12.mp3", start=5, seconds=12)


def expected_keys(job_id: str, clips: int, suffix: str = ".mp3") -> set[str]:
    base = f"jobs/{job_id}"
    names = {f"{base}/input/audio{suffix}", f"{base}/input/request.json", f"{base}/final/final.mp4",
             f"{base}/final/result.json"}  # fmt: skip
    names |= {f"{base}/intermediate/{n}" for n in ("analysis.json", "analysis.png", "plan.json", "reference.json",
                                                   "reference.png", "prompts.json", "timeline.json")}  # fmt: skip
    names |= {f"{base}/intermediate/clips/clip-{i:03d}{ext}" for i in range(clips) for ext in (".mp4", ".json")}
    return names


@pytest.fixture(scope="module")
def s3_job(moto_s3: MotoS3, prefect_pool: PrefectPool, short_song: Path, session_dir: Path) -> Iterator[JobResult]:
    """One render with S3 storage (a fresh bucket, its own scratch dir) against the suite's real Prefect server;
    the song comes from outside the storage. The environment stays S3 for the module's tests."""
    from flows.music_video import music_video

    with pytest.MonkeyPatch.context() as mp, prefect_server(prefect_pool.api_url):
        settings = _settings(moto_s3, session_dir / "s3-job", mp, f"render-{uuid.uuid4().hex[:10]}")
        ensure_bucket(settings.storage)
        job_id = str(uuid.uuid4())
        yield music_video(audio_uri=short_song.as_uri(), prompt="paper boats on a night river", job_id=job_id)
    get_settings.cache_clear()


def test_full_render_on_s3_leaves_exactly_the_expected_keys(s3_job: JobResult) -> None:
    """Input tried: the render above. The bucket must hold exactly the job's expected keys plus Prefect's task
    results, and the final video must download through a signed URL."""
    job_id = s3_job.job_id
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    assert s3_job.output_uri == f"s3://{storage.bucket}/jobs/{job_id}/final/final.mp4"
    assert all(c.uri and c.uri.startswith(f"s3://{storage.bucket}/jobs/{job_id}/") for c in s3_job.clips)
    everything = storage.list("")
    job_keys = {k for k in everything if k.startswith("jobs/")}
    # one reference image per main character the plan has (issue 16), under the job's intermediate/characters/
    characters = {c.uri.removeprefix(f"s3://{storage.bucket}/") for c in s3_job.reference.characters if c.uri}
    assert all(k.startswith(f"jobs/{job_id}/intermediate/characters/") for k in characters), characters
    assert job_keys == expected_keys(job_id, len(s3_job.clips)) | characters
    results = [k for k in everything if not k.startswith("jobs/")]
    assert results and all(k.startswith("prefect-results/") for k in results)  # any worker can resume from these
    assert len(results) >= len(s3_job.clips) + 5  # audio, plan, reference, prompts x N, clips x N, compose
    reply = httpx.get(storage.signed_url(f"jobs/{job_id}/final/final.mp4"))
    assert reply.status_code == 200 and reply.headers["content-type"] == "video/mp4"
    video = get_settings().data_dir / "downloaded.mp4"
    video.write_bytes(reply.content)
    info = probe(video)
    assert (info.width, info.height) == (1920, 1080)
    assert abs(info.duration - s3_job.audio.duration) <= 1 / 30 + 1e-3


@pytest.fixture(scope="module")
def redis_url(session_dir: Path) -> Iterator[str]:
    server = RedisServer(session_dir / "ops-redis").start()
    try:
        yield server.url()
    finally:
        server.stop()


def test_api_serves_s3_jobs_through_signed_urls(s3_job: JobResult, redis_url: str) -> None:
    """Input tried: the S3 job above, known to the API's Redis; the API runs with S3 storage. Media answers are
    307 redirects to signed URLs that download the right bytes; stage records are read from the bucket."""
    from fastapi.testclient import TestClient

    from api.main import create_app

    job_id = s3_job.job_id
    redis.Redis.from_url(redis_url).hset(f"jobs:{job_id}:meta", mapping={"job_id": job_id})
    settings = get_settings().model_copy(update={"api": get_settings().api.model_copy(update={"redis_url": redis_url})})
    storage = get_storage()
    assert isinstance(storage, S3Storage)
    with TestClient(create_app(settings)) as client:
        video = client.get(f"/api/jobs/{job_id}/video", follow_redirects=False)
        assert video.status_code == 307
        location = video.headers["location"]
        assert location.startswith(f"{get_settings().storage.endpoint_url}/{storage.bucket}/jobs/{job_id}/final/")
        assert "X-Amz-Signature=" in location
        assert httpx.get(location).content == storage.read_bytes(f"jobs/{job_id}/final/final.mp4")
        clips = client.get(f"/api/jobs/{job_id}/clips").json()
        assert clips["complete"] and len(clips["clips"]) == len(s3_job.clips)
        clip = client.get(clips["clips"][0]["url"], follow_redirects=False)
        assert clip.status_code == 307 and "/intermediate/clips/clip-000.mp4" in clip.headers["location"]
        assert client.get(f"/api/jobs/{job_id}/analysis").json()["tempo"] == pytest.approx(s3_job.audio.tempo)
        ref = client.get(f"/api/jobs/{job_id}/reference.png", follow_redirects=False)
        assert ref.status_code == 307 and httpx.get(ref.headers["location"]).content.startswith(b"\x89PNG")
        mov = client.get(f"/api/jobs/{job_id}/video?format=mov")
        assert mov.status_code == 200 and mov.headers["content-type"] == "video/quicktime"
        assert client.get(f"/api/jobs/{uuid.uuid4()}/video").status_code == 404  # unknown job: nothing leaks


def test_operator_artifacts_and_named_task_runs(s3_job: JobResult, prefect_pool: PrefectPool) -> None:
    """Input tried: the S3 render above, as an operator sees it in the Prefect UI: one named task run per PRD module
    (one per clip for the mapped ones) and the job's artifacts: the analysis picture, the plan, the cost table, the
    clips and the final video, with signed links that download."""
    import base64
    import re

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    from flows.artifacts import artifact_key

    key = artifact_key(s3_job.job_id)
    with prefect_server(prefect_pool.api_url), get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(like_=key)))}  # fmt: skip
        assert set(artifacts) == {f"{key}-{n}" for n in ("analysis", "plan", "cost", "clips", "video", "summary")}
        flow_run_id = artifacts[f"{key}-plan"].flow_run_id
        assert flow_run_id is not None
        n = len(s3_job.clips)
        expected = {"audio_parser": 1, "scene_planner": 1, "reference_generator": 1, "prompt_generator": n,
                    "video_generator": n, "composer": 1, "budget_guard": 1}  # fmt: skip
        deadline = time.monotonic() + 60
        while True:  # task runs are recorded from their events, asynchronously: wait for the recorder
            tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
            names = Counter(re.sub(r"-\d+$", "", t.name) for t in tasks)
            if names == expected or time.monotonic() > deadline:
                break
            time.sleep(1)
    assert names == expected, names
    analysis = str(artifacts[f"{key}-analysis"].data)
    png = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", analysis)
    assert png and base64.b64decode(png.group(1)).startswith(b"\x89PNG")
    assert f"| {n - 1} |" in analysis  # the boundaries table lists every clip
    clips = str(artifacts[f"{key}-clips"].data)
    links = re.findall(r"\]\((http[^)]+)\)", clips)
    assert len(links) == n and all("X-Amz-Signature=" in u for u in links)
    assert httpx.get(links[0]).status_code == 200
    video = str(artifacts[f"{key}-video"].data)
    assert "X-Amz-Signature=" in video and f"jobs/{s3_job.job_id}/final/final.mp4" in video
    cost = artifacts[f"{key}-cost"].data
    assert "total" in str(cost)


def test_upload_to_s3_is_removed_when_the_flow_run_cannot_start(
    s3_settings: Settings, redis_url: str, short_song: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried: a valid upload to an API on S3 storage (moto) whose Prefect never accepts the run (the start times
    out). Before: 503, but ``jobs/<id>/input/audio.mp3`` stayed in the bucket, an orphan no lifecycle rule names
    as a job's. Now: 503, and neither the bucket nor Redis nor the API's disk keeps anything of the job."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.routes import jobs

    async def never_starts(*args: object, **kwargs: object) -> str:
        raise TimeoutError

    monkeypatch.setattr(jobs, "start_flow_run", never_starts)
    settings = s3_settings.model_copy(update={"api": s3_settings.api.model_copy(update={"redis_url": redis_url})})
    storage = S3Storage(settings.storage, settings.cache_dir)
    before = set(redis.Redis.from_url(redis_url).keys("jobs:*"))
    with TestClient(create_app(settings)) as client:
        files = {"audio": ("song.mp3", short_song.read_bytes(), "audio/mpeg")}
        r = client.post("/api/jobs", files=files, data={"prompt": "paper boats"})
    assert r.status_code == 503 and "nothing was started" in r.json()["detail"], r.text
    assert storage.list("jobs/") == []
    assert set(redis.Redis.from_url(redis_url).keys("jobs:*")) == before
    assert not settings.jobs_dir.exists() or not any(settings.jobs_dir.iterdir())
