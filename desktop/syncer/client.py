"""The HTTP client of the sync protocol (SYNC.md v1): one requests Session, typed errors, TLS checks.

Every call has explicit (connect, read) timeouts, sends ``User-Agent: Samverka/<version>`` and
reads at most ``max_response_bytes`` of an answer (a larger one is :class:`ResponseTooLarge`, never
held in memory whole).
Every answer that carries ``server_time`` is reported to ``on_server_time`` so the caller can
follow the server's clock (HLC receive rule and wall-clock offset). Failures are typed by what
the caller does next: :class:`Offline` and :class:`RetryLater` mean "try again later",
:class:`Unauthorized` means the device is revoked, :class:`ResyncRequired` means download
everything again, :class:`TlsError` means the certificate or CA is wrong — never a silent
downgrade to an unverified connection.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from desktop.syncer.errors import (
    ClientTooOld,
    EnrollmentRefused,
    Offline,
    ProtocolError,
    RateLimited,
    ResponseTooLarge,
    ResyncRequired,
    ServerBusy,
    SyncError,
    TlsError,
    Unauthorized,
)
from desktop.syncer.messages import problem_text
from desktop.version import user_agent

if TYPE_CHECKING:
    import ssl

    import requests

# requests (with urllib3, charset_normalizer and ssl) is imported when the first client is made,
# not with the sync engine: the window opens the engine at unlock, and those imports were about a
# tenth of a second of the cold start that the first screen does not need (a standalone vault
# never needs them). PyInstaller finds imports inside functions too.

DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
PUSH_MAX_CHANGES = 1000
PUSH_MAX_BYTES = 4 * 1024 * 1024
PULL_LIMIT_MAX = 5000
# The largest answer read: a pull page of 5,000 ordinary records is a few MiB; one record at
# every limit is well under 1 MiB. A larger page is fetched again in smaller pages (engine).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_CHUNK_BYTES = 256 * 1024




@dataclass(frozen=True, slots=True)
class PushResult:
    change_id: str
    status: str  # applied | duplicate | conflict | rejected
    seq: int | None = None
    problem: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PushResponse:
    results: tuple[PushResult, ...]
    server_time: str | None


@dataclass(frozen=True, slots=True)
class PullPage:
    records: list[dict]
    cursor: str | None
    has_more: bool
    server_time: str | None


@dataclass(frozen=True, slots=True)
class Enrollment:
    device_id: str
    token: str
    organisation_id: str
    organisation_name: str
    role: str
    server_time: str | None


def normalise_server_url(url: str) -> str:
    """The server's base URL without a trailing slash; plain http only on this machine."""
    text = (url or "").strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SyncError("syncer.bad_url", url=url)
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise SyncError("syncer.insecure_url", url=url)
    if text.endswith("/v1"):
        text = text[: -len("/v1")]
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(value: str | None, *, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None when absent/garbled."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # with requests' imports: only when answers come

    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - now())


def problem_token(problem: Mapping[str, Any] | None) -> str | None:
    """``/problems/clock-skew`` → ``clock-skew``."""
    if not problem:
        return None
    kind = problem.get("type")
    if not isinstance(kind, str):
        return None
    return kind.rstrip("/").rsplit("/", 1)[-1] or None


def describe_problem(problem: Mapping[str, Any] | None) -> str:
    """One line for the log: the server's detail (or title), and the field at fault. People
    read the client's own words instead (messages.problem_text)."""
    if not problem:
        return ""
    text = str(problem.get("detail") or problem.get("title") or problem_token(problem) or "")
    if problem.get("field") and str(problem["field"]) not in text:
        text += f" ({problem['field']})"
    return text


