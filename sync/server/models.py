"""The server's tables (SQLAlchemy models); migrations/ creates them, so change both together.

Every synced collection lives in one generic ``records`` table: the field values with their
clocks as JSON, plus what the server decides (owner, visibility, tombstone, position). Times are
integer milliseconds since the epoch, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Position(Base):
    """One row: the last position handed out, and the retention watermark (see storage)."""

    __tablename__ = "positions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)
    watermark: Mapped[int] = mapped_column(BigInteger)


class ServerMeta(Base):
    __tablename__ = "server_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str] = mapped_column(String(100), unique=True)
    regional_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class EnrollmentCode(Base):
    __tablename__ = "enrollment_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(String(36))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    used_by: Mapped[str | None] = mapped_column(String(36), nullable=True)


class EnrollmentFailure(Base):
    __tablename__ = "enrollment_failures"
    __table_args__ = (Index("ix_enrollment_failures_address_at", "address", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(100))
    at: Mapped[int] = mapped_column(BigInteger)


class Record(Base):
    """One synced record; also the ``sync.rules.RecordFacts`` the write rules read."""

    __tablename__ = "records"
    collection: Mapped[str] = mapped_column(String(40), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_org: Mapped[str] = mapped_column(String(36))
    # What a pull reports: "internal" when the record itself is internal or inherits it from
    # its parent (sync.rules.visible_to), else "regional".
    visibility: Mapped[str] = mapped_column(String(20))
    # Who reads the record in full: NULL every organisation, else that one organisation's id
    # ("" none). Kept up to date with the record's own visibility and its parent's.
    visible_to: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # "<collection>/<record_id>" of the record whose visibility this one inherits (a channel's
    # function, a step's routine, a conflict's record; sync.rules.visibility_parent), kept when
    # the record is deleted: found by this index when the parent's visibility changes.
    parent_key: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_clock: Mapped[str | None] = mapped_column(String(100), nullable=True)
    deleted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # {field: {"value": ..., "clock": "..."}}, stored as compact JSON text (db.json_text; a
    # PostgreSQL ``json`` column keeps the text as given). A pull sends this text as it is.
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Log entries only: the entry's link in its activation's hash chain (sync.journal), as
    # compact JSON text {"index", "entry_hash", "chain"}; made when the entry is sequenced and
    # sent in a pull as the record state's ``journal`` member. NULL for every other record.
    journal: Mapped[str | None] = mapped_column(Text, nullable=True)

    def value(self, name: str) -> Any:
        """The current value of a field (None when unset, or for a tombstone)."""
        if self.deleted or not self.fields:  # a tombstone, or a record being made
            return None
        held = self.fields.get(name)
        return held["value"] if held else None

    def readable_by(self, organisation_id: str) -> bool:
        return self.visible_to is None or self.visible_to == organisation_id


class JournalHead(Base):
    """The last link of each activation's journal chain: what the next entry links to."""

    __tablename__ = "journal_heads"
    activation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    last_index: Mapped[int] = mapped_column(BigInteger)
    chain: Mapped[str] = mapped_column(String(64))


class ChangeLog(Base):
    """Change ids whose outcome was applied or conflict: what makes a resend a duplicate."""

    __tablename__ = "changes"
    change_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    seq: Mapped[int] = mapped_column(BigInteger)
    collection: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str] = mapped_column(String(36))
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    at: Mapped[int] = mapped_column(BigInteger)


class Audit(Base):
    __tablename__ = "audit"
    # 64-bit: every pushed change adds a row. SQLite's INTEGER PRIMARY KEY is already 64-bit
    # (and only that spelling is its auto-incrementing rowid).
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[int] = mapped_column(BigInteger, index=True)
    device_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    organisation_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    change_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    collection: Mapped[str | None] = mapped_column(String(40), nullable=True)
    record_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    op: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(40))
