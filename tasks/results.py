"""Where Prefect persists task results (the cache records that let a retry skip finished stages).

Locally they stay in ``$PREFECT_HOME/storage``. With S3 storage they go to the same bucket, under
``VIDEOGEN_STORAGE__RESULTS_PREFIX``, through a saved prefect-aws ``S3Bucket`` block, so a run that started on one
worker can be retried on any other and still find every finished stage (prefect notes §11).
"""

from __future__ import annotations

import threading
from typing import Any

from core.settings import Settings, get_settings

_registered: set[str] = set()
_lock = threading.Lock()


def result_block_slug(settings: Settings) -> str:
    return f"s3-bucket/{settings.storage.results_block}"


def register_result_storage(settings: Settings, *, overwrite: bool = True) -> str:
    """Save the AwsCredentials + S3Bucket blocks for the configured bucket on the Prefect server; returns the slug
    tasks take as ``result_storage``. Blocks must be saved: Prefect refuses an unsaved one."""
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    config = settings.storage
    credentials = AwsCredentials(
        aws_access_key_id=config.access_key_id.get_secret_value() if config.access_key_id else None,
        aws_secret_access_key=config.secret_access_key,
        region_name=config.region,
        aws_client_parameters=AwsClientParameters(endpoint_url=config.endpoint_url),
    )
    credentials.save(f"{config.results_block}-credentials", overwrite=overwrite)
    bucket = S3Bucket(bucket_name=config.bucket, bucket_folder=config.results_prefix, credentials=credentials)
    bucket.save(config.results_block, overwrite=overwrite)
    return result_block_slug(settings)


def result_storage_options() -> dict[str, Any]:
    """``with_options`` for every stage task: nothing locally; on S3 the bucket's result block, registered on
    first use in this process if ``videogen infra apply-lifecycle`` has not done it yet."""
    settings = get_settings()
    if settings.storage.backend != "s3":
        return {}
    slug = result_block_slug(settings)
    with _lock:
        if slug not in _registered:
            from prefect_aws import S3Bucket

            try:
                S3Bucket.load(settings.storage.results_block)
            except ValueError:  # not saved on this server yet
                register_result_storage(settings, overwrite=True)
            _registered.add(slug)
    return {"result_storage": slug}
