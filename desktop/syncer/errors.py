"""The syncer's errors: typed by what the caller should do next, each reading as a sentence."""

from __future__ import annotations

from desktop.syncer.messages import syncer_message


class SyncError(Exception):
    """Base of every syncer error. ``str(err)`` is the text for a person (sv default, en).

    ``key``/``kwargs`` let the window look the text up itself; ``detail`` is a technical note in
    English for logs; ``problem`` is the server's RFC 9457 problem object when there was one.
    """

    default_key = "syncer.error"
    http_status: int | None = None  # the HTTP status that caused it, when there was one

    def __init__(
        self,
        key: str | None = None,
        *,
        detail: str | None = None,
        problem: dict | None = None,
        **kwargs: object,
    ) -> None:
        self.key = key or self.default_key
        self.detail = detail
        self.problem = problem
        self.kwargs: dict[str, object] = dict(kwargs)
        super().__init__(self.key)

    def __str__(self) -> str:
        return syncer_message(self.key, **self.kwargs)

    def __repr__(self) -> str:
        extra = f", detail={self.detail!r}" if self.detail else ""
        return f"{type(self).__name__}({self.key!r}{extra})"


class Offline(SyncError):
    """The server could not be reached (no route, refused, timed out, cut mid-answer)."""

    default_key = "syncer.offline"


class Unauthorized(SyncError):
    """401: the device's token is not accepted — revoked, or never enrolled here."""

    default_key = "syncer.unauthorized"


class EnrollmentRefused(SyncError):
    """The enrollment code was wrong, used or expired (401/410 on enroll)."""

    default_key = "syncer.enroll_refused"


class RetryLater(SyncError):
    """Base of answers that mean "try again later"; ``retry_after`` in seconds or None."""

    default_key = "syncer.busy"

    def __init__(self, key: str | None = None, *, retry_after: float | None = None, **kwargs):
        super().__init__(key, **kwargs)
        self.retry_after = retry_after


class RateLimited(RetryLater):
    """429: too many requests; wait ``retry_after`` seconds."""

    default_key = "syncer.rate_limited"


class ServerBusy(RetryLater):
    """503 or any 5xx: the server cannot answer now; nothing was decided."""

    default_key = "syncer.busy"


class ResyncRequired(SyncError):
    """410 resync-required: the cursor is older than the server keeps; download everything."""

    default_key = "syncer.resync_required"


class ClientTooOld(SyncError):
    """426 client-too-old: this program must be updated; it keeps working offline."""

    default_key = "syncer.client_too_old"


class TlsError(SyncError):
    """The server's certificate could not be verified against the CA (or the CA file is unusable)."""

    default_key = "syncer.tls"


class ProtocolError(SyncError):
    """The server answered something this client cannot use (a 4xx problem or a bad shape)."""

    default_key = "syncer.protocol"


class ResponseTooLarge(ProtocolError):
    """The server's answer was larger than the client reads (it was not kept in memory)."""

    default_key = "syncer.response_too_large"


class PullStuck(ProtocolError):
    """The server said there was more to pull but its cursor did not move."""

    default_key = "syncer.pull_stuck"


class NotEnrolled(SyncError):
    """The vault has no device enrollment yet."""

    default_key = "syncer.not_enrolled"


class AlreadyRunning(SyncError):
    """A sync is already in progress (returned to a caller that chose not to wait)."""

    default_key = "syncer.already_running"
