"""Where artifacts are written. Every local write is atomic: a temporary name in the
same folder, then a rename, so no half-written file ever sits under a final name.
S3 objects appear under their key only when an upload completes (`S3Store`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from vmsg.errors import InputError, StorageError, TemporaryError, VmsgError
from vmsg.storage_uri import parse_s3, redact_url

logger = logging.getLogger(__name__)


def check_writable(path: Path, *, what: str = "output") -> Path:
    """Fail early (before any work) when `path` cannot be written; create its folder."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise InputError(f"{what} {path} is a folder, expected a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot create its folder ({exc.strerror})") from exc
    if not os.access(path.parent, os.W_OK):
        raise InputError(f"{what} {path}: folder {path.parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{what} {path}: file exists and is not writable")
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    The temporary name keeps the suffix so tools that infer the format from it
    (ffmpeg, soundfile, PIL) still work.
    """
    path = check_writable(Path(path))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())
    try:
        yield tmp
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise StorageError(f"output {path}: nothing was written")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    with atomic_path(path) as tmp:
        try:
            tmp.write_bytes(data)
        except OSError as exc:
            raise StorageError(f"output {path}: {exc.strerror}") from exc
    return Path(path)


# --- S3 -------------------------------------------------------------------------------------------
# Objects are written with the canned ACL "bucket-owner-full-control": private (owner only), and the one
# ACL a bucket with ACLs disabled (the AWS default since 2023) still accepts. Some servers mis-handle a
# multipart object with no ACL as readable by anyone (moto does), so vmsg always states it.
# VMSG_S3_ACL=none omits the header for S3-compatible servers without ACLs. vmsg never grants public-read.
PRIVATE_ACL = "bucket-owner-full-control"

S3_TEMPORARY_CODES = frozenset({"SlowDown", "RequestTimeout", "RequestTimeTooSkewed", "ServiceUnavailable", "InternalError",
                                "Throttling", "ThrottlingException", "500", "502", "503", "504"})
S3_DENIED_CODES = frozenset({"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
                             "AccountProblem", "InvalidToken", "ExpiredToken"})
S3_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchBucket"})


def _env_first(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


class S3Store:
    """Reads and writes `s3://` objects with boto3.

    Region, endpoint and credentials come from the environment or the AWS profile
    (boto3's usual chain); `VMSG_S3_ENDPOINT_URL` / `AWS_ENDPOINT_URL` point it at an
    S3-compatible server. Large files go up in parts (boto3 TransferConfig), and the
    object only appears under its key once the upload completes.
    """

    def __init__(self, *, endpoint_url: str | None = None, region: str | None = None, profile: str | None = None,
                 unsigned: bool | None = None, multipart_threshold: int | None = None,
                 connect_timeout: float | None = None, max_attempts: int | None = None) -> None:
        self.endpoint_url = endpoint_url or _env_first("VMSG_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
        self.region = region or _env_first("VMSG_S3_REGION", "AWS_REGION", "AWS_DEFAULT_REGION")
        self.profile = profile or _env_first("VMSG_S3_PROFILE")
        self.unsigned = unsigned if unsigned is not None else os.environ.get("VMSG_S3_UNSIGNED", "") in ("1", "true", "yes")
        mb = float(os.environ.get("VMSG_S3_MULTIPART_MB", "16"))
        self.multipart_threshold = multipart_threshold or max(5 << 20, int(mb * (1 << 20)))
        self.connect_timeout = connect_timeout or float(os.environ.get("VMSG_S3_CONNECT_TIMEOUT", "5"))
        self.max_attempts = max_attempts or int(os.environ.get("VMSG_S3_MAX_ATTEMPTS", "3"))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            from vmsg.worker.app import require

            require("boto3", extra="s3")
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config

            config = Config(
                signature_version=UNSIGNED if self.unsigned else "s3v4",
                connect_timeout=self.connect_timeout,
                read_timeout=60,
                retries={"max_attempts": self.max_attempts, "mode": "standard"},
                s3={"addressing_style": "path" if self.endpoint_url else "auto"},
            )
            session = boto3.session.Session(profile_name=self.profile, region_name=self.region)
            self._client = session.client("s3", endpoint_url=self.endpoint_url, config=config)
        return self._client

    def _transfer_config(self):
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=self.multipart_threshold, multipart_chunksize=self.multipart_threshold,
                              max_concurrency=4, use_threads=True)

    def _where(self) -> str:
        return f" at {redact_url(self.endpoint_url)}" if self.endpoint_url else ""

    def translate(self, exc: Exception, op: str, uri: str) -> Exception:
        """A boto3/botocore failure → the vmsg error a user can act on (names bucket and key, never a secret)."""
        import botocore.exceptions as bx

        chain: list[BaseException] = []
        cur: BaseException | None = exc
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = cur.__cause__ or cur.__context__
        for err in chain:
            if isinstance(err, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError,
                                bx.ConnectionClosedError, bx.ProxyConnectionError)):
                return TemporaryError(f"S3 {op} {uri}: cannot reach the S3 endpoint{self._where()} ({type(err).__name__})",
                                      hint="check the network or VMSG_S3_ENDPOINT_URL; retry later")
            if isinstance(err, (bx.NoCredentialsError, bx.PartialCredentialsError)):
                return StorageError(f"S3 {op} {uri}: no AWS credentials found",
                                    hint="set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE")
            if isinstance(err, bx.ClientError):
                code = str(err.response.get("Error", {}).get("Code", ""))
                status = str(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
                if code in S3_DENIED_CODES or status == "403":
                    return StorageError(f"S3 {op} {uri}: access denied ({code or status})",
                                        hint="check the credentials and the bucket policy")
                if code in S3_MISSING_CODES or status == "404":
                    what = "bucket" if code == "NoSuchBucket" else "object"
                    return InputError(f"S3 {op} {uri}: {what} not found ({code or status})")
                if code in S3_TEMPORARY_CODES or status in S3_TEMPORARY_CODES:
                    return TemporaryError(f"S3 {op} {uri}: the server is busy or failing ({code or status})")
                return StorageError(f"S3 {op} {uri}: {code or status}")
        if isinstance(exc, OSError):
            return StorageError(f"S3 {op} {uri}: {exc.strerror or exc}")
        return StorageError(f"S3 {op} {uri}: {type(exc).__name__}")

    def head(self, uri: str) -> dict:
        """Size and metadata of an object; raises when it is missing or unreadable."""
        loc = parse_s3(uri)
        try:
            return self.client.head_object(Bucket=loc.bucket, Key=loc.key)
        except Exception as exc:  # noqa: BLE001 - translated into a vmsg error
            raise self.translate(exc, "read", uri) from None

    def check_bucket(self, uri: str) -> None:
        """Fail before any work when the bucket of an output URI is missing or not ours."""
        loc = parse_s3(uri, what="output")
        try:
            self.client.head_bucket(Bucket=loc.bucket)
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "check bucket of", uri) from None

    def download(self, uri: str, dest: Path | str) -> Path:
        """Fetch an object to `dest` (written atomically)."""
        loc = parse_s3(uri, what="input")
        dest = Path(dest)
        try:
            with atomic_path(dest) as tmp:
                self.client.download_file(loc.bucket, loc.key, str(tmp), Config=self._transfer_config())
        except VmsgError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "download", uri) from None
        logger.info("downloaded %s (%d bytes)", uri, dest.stat().st_size)
        return dest

    def read_bytes(self, uri: str, *, limit: int = 1 << 20) -> bytes:
        """A small object's content (a run report), refused above `limit` bytes."""
        loc = parse_s3(uri)
        try:
            response = self.client.get_object(Bucket=loc.bucket, Key=loc.key)
            if response.get("ContentLength", 0) > limit:
                raise StorageError(f"S3 read {uri}: {response['ContentLength']} bytes, more than the {limit} expected")
            return response["Body"].read()
        except VmsgError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "read", uri) from None

    def upload(self, source: Path | str, uri: str, *, content_type: str | None = None,
               metadata: dict[str, str] | None = None) -> str:
        """Put a local file under `uri`; multipart above the threshold. Private: no ACL is ever granted.

        `metadata` becomes the object's user metadata (x-amz-meta-*), e.g. the sha256 resume compares."""
        loc = parse_s3(uri, what="output")
        extra: dict = {"ContentType": content_type} if content_type else {}
        if metadata:
            extra["Metadata"] = metadata
        if os.environ.get("VMSG_S3_ACL", "").lower() != "none":
            extra["ACL"] = PRIVATE_ACL
        try:
            self.client.upload_file(str(source), loc.bucket, loc.key, ExtraArgs=extra, Config=self._transfer_config())
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "upload to", uri) from None
        logger.info("uploaded %s (%d bytes)", uri, Path(source).stat().st_size)
        return uri

    def presign(self, uri: str, seconds: int) -> str:
        """A time-limited GET URL for a private object (the signature is the credential: share it with care)."""
        loc = parse_s3(uri)
        try:
            return self.client.generate_presigned_url("get_object", Params={"Bucket": loc.bucket, "Key": loc.key},
                                                      ExpiresIn=int(seconds))
        except Exception as exc:  # noqa: BLE001
            raise self.translate(exc, "presign", uri) from None


_S3: S3Store | None = None


def s3_store() -> S3Store:
    """One S3Store per process (the boto3 client is thread-safe and slow to create)."""
    global _S3
    if _S3 is None:
        _S3 = S3Store()
    return _S3
