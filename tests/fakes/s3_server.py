"""A real S3-protocol server for tests: moto's server on a free 127.0.0.1 port, with one bucket created.

Storage is exercised over HTTP through s3fs/botocore exactly as against AWS (credentials and ``AWS_ENDPOINT_URL``
from the environment); nothing is mocked in-process. Moto does not check signatures, so tests that need a
presigned URL to be *valid* also check its form (SigV4 query parameters).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

import boto3
from moto.server import ThreadedMotoServer

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class MotoS3:
    """A running moto server and the environment that points botocore (and so s3fs) at it."""

    bucket: str = field(default_factory=lambda: f"reelflow-{uuid.uuid4().hex[:10]}")
    server: ThreadedMotoServer | None = None
    endpoint: str = ""

    def start(self) -> MotoS3:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 call drowns the test log
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def env(self) -> dict[str, str]:
        return {**CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def client(self) -> object:
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under ``prefix`` in the bucket (paginated)."""
        paginator = self.client().get_paginator("list_objects_v2")  # type: ignore[attr-defined]
        return [obj["Key"] for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix)
                for obj in page.get("Contents", [])]
