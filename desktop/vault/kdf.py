"""Argon2id for key slots: parameters, their floor and ceiling, calibration to this machine."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from desktop.vault.errors import InvalidKdfParams

# OWASP Password Storage Cheat Sheet, Argon2id: at least 19 MiB of memory, 2 iterations, 1 lane.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_ITERATIONS = 2
OWASP_MIN_LANES = 1

# Ceilings, so that a tampered slot file cannot make an unlock allocate terabytes or run for hours.
MAX_MEMORY_KIB = 4 * 1024 * 1024
MAX_ITERATIONS = 64
MAX_LANES = 16

# Calibration grows memory first (what makes Argon2id costly on GPUs) up to this cap, then
# iterations. The cap keeps a vault openable on a weaker laptop it is restored onto.
CALIBRATION_MEMORY_CAP_KIB = 256 * 1024
# Memory is rounded to whole MiB: readable in the file and in the benchmark.
_MEMORY_STEP_KIB = 1024

KEY_LENGTH = 32
SALT_LENGTH = 16


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters; construction refuses anything below the OWASP minimum."""

    memory_kib: int
    iterations: int
    lanes: int = 1

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def minimum(cls) -> KdfParams:
        """The OWASP minimum: 19 MiB, t=2, p=1."""
        return cls(OWASP_MIN_MEMORY_KIB, OWASP_MIN_ITERATIONS, OWASP_MIN_LANES)

    def validate(self) -> None:
        """Raise InvalidKdfParams unless minimum <= params <= ceiling."""
        values = (self.memory_kib, self.iterations, self.lanes)
        if any(type(value) is not int for value in values):
            raise InvalidKdfParams(
                "vault.kdf_out_of_range", params=self.describe(), detail="not integers"
            )
        if (
            self.memory_kib < OWASP_MIN_MEMORY_KIB
            or self.iterations < OWASP_MIN_ITERATIONS
            or self.lanes < OWASP_MIN_LANES
        ):
            raise InvalidKdfParams(
                "vault.kdf_too_weak",
                params=self.describe(),
                minimum=_describe(OWASP_MIN_MEMORY_KIB, OWASP_MIN_ITERATIONS, OWASP_MIN_LANES),
                detail="below the OWASP minimum",
            )
        if (
            self.memory_kib > MAX_MEMORY_KIB
            or self.iterations > MAX_ITERATIONS
            or self.lanes > MAX_LANES
            or self.memory_kib < 8 * self.lanes  # Argon2 needs 8 KiB per lane
        ):
            raise InvalidKdfParams(
                "vault.kdf_out_of_range", params=self.describe(), detail="above the ceiling"
            )

    def describe(self) -> str:
        return _describe(self.memory_kib, self.iterations, self.lanes)

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        """The 32-byte key Argon2id derives from `secret` and `salt` at these parameters."""
        return Argon2id(
            salt=salt,
            length=KEY_LENGTH,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        ).derive(secret)


def _describe(memory_kib: object, iterations: object, lanes: object) -> str:
    if isinstance(memory_kib, int) and memory_kib % 1024 == 0:
        memory = f"{memory_kib // 1024} MiB"
    else:
        memory = f"{memory_kib} KiB"
    return f"{memory}, t={iterations}, p={lanes}"


def _seconds_for(params: KdfParams, *, runs: int = 1) -> float:
    """The fastest of `runs` derivations: the first touch of fresh memory is slower than an
    unlock in steady state, and other programs only ever add time."""
    salt = b"samverka-calibrate"[:SALT_LENGTH]
    fastest = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        params.derive(b"calibration", salt)
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


def calibrate_kdf(
    target_seconds: float = 0.5, *, memory_cap_kib: int = CALIBRATION_MEMORY_CAP_KIB
) -> KdfParams:
    """Parameters that take about `target_seconds` to derive on this machine, never below minimum.

    One lane: the cost then does not depend on how many cores the machine that later opens the
    vault has. Memory grows first, up to `memory_cap_kib`, then iterations. Nothing is cached:
    each new slot is measured afresh, so slots made on faster machines get stronger parameters.
    Takes about 3 times `target_seconds`.
    """
    floor = KdfParams.minimum()
    if _seconds_for(floor, runs=2) >= target_seconds:
        return floor
    memory_cap_kib = max(memory_cap_kib, OWASP_MIN_MEMORY_KIB)

    # Probe at a size large enough that fixed overheads do not skew the per-KiB rate.
    probe = KdfParams(min(4 * OWASP_MIN_MEMORY_KIB, memory_cap_kib), OWASP_MIN_ITERATIONS, 1)
    rate = _seconds_for(probe, runs=2) / (probe.memory_kib * probe.iterations)
    chosen = _params_for(rate, target_seconds, memory_cap_kib)
    if chosen == probe:
        return chosen

    # One correction from measurements at the chosen size: cost is not quite linear in memory
    # (caches, page tables), and the probe alone undershoots by some 10 %.
    rate = _seconds_for(chosen, runs=2) / (chosen.memory_kib * chosen.iterations)
    return _params_for(rate, target_seconds, memory_cap_kib)


def _params_for(rate: float, target_seconds: float, memory_cap_kib: int) -> KdfParams:
    budget = target_seconds / max(rate, 1e-12)  # KiB-passes that fit in the target
    memory = budget / OWASP_MIN_ITERATIONS
    iterations = OWASP_MIN_ITERATIONS
    if memory > memory_cap_kib:
        memory = memory_cap_kib
        iterations = min(MAX_ITERATIONS, max(OWASP_MIN_ITERATIONS, round(budget / memory)))
    memory = math.floor(memory / _MEMORY_STEP_KIB) * _MEMORY_STEP_KIB
    memory = min(max(memory, OWASP_MIN_MEMORY_KIB), MAX_MEMORY_KIB)
    return KdfParams(int(memory), int(iterations), 1)
