"""Object storage per partnership: every key starts with the partnership's schema name.

Every call that reaches the network goes through ``bounded_call``: the caller waits at
most ``STORAGE_DEADLINE_SECONDS`` for the whole operation (connection, retries and a
response that trickles in a byte at a time alike), and at most ``STORAGE_MAX_CALLS``
calls are in flight per process. A frozen or unreachable store therefore costs a request
a few seconds, and never more than that many threads of a worker; the rest keep serving
pages that do not touch storage.
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

T = TypeVar("T")


class StorageTimeout(BotoCoreError):
    """A storage call did not finish within ``STORAGE_DEADLINE_SECONDS`` (it may still finish later).

    A ``BotoCoreError``, so that code catching botocore's failures catches this one too.
    """

    fmt = "{message}"

    def __init__(self, message: str = "storage did not answer in time"):
        super().__init__(message=message)


class StorageBusy(StorageTimeout):
    """``STORAGE_MAX_CALLS`` calls are already in flight in this process: refused without waiting."""


class _Calls:
    """A pool of ``size`` threads and as many places; a place is held until the call really ends."""

    def __init__(self, size: int):
        self.size = size
        self.in_flight = 0
        self.lock = threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="storage-call")

    def take(self) -> bool:
        with self.lock:
            if self.in_flight >= self.size:
                return False
            self.in_flight += 1
            return True

    def give_back(self) -> None:
        with self.lock:
            self.in_flight -= 1


_calls: _Calls | None = None
_calls_lock = threading.Lock()
_client_lock = threading.Lock()


def _pool() -> _Calls:
    global _calls
    size = int(settings.STORAGE_MAX_CALLS)
    with _calls_lock:
        if _calls is None or _calls.size != size:
            _calls = _Calls(size)  # created in the process that uses it (after gunicorn's fork)
        return _calls


def _forget_pool_after_fork() -> None:  # a forked child must not inherit the parent's threads
    global _calls
    _calls = None


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def bounded_call(fn: Callable[..., T], /, *args, deadline: float | None = None, **kwargs) -> T:
    """``fn(*args, **kwargs)`` in a storage thread; the caller waits at most ``deadline`` seconds.

    ``deadline`` defaults to ``STORAGE_DEADLINE_SECONDS``. Raises ``StorageBusy`` at once
    when ``STORAGE_MAX_CALLS`` calls are in flight in this process, ``StorageTimeout`` when
    the deadline passes (the call is abandoned: it keeps its slot until botocore's own
    timeouts end it, so a frozen store soon refuses new calls without waiting), and
    whatever ``fn`` raises. ``fn`` runs in another thread: it must not touch the database
    or the storage's per-thread connection; pass it a boto3 client (thread-safe) and full
    object keys, computed by the caller.
    """
    pool = _pool()
    if not pool.take():
        raise StorageBusy("too many storage calls in flight")

    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            pool.give_back()

    try:
        future = pool.executor.submit(run)
    except BaseException:
        pool.give_back()
        raise
    seconds = float(settings.STORAGE_DEADLINE_SECONDS if deadline is None else deadline)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        raise StorageTimeout(f"storage did not answer within {seconds:g} s") from None


def storage_saturated() -> bool:
    """Whether every place for a storage call in this process is taken (a new call would be refused).

    Lets an upload be refused before its file is read and cleaned, when storage is stuck.
    """
    pool = _pool()
    with pool.lock:
        return pool.in_flight >= pool.size


def is_missing(error: BaseException) -> bool:
    """Whether a botocore error says the object does not exist (NoSuchKey, or a HEAD's bare 404).

    A missing bucket (NoSuchBucket) is a misconfigured store, not a missing object. A HEAD
    cannot tell the two apart (no body); ``PartnershipS3Storage.probe`` can.
    """
    if not isinstance(error, ClientError):
        return False
    return str(error.response.get("Error", {}).get("Code", "")) in ("NoSuchKey", "404", "NotFound")


class PartnershipS3Storage(S3Storage):
    """S3 storage whose prefix is computed per call from the current schema.

    A ``location`` computed once would keep the first partnership's prefix for
    every later request in the process; this property reads it every time and
    refuses to store anything outside a partnership.

    Names given to the storage (``save``, ``url``, ``delete``...) are relative
    to the partnership's prefix; ``key(name)`` is the full object key
    (``<schema>/<name>``) and ``name_for_key(key)`` turns a stored key back into
    a name, refusing a key that belongs to another partnership.
    """

    _initialising = False

    def __init__(self, **settings):
        # S3Storage.__init__ checks the location once; the instance may be created on public
        # (a worker, a management command) and used later inside a partnership's schema.
        self._initialising = True
        try:
            super().__init__(**settings)
        finally:
            self._initialising = False

    @property
    def location(self):  # noqa: D401 - django-storages reads this attribute
        if self._initialising:
            return ""
        schema = connection.schema_name
        if not schema or schema == "public":
            raise RuntimeError("partnership storage used outside a partnership's context")
        return schema

    @location.setter
    def location(self, value):  # S3Storage.__init__ assigns it; the prefix is never fixed
        pass

    def key(self, name: str) -> str:
        """The full object key of ``name`` for the current partnership: ``<schema>/<name>``."""
        return self._normalize_name(clean_name(name))

    def name_for_key(self, key: str) -> str:
        """The storage name of a full object key; refuses a key outside the current partnership."""
        prefix = f"{self.location}/"
        if not key.startswith(prefix) or ".." in key.split("/"):
            raise SuspiciousOperation(f"object key outside the partnership's prefix {prefix!r}")
        return key[len(prefix) :]

    def prefix(self, folder: str = "") -> str:
        """The key prefix of ``folder`` in the current partnership (``<schema>/<folder>/``)."""
        return f"{self.location}/{folder.strip('/')}/" if folder.strip("/") else f"{self.location}/"

    # --- Bounded operations (names relative to the partnership's prefix) -----------------

    @property
    def client(self):
        """One boto3 client per storage instance (per process), shared by every thread.

        django-storages builds a boto3 session and resource per thread, which parses the S3
        models again (a CPU-bound ~0.1 s under the GIL, per new thread). Clients are
        thread-safe, so the first thread's client serves them all.
        """
        client = self.__dict__.get("_shared_client")
        if client is None:
            with _client_lock:
                client = self.__dict__.get("_shared_client")
                if client is None:
                    client = self.__dict__["_shared_client"] = self.connection.meta.client
        return client

    def url(self, name, parameters=None, expire=None, http_method=None):
        """A presigned GET URL, signed locally by the shared client (no network)."""
        if self.custom_domain or not self.querystring_auth:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        params = {**(parameters or {}), "Bucket": self.bucket_name, "Key": self.key(name)}
        return self.client.generate_presigned_url(
            "get_object",
            Params=params,
            ExpiresIn=self.querystring_expire if expire is None else expire,
            HttpMethod=http_method,
        )

    def put_bytes(self, name: str, data: bytes, *, content_type: str) -> str:
        """Store ``data`` at ``name`` (with ``AWS_S3_OBJECT_PARAMETERS``); return the full key."""
        key = self.key(name)
        params = {**self.get_object_parameters(name), "ContentType": content_type}
        bounded_call(self.client.put_object, Bucket=self.bucket_name, Key=key, Body=data, **params)
        return key

    def read_bytes(self, name: str) -> bytes:
        """The whole object at ``name``, read within one deadline. ``ClientError`` if missing."""
        key, client = self.key(name), self.client

        def read() -> bytes:
            body = client.get_object(Bucket=self.bucket_name, Key=key)["Body"]
            try:
                return body.read()
            finally:
                body.close()

        return bounded_call(read)

    def probe(self, name: str) -> None:
        """Ask for the object's first byte: ``ClientError`` with NoSuchKey if it does not exist.

        Costs what a HEAD costs, but the error names what is missing (the object, or the
        whole bucket: NoSuchBucket), where a HEAD only answers 404.
        """
        key, client = self.key(name), self.client

        def first_byte() -> None:
            client.get_object(Bucket=self.bucket_name, Key=key, Range="bytes=0-0")["Body"].close()

        bounded_call(first_byte)

    def head(self, name: str) -> dict:
        """The object's metadata (HEAD). ``ClientError`` (404) if it does not exist."""
        return bounded_call(self.client.head_object, Bucket=self.bucket_name, Key=self.key(name))

    def delete(self, name: str) -> None:
        """Delete the object at ``name`` (bounded; deleting a missing object is not an error)."""
        bounded_call(self.client.delete_object, Bucket=self.bucket_name, Key=self.key(name))

    def exists(self, name: str) -> bool:
        try:
            self.head(name)
        except ClientError as error:
            if is_missing(error):
                return False
            raise
        return True

    def _save(self, name, content):
        """``Storage.save``'s write, bounded: the whole file in one PUT (documents are at most 25 MB)."""
        content.seek(0, 0)
        data = content.read()
        content_type = getattr(content, "content_type", None) or mimetypes.guess_type(name)[0] or "binary/octet-stream"
        self.put_bytes(name, data if isinstance(data, bytes) else data.encode(), content_type=content_type)
        return clean_name(name)

    def list_page(self, prefix: str, *, max_keys: int, token: str | None = None) -> dict:
        """One ``ListObjectsV2`` page of full keys under ``prefix`` (from ``self.prefix(...)``)."""
        self.name_for_key(prefix)  # refuses a prefix outside the partnership
        extra = {"ContinuationToken": token} if token else {}
        return bounded_call(
            self.client.list_objects_v2, Bucket=self.bucket_name, Prefix=prefix, MaxKeys=max_keys, **extra
        )
