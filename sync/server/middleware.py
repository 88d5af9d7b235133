"""ASGI middleware: the body size limit (413) and the oldest client accepted (426)."""

from __future__ import annotations

import re

from sync.server.problems import MEDIA_TYPE, problem, problem_bytes

_USER_AGENT = re.compile(r"(?:^|\s)Samverka/(\d+(?:\.\d+)*)")


def version_tuple(text: str) -> tuple[int, ...]:
    numbers = re.match(r"\d+(?:\.\d+)*", text.strip())
    if numbers is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(int(part) for part in numbers.group(0).split("."))


def _pad(version: tuple[int, ...]) -> tuple[int, ...]:
    return version + (0,) * (4 - len(version))


async def _send_problem(send, body: dict, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    payload = problem_bytes(body)
    await send(
        {
            "type": "http.response.start",
            "status": body["status"],
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class ClientVersionMiddleware:
    """``User-Agent: Samverka/<version>`` older than the minimum gets 426 client-too-old."""

    def __init__(self, app, min_version: str) -> None:
        self.app = app
        self.min_text = min_version
        self.min_version = _pad(version_tuple(min_version))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            agent = dict(scope.get("headers") or []).get(b"user-agent", b"").decode("latin-1")
            match = _USER_AGENT.search(agent)
            if match and _pad(version_tuple(match.group(1))) < self.min_version:
                body = problem(
                    "client-too-old",
                    f"this Samverka ({match.group(1)}) is older than the oldest version this "
                    f"server accepts ({self.min_text}); install the new version from your IT "
                    "department — until then the program keeps working offline",
                    min_client_version=self.min_text,
                )
                await _send_problem(send, body)
                return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes with 413, by Content-Length or while reading."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _problem(self) -> dict:
        return problem(
            "too-large",
            f"the body is larger than {self.limit // (1024 * 1024)} MiB; send fewer changes per push",
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await _send_problem(send, problem("invalid", "Content-Length is not a number", status=400))
                return
            if declared > self.limit:
                await _send_problem(send, self._problem(), [(b"connection", b"close")])
                return
        # Read the body first (bounded), so a body without Content-Length is limited too.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                if message["type"] == "http.disconnect":
                    return
                continue
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _send_problem(send, self._problem(), [(b"connection", b"close")])
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