class SyncClient:
    """Talks to one sync server. Thread-safe for one caller at a time (the engine holds a lock)."""

    def __init__(
        self,
        server_url: str,
        *,
        token: str | None = None,
        ca_file: str | Path | None = None,
        ca_pem: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        on_server_time: Callable[[str, int], None] | None = None,
        session: requests.Session | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.server_url = normalise_server_url(server_url)
        self.token = token
        self.max_response_bytes = max_response_bytes
        self.ca_file = str(ca_file) if ca_file else None
        self.timeout = timeout
        self.on_server_time = on_server_time
        if self.ca_file and ca_pem is None:
            ca_pem = read_ca_file(self.server_url, self.ca_file)
        self.ca_pem = ca_pem
        if session is None:
            import requests

            session = requests.Session()
        self._session = session
        if ca_pem is not None:
            # Trust exactly the organisation's CA (not the system's bundle) for this server.
            self._session.mount("https://", _trust_only_adapter()(self._ca_context(ca_pem)))
        self._session.headers["User-Agent"] = user_agent()  # the running program's version
        self._session.headers["Accept"] = "application/json, application/problem+json"
        self._session.trust_env = False  # no proxy or netrc settings sneaking in from the environment

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- endpoints -------------------------------------------------------------------------

    def health(self) -> dict:
        return self._call("GET", "/v1/health", auth=False)

    def enroll(self, code: str, device_name: str) -> Enrollment:
        try:
            body = self._call(
                "POST", "/v1/devices/enroll", auth=False,
                json_body={"code": code, "device_name": device_name},
            )
        except (Unauthorized, ResyncRequired, ProtocolError) as error:
            # 401: an unknown code; 410: used or expired. The server's detail says which (logs).
            status = getattr(error, "http_status", None)
            if status not in (401, 410):
                raise
            raise EnrollmentRefused(
                "syncer.enroll_used" if status == 410 else "syncer.enroll_refused",
                detail=error.detail, problem=error.problem,
            ) from None
        try:
            organisation = body["organisation"]
            return Enrollment(
                device_id=str(body["device_id"]),
                token=str(body["token"]),
                organisation_id=str(organisation["id"]),
                organisation_name=str(organisation.get("name") or ""),
                role=str(body["role"]),
                server_time=body.get("server_time"),
            )
        except (KeyError, TypeError) as error:
            raise ProtocolError(detail=f"enroll answer lacks {error}", server=self.server_url) from None

    def me(self) -> dict:
        return self._call("GET", "/v1/me")

    def push(self, changes: Sequence[Mapping[str, Any]], *, body: bytes | None = None) -> PushResponse:
        """Send changes (at most 1,000 and 4 MiB); one result per change, in order."""
        if body is None:
            body = encode_json({"changes": list(changes)})
        answer = self._call("POST", "/v1/sync/push", raw_body=body)
        raw_results = answer.get("results")
        if not isinstance(raw_results, list) or len(raw_results) != len(changes):
            raise ProtocolError(
                detail=f"push answered {len(raw_results or [])} results for {len(changes)} changes",
                server=self.server_url,
            )
        results = []
        for change, item in zip(changes, raw_results):
            if not isinstance(item, dict) or item.get("change_id") != change["change_id"]:
                raise ProtocolError(detail="push results out of order", server=self.server_url)
            status = item.get("status")
            if status not in ("applied", "duplicate", "conflict", "rejected"):
                raise ProtocolError(detail=f"unknown push status {status!r}", server=self.server_url)
            results.append(PushResult(item["change_id"], status, item.get("seq"), item.get("problem")))
        return PushResponse(tuple(results), answer.get("server_time"))

    def pull(self, cursor: str | None, limit: int = 1000) -> PullPage:
        params: dict[str, Any] = {"limit": max(1, min(int(limit), PULL_LIMIT_MAX))}
        if cursor:
            params["cursor"] = cursor
        answer = self._call("GET", "/v1/sync/pull", params=params)
        records = answer.get("records")
        if not isinstance(records, list) or not isinstance(answer.get("has_more"), bool):
            raise ProtocolError(detail="pull answer lacks records or has_more", server=self.server_url)
        next_cursor = answer.get("cursor")
        return PullPage(
            records, None if next_cursor is None else str(next_cursor),
            answer["has_more"], answer.get("server_time"),
        )

    def devices(self) -> list[dict[str, Any]]:
        """The device directory (``GET /v1/devices``): id, organisation, name, revoked."""
        answer = self._call("GET", "/v1/devices")
        devices = answer.get("devices")
        if not isinstance(devices, list):
            raise ProtocolError(detail="device directory lacks devices", server=self.server_url)
        out = []
        for item in devices:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) for k in ("device_id", "organisation_id", "name")
            ):
                raise ProtocolError(detail="device directory entry malformed", server=self.server_url)
            out.append({
                "device_id": item["device_id"][:64],
                "organisation_id": item["organisation_id"][:64],
                "name": item["name"][:200],
                "revoked": bool(item.get("revoked")),
            })
        return out

    def digest(self, *, leave_out_compacted: bool = False) -> dict[str, Any]:
        """``{"collections": {name: {"count", "hash"}}, "cursor"?: the position it was taken at}``.

        ``leave_out_compacted``: ask for the digest without what this device receives as
        tombstones at or below the compaction watermark; a server that knows the request names
        that watermark (``"compacted_through"``, an int), an older one ignores it and answers
        the whole digest (the member is then absent)."""
        params = {"leave_out_compacted": "true"} if leave_out_compacted else None
        answer = self._call("GET", "/v1/sync/digest", params=params)
        if not isinstance(answer.get("collections"), dict):
            raise ProtocolError(detail="digest answer lacks collections", server=self.server_url)
        through = answer.get("compacted_through")
        if through is not None and (type(through) is not int or through < 0):
            raise ProtocolError(detail="digest answer has a malformed compacted_through", server=self.server_url)
        return answer

    # --- the one place that talks HTTP ------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        raw_body: bytes | None = None,
    ) -> dict:
        headers = {}
        if auth:
            if not self.token:
                raise Unauthorized(server=self.server_url, detail="no device token")
            headers["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            raw_body = encode_json(json_body)
        if raw_body is not None:
            headers["Content-Type"] = "application/json"
        url = self.server_url + path
        import requests

        started = time.monotonic()
        try:
            response = self._session.request(
                method, url, params=params, data=raw_body, headers=headers,
                timeout=self.timeout, verify=True, allow_redirects=False, stream=True,
            )
            try:
                content = self._read_capped(response)  # inside the error handling
            finally:
                response.close()
        except requests.exceptions.SSLError as error:
            raise self._tls_error(error) from None
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as error:
            raise Offline(server=self.server_url, detail=f"{type(error).__name__}: {error}") from None
        except OSError as error:  # e.g. a CA bundle that vanished after the check
            raise TlsError(
                "syncer.tls_ca_unreadable", server=self.server_url, ca=self.ca_file or "-",
                detail=str(error),
            ) from None
        round_trip_ms = int((time.monotonic() - started) * 1000)
        body = self._decode(response, content)
        if response.status_code >= 400 or response.status_code < 200:
            raise self._status_error(response, body)
        if not isinstance(body, dict):
            raise ProtocolError(
                detail=f"{method} {path}: {response.status_code} without a JSON object",
                server=self.server_url,
            )
        server_time = body.get("server_time")
        if isinstance(server_time, str) and self.on_server_time is not None:
            self.on_server_time(server_time, round_trip_ms)
        return body

    def _read_capped(self, response: requests.Response) -> bytes:
        """The whole body, or ResponseTooLarge once it passes ``max_response_bytes``."""
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > limit:
            raise ResponseTooLarge(server=self.server_url, detail=f"Content-Length {declared}")
        parts: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(server=self.server_url, detail=f"over {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _decode(self, response: requests.Response, content: bytes) -> Any:
        if not content:
            if 200 <= response.status_code < 300:
                # Every 2xx of the protocol has a JSON body. An empty one is an answer cut short,
                # e.g. inside its headers: http.client then takes the end of the stream for the
                # end of the headers and of an unsized body.
                raise Offline(server=self.server_url, detail="answer cut short (empty body)")
            return None
        try:
            return json.loads(content)
        except RecursionError:  # nested deeper than any answer of the protocol
            raise ProtocolError(detail="answer nested too deeply", server=self.server_url) from None
        except ValueError:
            if 200 <= response.status_code < 300:
                # A 2xx whose body does not parse was most likely cut short on the way.
                raise Offline(server=self.server_url, detail="answer body cut short") from None
            return None

    def _status_error(self, response: requests.Response, body: Any) -> SyncError:
        status = response.status_code
        problem = body if isinstance(body, dict) else None
        token = problem_token(problem)
        detail = f"{status} {describe_problem(problem)}".strip()
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = self._classify(response, problem, token, detail, retry_after)
        error.http_status = status
        return error

    def _classify(self, response, problem, token, detail, retry_after) -> SyncError:
        status = response.status_code
        common = {"server": self.server_url, "detail": detail, "problem": problem}
        if status == 401:
            return Unauthorized(**common)
        if status == 410 and (token == "resync-required" or token is None):
            return ResyncRequired(**common)
        if status == 426 or token == "client-too-old":
            needed = (problem or {}).get("min_client_version")
            return ClientTooOld(
                "syncer.client_too_old_version" if isinstance(needed, str) else None,
                version=str(needed)[:40], **common,
            )
        if status == 429:
            return RateLimited(retry_after=retry_after, seconds=_seconds(retry_after), **common)
        if status >= 500:
            return ServerBusy(retry_after=retry_after, **common)
        if status == 413:
            return ProtocolError("syncer.too_large", **common)
        if 300 <= status < 400:
            return ProtocolError(
                "syncer.redirect", location=response.headers.get("Location", "?"), **common
            )
        return ProtocolError("syncer.refused", reason=problem_text(problem, status), **common)

    def _ca_context(self, ca_pem: str) -> ssl.SSLContext:
        import ssl

        try:
            return ssl.create_default_context(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as error:
            raise TlsError(
                "syncer.tls_ca_unreadable", server=self.server_url, ca=self.ca_file or "CA",
                detail=str(error),
            ) from None

    def _tls_error(self, error: Exception) -> TlsError:
        if self.ca_pem is not None:
            return TlsError(
                "syncer.tls", server=self.server_url, ca=self.ca_file or "CA", detail=str(error)
            )
        return TlsError("syncer.tls_no_ca", server=self.server_url, detail=str(error))


def _seconds(value: float | None) -> str:
    return "?" if value is None else str(int(round(value)))


@functools.cache
def _trust_only_adapter() -> type:
    """The adapter class (made once, when a client first needs it: it subclasses requests')."""
    from requests.adapters import HTTPAdapter

    class TrustOnlyAdapter(HTTPAdapter):
        """Verifies HTTPS against one SSL context (the organisation's CA), hostname included."""

        def __init__(self, context: ssl.SSLContext) -> None:
            self._context = context
            super().__init__()

        def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
            host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
            pool_kwargs["ssl_context"] = self._context
            pool_kwargs["cert_reqs"] = "CERT_REQUIRED"
            pool_kwargs.pop("ca_certs", None)
            pool_kwargs.pop("ca_cert_dir", None)
            return host_params, pool_kwargs

    return TrustOnlyAdapter


def read_ca_file(server_url: str, ca_file: str | Path) -> str:
    """The PEM text of a CA file, or a TlsError naming the file and the server."""
    try:
        text = Path(ca_file).read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise TlsError(
            "syncer.tls_ca_unreadable", server=server_url, ca=str(ca_file), detail=str(error)
        ) from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise TlsError(
            "syncer.tls_ca_unreadable", server=server_url, ca=str(ca_file),
            detail="no PEM certificate in file",
        )
    return text


def encode_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
