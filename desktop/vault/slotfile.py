"""The key-slot file: its JSON format, strict parsing, per-slot checksums and atomic writes.

    {"format": 2, "vault_id": "<32 hex>",
     "slots": [{"id", "kind", "created",
                "kdf": {"name": "argon2id", "memory_kib", "iterations", "lanes", "salt"},
                "key_id", "nonce", "wrapped_key", "checksum"}]}

Binary values are standard base64. Each slot's metadata (format, the file's vault_id, id, kind,
created, kdf with its salt, key_id) is the AES-GCM associated data of its wrapped key, so an
edited parameter makes the unwrap fail, and a slot copied from another vault's file does not
open in this one. `key_id` names the database key the slot wraps (keys.key_id: a one-way
value, not the key): while the database key changes, the file briefly holds slots of the old
and of the new key, and the key that opens the database tells which ones are still of use.

Format 1 (before the database key could change) had no vault_id and no key_id. Such slots are
still read, in a format-1 file or carried over into a format-2 one ("legacy" slots, associated
data without vault_id and key_id); the vault re-seals one in the current form when its secret
is next used (Vault.settle), and drops all of them when the database key changes.

A failed unwrap looks exactly like a wrong passphrase, which would send a person whose file
was damaged on a hunt for a passphrase they never forgot. So each slot also carries a SHA-256
checksum of its other fields: accidental damage (a flipped bit, a cut-off copy, a hand edit)
is reported as damage. The checksum is not a security measure, anyone can recompute it; GCM is.

A slot that fails to parse is kept as it was read (a DamagedSlot) and written back verbatim by
later changes; only an explicit remove_slot, or a change of the database key (after which it
could never open anything), drops it. The file as a whole is refused (VaultCorrupt) when it is
not JSON, has an unknown format, or has no undamaged slot.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from desktop.vault.errors import (
    InvalidKdfParams,
    UnsupportedVaultFormat,
    VaultCorrupt,
    VaultUnreadable,
    VaultWriteFailed,
)
from desktop.vault.kdf import KdfParams

FORMAT_VERSION = 2
LEGACY_FORMAT = 1  # no vault_id, no key_id; still read (see the module docstring)
KINDS = ("passphrase", "recovery")
KDF_NAME = "argon2id"
NONCE_LENGTH = 12
WRAPPED_KEY_LENGTH = 32 + 16  # the database key and the GCM tag
MIN_SALT_LENGTH, MAX_SALT_LENGTH = 16, 64
MAX_FILE_BYTES = 1024 * 1024  # a few slots take ~2 KB; anything huge is not ours
_LEGACY_SLOT_FIELDS = frozenset({"id", "kind", "created", "kdf", "nonce", "wrapped_key", "checksum"})
_SLOT_FIELDS = _LEGACY_SLOT_FIELDS | {"key_id"}
_KDF_FIELDS = frozenset({"name", "memory_kib", "iterations", "lanes", "salt"})
_SLOT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HEX_ID = re.compile(r"[0-9a-f]{32}")  # vault_id and key_id
_AD_PREFIX = b"samverka vault slot\n"


class _SlotDamage(Exception):
    """Internal: why one slot cannot be used (English, for logs)."""


@dataclass(frozen=True)
class Slot:
    """One undamaged key slot: the database key wrapped under a key derived from one secret."""

    id: str
    kind: str
    created: str  # ISO 8601 with offset, kept as written: it is part of the associated data
    kdf: KdfParams
    salt: bytes
    nonce: bytes
    wrapped_key: bytes
    key_id: str | None = None  # None: a legacy (format 1) slot

    @property
    def legacy(self) -> bool:
        return self.key_id is None

    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.created)

    def associated_data(self, vault_id: str) -> bytes:
        """Everything but the ciphertext, canonically encoded, bound into the GCM tag."""
        if self.legacy:
            return _AD_PREFIX + _canonical({"format": LEGACY_FORMAT, **self._metadata()})
        metadata = {"format": FORMAT_VERSION, "vault_id": vault_id, **self._metadata()}
        return _AD_PREFIX + _canonical(metadata)

    def to_json(self) -> dict[str, object]:
        content: dict[str, object] = {
            **self._metadata(),
            "nonce": _b64(self.nonce),
            "wrapped_key": _b64(self.wrapped_key),
        }
        content["checksum"] = _checksum(content)
        return content

    def _metadata(self) -> dict[str, object]:
        metadata: dict[str, object] = {
            "id": self.id,
            "kind": self.kind,
            "created": self.created,
            "kdf": {
                "name": KDF_NAME,
                "memory_kib": self.kdf.memory_kib,
                "iterations": self.kdf.iterations,
                "lanes": self.kdf.lanes,
                "salt": _b64(self.salt),
            },
        }
        if not self.legacy:
            metadata["key_id"] = self.key_id
        return metadata


@dataclass(frozen=True)
class DamagedSlot:
    """A slot entry that could not be parsed, kept verbatim so that nothing is lost."""

    index: int
    id: str | None  # when the entry still has a usable id
    kind: str | None  # when the entry still names a known kind
    detail: str
    raw: object = field(repr=False)


@dataclass(frozen=True)
class SlotFile:
    """The parsed file: its vault id, its entries in order, and any top-level fields this version
    ignores. `version` is the format it was read in; writing always writes the current one."""

    vault_id: str
    entries: tuple[Slot | DamagedSlot, ...]
    extra: dict[str, object] = field(default_factory=dict)
    version: int = FORMAT_VERSION

    @property
    def slots(self) -> list[Slot]:
        return [entry for entry in self.entries if isinstance(entry, Slot)]

    @property
    def damaged(self) -> list[DamagedSlot]:
        return [entry for entry in self.entries if isinstance(entry, DamagedSlot)]

    def replace_entries(self, entries: list[Slot | DamagedSlot]) -> SlotFile:
        return SlotFile(self.vault_id, tuple(entries), self.extra, self.version)

    def key_ids(self) -> set[str]:
        """The database keys the (current-format) slots wrap; more than one while a key changes."""
        return {slot.key_id for slot in self.slots if slot.key_id is not None}

    def to_bytes(self) -> bytes:
        document: dict[str, object] = {
            **self.extra,
            "format": FORMAT_VERSION,
            "vault_id": self.vault_id,
            "slots": [
                entry.to_json() if isinstance(entry, Slot) else entry.raw for entry in self.entries
            ],
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_slot_file(path: Path) -> SlotFile:
    """Read and parse `path`; VaultCorrupt or VaultUnreadable name it. Never writes."""
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise VaultUnreadable(path=path, reason=error.strerror or type(error).__name__) from None
    if len(data) > MAX_FILE_BYTES:
        raise VaultCorrupt(path=path, detail=f"larger than {MAX_FILE_BYTES} bytes")
    return parse_slot_file(path, data)


def parse_slot_file(path: Path, data: bytes) -> SlotFile:
    try:
        document = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise VaultCorrupt(path=path, detail=f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise VaultCorrupt(path=path, detail="top level is not an object")
    version = document.get("format")
    if type(version) is int and version > FORMAT_VERSION:
        raise UnsupportedVaultFormat(path=path, found=version, detail=f"format {version}")
    if type(version) is not int or version not in (LEGACY_FORMAT, FORMAT_VERSION):
        raise VaultCorrupt(path=path, detail=f"format is {version!r}, expected {FORMAT_VERSION}")
    vault_id = document.get("vault_id")
    if version == LEGACY_FORMAT:
        # Format 1 had no vault id. A new one is chosen now; it is written with the next change
        # (legacy slots do not bind it, so choosing it changes nothing that is already sealed).
        vault_id = new_vault_id() if vault_id is None else vault_id
    if not isinstance(vault_id, str) or not _HEX_ID.fullmatch(vault_id):
        raise VaultCorrupt(path=path, detail=f"vault_id is {vault_id!r}, expected 32 hex digits")
    raw_slots = document.get("slots")
    if not isinstance(raw_slots, list) or not raw_slots:
        raise VaultCorrupt(path=path, detail="'slots' is missing, not a list, or empty")

    entries: list[Slot | DamagedSlot] = []
    for index, raw in enumerate(raw_slots):
        try:
            entries.append(_parse_slot(raw, version))
        except _SlotDamage as damage:
            entries.append(_damaged(index, raw, str(damage)))
    ids = [entry.id for entry in entries if entry.id is not None]
    if len(ids) != len(set(ids)):
        raise VaultCorrupt(path=path, detail="two slots share an id")
    if not any(isinstance(entry, Slot) for entry in entries):
        details = "; ".join(
            f"slot {e.index}: {e.detail}" for e in entries if isinstance(e, DamagedSlot)
        )
        raise VaultCorrupt(path=path, detail=f"no undamaged slot ({details})")
    extra = {
        key: value for key, value in document.items() if key not in ("format", "vault_id", "slots")
    }
    return SlotFile(vault_id, tuple(entries), extra, version)


def new_vault_id() -> str:
    return uuid.uuid4().hex


def _parse_slot(raw: object, version: int) -> Slot:
    if not isinstance(raw, dict):
        raise _SlotDamage("not an object")
    # A format-2 file may carry legacy slots over from format 1; a format-1 file has only those.
    allowed = (_LEGACY_SLOT_FIELDS,) if version == LEGACY_FORMAT else (_SLOT_FIELDS, _LEGACY_SLOT_FIELDS)
    if set(raw) not in allowed:
        raise _SlotDamage(f"fields are {sorted(raw)}, expected {sorted(allowed[0])}")
    key_id = raw.get("key_id")
    if key_id is not None and not (isinstance(key_id, str) and _HEX_ID.fullmatch(key_id)):
        raise _SlotDamage("bad key_id")
    slot_id, kind, created, kdf = raw["id"], raw["kind"], raw["created"], raw["kdf"]
    if not isinstance(slot_id, str) or not _SLOT_ID.fullmatch(slot_id):
        raise _SlotDamage("bad id")
    if kind not in KINDS:
        raise _SlotDamage(f"unknown kind {kind!r}")
    if not isinstance(created, str):
        raise _SlotDamage("'created' is not a string")
    try:
        if datetime.fromisoformat(created).tzinfo is None:
            raise _SlotDamage("'created' has no time zone")
    except ValueError:
        raise _SlotDamage("'created' is not an ISO 8601 time") from None
    if not isinstance(kdf, dict) or set(kdf) != _KDF_FIELDS:
        raise _SlotDamage("'kdf' is not an object with the expected fields")
    if kdf["name"] != KDF_NAME:
        raise _SlotDamage(f"kdf {kdf['name']!r} is not {KDF_NAME}")
    try:
        params = KdfParams(kdf["memory_kib"], kdf["iterations"], kdf["lanes"])
    except InvalidKdfParams as error:
        raise _SlotDamage(f"kdf parameters refused: {error.detail}") from None
    salt = _unb64(kdf["salt"], "salt")
    if not MIN_SALT_LENGTH <= len(salt) <= MAX_SALT_LENGTH:
        raise _SlotDamage(f"salt is {len(salt)} bytes")
    nonce = _unb64(raw["nonce"], "nonce")
    if len(nonce) != NONCE_LENGTH:
        raise _SlotDamage(f"nonce is {len(nonce)} bytes, expected {NONCE_LENGTH}")
    wrapped_key = _unb64(raw["wrapped_key"], "wrapped_key")
    if len(wrapped_key) != WRAPPED_KEY_LENGTH:
        raise _SlotDamage(f"wrapped_key is {len(wrapped_key)} bytes, expected {WRAPPED_KEY_LENGTH}")
    content = {name: value for name, value in raw.items() if name != "checksum"}
    if raw["checksum"] != _checksum(content):
        raise _SlotDamage("checksum does not match the contents")
    return Slot(slot_id, kind, created, params, salt, nonce, wrapped_key, key_id)


def _damaged(index: int, raw: object, detail: str) -> DamagedSlot:
    slot_id = kind = None
    if isinstance(raw, dict):
        if isinstance(raw.get("id"), str) and _SLOT_ID.fullmatch(raw["id"]):
            slot_id = raw["id"]
        if raw.get("kind") in KINDS:
            kind = raw["kind"]
    return DamagedSlot(index, slot_id, kind, detail, raw)


def write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file, never a mix.

    Temp file in the same folder (created 0600), fsync, rename over, fsync the folder. With
    `exclusive`, FileExistsError instead of replacing a file that appeared meanwhile.
    Other failures raise VaultWriteFailed; the temp file is removed and the old file stays.
    """
    directory = path.parent
    try:
        descriptor, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".tmp", dir=directory
        )
    except OSError as error:
        raise VaultWriteFailed(path=path, reason=_reason(error)) from None
    temp_path = Path(temp_name)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if exclusive:
            _link_exclusive(temp_path, path)
        else:
            os.replace(temp_path, path)
    except FileExistsError:
        _remove_quietly(temp_path)
        raise
    except OSError as error:
        _remove_quietly(temp_path)
        raise VaultWriteFailed(path=path, reason=_reason(error)) from None
    except BaseException:
        _remove_quietly(temp_path)
        raise
    _fsync_directory(directory)


def _link_exclusive(temp_path: Path, path: Path) -> None:
    # A hard link fails if the target exists, atomically; rename would silently replace it.
    try:
        os.link(temp_path, path)
    except FileExistsError:
        raise
    except OSError:
        # File systems without hard links (FAT, some network shares): check, then rename.
        if path.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from None
        os.replace(temp_path, path)
    else:
        os.unlink(temp_path)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable. Windows cannot open folders; there NTFS journals the rename."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:
        # Some file systems refuse fsync on folders; the file itself is already synced and the
        # rename done, so reporting a failure here would claim the change did not happen.
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise VaultWriteFailed(path=directory, reason=_reason(error)) from None
    finally:
        os.close(descriptor)


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _checksum(content: dict[str, object]) -> str:
    return "sha256:" + hashlib.sha256(_canonical(content)).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise _SlotDamage(f"{name} is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _SlotDamage(f"{name} is not valid base64") from None


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str) -> object:
    raise ValueError(f"{name} is not allowed")
