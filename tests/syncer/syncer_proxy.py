"""A small TCP proxy for the syncer's tests: passes bytes, or drops, stalls and cuts connections."""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What happens to each new connection. Probabilities add up to at most 1; the rest pass.

    - ``refuse``: closed at once, before a byte reaches the server;
    - ``cut_request``: closed after a random part of what the client sends (request half-sent);
    - ``cut_response``: the request reaches the server whole, then the answer is cut part-way
      (the server did the work; the client never hears of it);
    - ``stall``: bytes stop flowing both ways for ``stall_seconds``, then the connection closes.
    Each chunk the client sends rolls the dice again, so faults hit keep-alive streams too.
    """

    refuse: float = 0.0
    cut_request: float = 0.0
    cut_response: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 1.5
    seed: int = 1


@dataclass
class ProxyStats:
    connections: int = 0
    refused: int = 0
    cut_request: int = 0
    cut_response: int = 0
    stalled: int = 0
    by_fate: dict = field(default_factory=dict)


class FaultyProxy:
    """Listens on 127.0.0.1:<random port>; forwards to ``target`` with ``faults``."""

    def __init__(self, target_port: int, faults: Faults | None = None) -> None:
        self.target = ("127.0.0.1", target_port)
        self.faults = faults or Faults()
        self.rng = random.Random(self.faults.seed)
        self.stats = ProxyStats()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept_loop, name="proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)
        self._thread.join(5)

    def set_faults(self, faults: Faults) -> None:
        with self._lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def _fate(self) -> tuple[str, int]:
        with self._lock:
            faults = self.faults
            roll = self.rng.random()
            size = self.rng.randint(0, 2048)
        for name in ("refuse", "cut_request", "cut_response", "stall"):
            chance = getattr(faults, name)
            if roll < chance:
                return name, size
            roll -= chance
        return "pass", size

    def _count(self, fate: str) -> None:
        with self._lock:
            self.stats.by_fate[fate] = self.stats.by_fate.get(fate, 0) + 1
            if fate == "refuse":
                self.stats.refused += 1
            elif fate == "cut_request":
                self.stats.cut_request += 1
            elif fate == "cut_response":
                self.stats.cut_response += 1
            elif fate == "stall":
                self.stats.stalled += 1

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.stats.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True, name="proxy").start()

    def _serve(self, client: socket.socket) -> None:
        """Faults are decided per chunk the client sends (a request, on keep-alive streams too)."""
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        with self._lock:
            self._sockets.update((client, upstream))
        upstream.settimeout(None)
        done = threading.Event()
        cut_after: list[int | None] = [None]  # bytes of the answer still to pass before cutting

        def down() -> None:
            try:
                while not done.is_set():
                    data = upstream.recv(65536)
                    if not data:
                        break
                    room = cut_after[0]
                    if room is not None:
                        client.sendall(data[:room])
                        if len(data) >= room:
                            break
                        cut_after[0] = room - len(data)
                        continue
                    client.sendall(data)
            except OSError:
                pass
            finally:
                done.set()
                _close(client)
                _close(upstream)

        threading.Thread(target=down, daemon=True, name="proxy-down").start()
        try:
            while not done.is_set():
                data = client.recv(65536)
                if not data:
                    break
                fate, size = self._fate()
                if fate != "pass":
                    self._count(fate)
                if fate == "refuse":
                    break
                if fate == "cut_request":
                    upstream.sendall(data[: min(size, len(data) - 1)])
                    break
                if fate == "stall":
                    done.wait(self.faults.stall_seconds)
                    break
                if fate == "cut_response":
                    cut_after[0] = size
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            done.set()
            _close(client)
            _close(upstream)
            with self._lock:
                self._sockets.discard(client)
                self._sockets.discard(upstream)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
