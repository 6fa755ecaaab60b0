"""The bucket's lifecycle rules: intermediates expire after a day, finals and inputs after a week (PRD storage).

Objects are tagged ``videogen-class=<class>`` on upload (core/storage.py), so one rule per class filters on the tag;
Prefect's result records are matched by their key prefix. ``videogen infra apply-lifecycle`` installs the rules with
``put_bucket_lifecycle_configuration`` and prints what the bucket reports back.
"""

from __future__ import annotations

from typing import Any

from core.errors import StorageError
from core.settings import StorageSettings
from core.storage import TAG_KEY
from providers.storage.s3 import s3_client


def lifecycle_rules(config: StorageSettings) -> list[dict[str, Any]]:
    def by_tag(kind: str, days: int) -> dict[str, Any]:
        return {
            "ID": f"videogen-{kind}",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": TAG_KEY, "Value": kind}},
            "Expiration": {"Days": days},
        }

    return [
        by_tag("intermediate", config.intermediate_days),
        by_tag("final", config.final_days),
        by_tag("input", config.input_days),
        {
            "ID": "videogen-prefect-results",
            "Status": "Enabled",
            "Filter": {"Prefix": f"{config.results_prefix.strip('/')}/"},
            "Expiration": {"Days": config.results_days},
        },
        {  # a worker killed mid-upload leaves parts that are billed until aborted
            "ID": "videogen-abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": "jobs/"},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        },
    ]


def ensure_bucket(config: StorageSettings, client: Any | None = None) -> bool:
    """Create the bucket when it does not exist; True when it was created."""
    from botocore.exceptions import ClientError

    client = client or s3_client(config)
    try:
        client.head_bucket(Bucket=config.bucket)
        return False
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket", "NotFound"):
            raise StorageError(f"bucket {config.bucket}: {exc}") from exc
    kwargs: dict[str, Any] = {"Bucket": config.bucket}
    if config.region != "us-east-1":  # S3 rejects an explicit us-east-1 constraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": config.region}
    client.create_bucket(**kwargs)
    return True


def apply_lifecycle(config: StorageSettings, client: Any | None = None) -> list[dict[str, Any]]:
    """Install the rules (replacing the bucket's lifecycle configuration) and return them as the bucket reports."""
    client = client or s3_client(config)
    client.put_bucket_lifecycle_configuration(
        Bucket=config.bucket, LifecycleConfiguration={"Rules": lifecycle_rules(config)}
    )
    return read_lifecycle(config, client)


def apply_cors(config: StorageSettings, client: Any | None = None) -> list[dict[str, Any]]:
    """Let the web UI's origins GET objects through signed URLs from script: with an API token the UI fetches media
    with ``fetch()``, which follows the API's 307 to the bucket in CORS mode. No origins: the rules are removed."""
    from botocore.exceptions import ClientError

    client = client or s3_client(config)
    if not config.cors_origins:
        client.delete_bucket_cors(Bucket=config.bucket)
        return []
    rules = [{"AllowedOrigins": list(config.cors_origins), "AllowedMethods": ["GET", "HEAD"],
              "AllowedHeaders": ["Range"], "ExposeHeaders": ["Content-Length", "Content-Range", "Accept-Ranges"],
              "MaxAgeSeconds": 3600}]  # fmt: skip
    client.put_bucket_cors(Bucket=config.bucket, CORSConfiguration={"CORSRules": rules})
    try:
        return list(client.get_bucket_cors(Bucket=config.bucket)["CORSRules"])
    except ClientError as exc:
        raise StorageError(f"CORS of bucket {config.bucket}: {exc}") from exc


def read_lifecycle(config: StorageSettings, client: Any | None = None) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    client = client or s3_client(config)
    try:
        rules: list[dict[str, Any]] = client.get_bucket_lifecycle_configuration(Bucket=config.bucket)["Rules"]
    except ClientError as exc:
        if "NoSuchLifecycleConfiguration" in str(exc):
            return []
        raise StorageError(f"lifecycle of bucket {config.bucket}: {exc}") from exc
    return rules
