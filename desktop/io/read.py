"""Reading a contact list file into rows of cells: XLSX (openpyxl, read-only) or CSV as Swedish Excel writes it.

The format is decided by the file's first bytes, not its name. A workbook is opened with
openpyxl's read-only mode and its cells streamed sheet by sheet (``_xlsx_rows`` says why with
expat); a CSV file's encoding (UTF-8 with or without a byte order mark, UTF-16 with one, else
Windows-1252) and separator are detected and named in ``Table.describe()``.

Limits, and why: at most ``MAX_ROWS`` rows with data (a whole region's directory is a few
thousand; one import is one transaction that holds the database while it runs, and a file of a
million rows is a wrong file, not a list), files of at most ``MAX_FILE_MB`` and workbooks that
unpack to at most ``MAX_UNPACKED_MB``. Reading streams and stops at the first row past the limit,
so such a file is refused in about the time 50,000 rows take, without holding it in memory.
Every refusal is a FileRefused naming the file and what to do; nothing is read half.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from contextlib import closing
import xml.parsers.expat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from desktop.io.cells import csv_unescape
from desktop.io.columns import COLUMNS_BY_ID, KIND, ColumnMapping
from desktop.io.errors import FileRefused, IoError, check_cancel
from desktop.io.messages import Later, io_message, later, number

MAX_ROWS = 50_000
MAX_FILE_MB = 100
MAX_UNPACKED_MB = 500
HEADER_SCAN_ROWS = 20  # the header is among the first rows with anything in them
MAX_COLUMNS = 200  # cells to the right of this are never part of a contact list
PROGRESS_EVERY = 1_000

Progress = Callable[[str, int, "int | None"], None]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: .xls, or an encrypted .xlsx
_ENCRYPTION_STREAM = "EncryptionInfo".encode("utf-16-le")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Letters Swedish text never has, which Mac Roman or DOS (cp850) å/ä/ö/Ö become when read
# as Windows-1252: such a file is in another encoding, and importing it would garble names.
_NOT_SWEDISH = set("ŒŠšœŽžŸƒˆ˜‰‹›†‡™„")
_CSV_DELIMITERS = (";", ",", "\t", "|")


@dataclass(frozen=True)
class Location:
    """Where a row is: its line (1-based, as the spreadsheet program numbers it) and sheet."""

    line: int
    sheet: str | None = None

    def describe(self) -> str:
        if self.sheet is None:
            return io_message("where.line", line=self.line)
        return io_message("where.sheet_line", sheet=self.sheet, line=self.line)

    def __str__(self) -> str:  # inside another message: in the language of that moment
        return self.describe()


@dataclass(frozen=True)
class Row:
    location: Location
    cells: tuple[Any, ...]  # one value per column of its sheet (Sheet.columns), None when empty
    formulas: frozenset[int] = frozenset()  # indexes of cells that hold a formula
    errors: frozenset[int] = frozenset()  # indexes of cells that hold an error (#N/A …)


@dataclass
class Sheet:
    name: str | None  # None for CSV
    header_line: int
    columns: list[tuple[str, str]]  # (the header as written, the column id) of each used column
    rows: list[Row] = field(default_factory=list)

    def index(self, column_id: str) -> int | None:
        for i, (_, cid) in enumerate(self.columns):
            if cid == column_id:
                return i
        return None


@dataclass
class Table:
    """A file read: its sheets of rows, what it was, and notes for the preview."""

    path: Path
    format: str  # "xlsx" or "csv"
    sheets: list[Sheet]
    encoding: str | None = None  # CSV: the codec used
    delimiter: str | None = None  # CSV
    notices: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return sum(len(s.rows) for s in self.sheets)

    def describe(self) -> str:
        """What the file was, as a person reads it: "CSV, separated by semicolons, Windows-1252"."""
        if self.format == "xlsx":
            return io_message("format.xlsx")
        return io_message(
            "format.csv", delimiter=_delimiter_words(self.delimiter or ";"),
            encoding=_encoding_words(self.encoding or "utf-8"),
        )

    def notice_texts(self) -> list[str]:
        return [io_message(key, **values) for key, values in self.notices]


def _delimiter_words(delimiter: str) -> str:
    key = {";": "delimiter.;", ",": "delimiter.,", "\t": "delimiter.tab"}.get(delimiter)
    return io_message(key) if key else io_message("delimiter.other", char=delimiter)


def _encoding_words(encoding: str) -> str:
    key = f"encoding.{encoding}"
    if key in ("encoding.utf-8", "encoding.utf-8-sig", "encoding.cp1252", "encoding.utf-16"):
        return io_message(key)
    return io_message("encoding.other", encoding=encoding)


def read_table(
    path: Path | str,
    mapping: ColumnMapping | None = None,
    *,
    progress: Progress | None = None,
    cancel: Any = None,
) -> Table:
    """Read ``path`` into a Table; FileRefused for a file that cannot be imported at all."""
    path = Path(path)
    mapping = mapping or ColumnMapping()
    shown = str(path)
    if not path.exists():
        raise FileRefused("file.missing", path=shown)
    if path.is_dir():
        raise FileRefused("file.not_a_file", path=shown)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(8)
    except OSError as exc:
        raise FileRefused("file.unreadable", path=shown, reason=exc.strerror or type(exc).__name__) from None
    if size == 0:
        raise FileRefused("file.empty", path=shown)
    if size > MAX_FILE_MB * 1024 * 1024:
        raise FileRefused("file.too_large", path=shown, size=number(size / 1024 / 1024), max=MAX_FILE_MB)
    reader = _Reader(path, mapping, progress, cancel)
    if magic.startswith(_ZIP_MAGIC):
        return reader.xlsx()
    if magic == _CFB_MAGIC:
        data = path.read_bytes()
        raise FileRefused("xlsx.encrypted" if _ENCRYPTION_STREAM in data else "xlsx.legacy", path=shown)
    return reader.csv()


class _Reader:
    def __init__(self, path: Path, mapping: ColumnMapping, progress: Progress | None, cancel: Any):
        self.path = path
        self.shown = str(path)
        self.mapping = mapping
        self.progress = progress
        self.cancel = cancel
        self.rows_read = 0
        self.notices: list[tuple[str, dict[str, Any]]] = []
        self.ignored: list[str] = []
        self.headerless: list[Any] = []  # where rows with data had no header
        self.headerless_sheets: list[str | None] = []

    # --- the common part: header, columns, rows

    def _header(self, values: list[Any]) -> list[tuple[int, str, str]] | None:
        used = []
        for position, value in enumerate(values[:MAX_COLUMNS]):
            if value is None or isinstance(value, bool):
                continue
            column = self.mapping.column_for(value)
            if column is not None:
                used.append((position, str(value).strip(), column))
        ids = [cid for _, _, cid in used]
        if "function" not in ids or len(used) < 2:
            return None
        return used

    def _check_columns(self, used: list[tuple[int, str, str]], where: Any) -> None:
        seen: dict[str, str] = {}
        for _, header, column in used:
            if COLUMNS_BY_ID[column].level == KIND:
                continue  # two "Telefon" columns are two phone numbers
            if column in seen:
                raise FileRefused(
                    "table.duplicate_column", where=where, first=seen[column], second=header,
                    meaning=Later(COLUMNS_BY_ID[column].title),
                )
            seen[column] = header

    def _sheet(
        self, name: str | None, rows: Iterator[tuple[int, list[Any], frozenset[int], frozenset[int]]], total: int | None
    ) -> Sheet | None:
        """Find the header among the first rows, then collect the rows with data below it."""
        where: Any = later("where.sheet", sheet=name) if name is not None else self.shown
        wanted_header = self.mapping.header_row
        used = None
        scanned = skipped = 0
        sheet: Sheet | None = None
        positions: list[int] = []
        had_data = False
        for line, values, formulas, errors in rows:
            if line % PROGRESS_EVERY == 0:
                check_cancel(self.cancel)
                if self.progress:
                    self.progress("read", line, total)
            if sheet is None:
                empty = all(_blank(v) for v in values)
                if wanted_header is not None:
                    if line < wanted_header:
                        skipped += 0 if empty else 1
                        continue
                    used = self._header(values)
                    if used is None:
                        raise FileRefused("table.bad_header_row", row=wanted_header, where=where)
                elif empty:
                    continue
                else:
                    had_data = True
                    used = self._header(values)
                    if used is None:
                        scanned += 1
                        skipped += 1
                        if scanned >= HEADER_SCAN_ROWS:
                            break
                        continue
                self._check_columns(used, where)
                positions = [p for p, _, _ in used]
                sheet = Sheet(name, line, [(h, c) for _, h, c in used])
                mapped = set(positions)
                self.ignored += [
                    str(v).strip() for p, v in enumerate(values[:MAX_COLUMNS])
                    if p not in mapped and not _blank(v) and str(v).strip() not in self.ignored
                ]
                if skipped:
                    self.notices.append(("notice.rows_above_header", {"count": skipped, "where": where}))
                continue
            cells = tuple(values[p] if p < len(values) else None for p in positions)
            if all(_blank(c) for c in cells):
                continue
            self.rows_read += 1
            if self.rows_read > MAX_ROWS:
                raise FileRefused("table.too_many_rows", path=self.shown, max=number(MAX_ROWS))
            sheet.rows.append(Row(
                Location(line, name),
                cells,
                frozenset(i for i, p in enumerate(positions) if p in formulas) if formulas else frozenset(),
                frozenset(i for i, p in enumerate(positions) if p in errors) if errors else frozenset(),
            ))
        if sheet is None and had_data:
            self.headerless.append(where)
            self.headerless_sheets.append(name)
        return sheet

    def _table(self, fmt: str, sheets: list[Sheet], **extra: Any) -> Table:
        if not any(s.rows for s in sheets):
            if self.headerless and not sheets:
                raise FileRefused(
                    "table.no_header", where=self.headerless[0], rows=HEADER_SCAN_ROWS,
                    function=Later(COLUMNS_BY_ID["function"].title),
                )
            raise FileRefused("table.empty", path=self.shown)
        if self.ignored:
            self.notices.append(("notice.ignored_columns", {"columns": ", ".join(self.ignored)}))
        return Table(self.path, fmt, sheets, notices=self.notices, ignored_headers=self.ignored, **extra)

    # --- XLSX

    def xlsx(self) -> Table:
        self._check_zip()
        import openpyxl  # a second or so at first import; only when a workbook is read

        sheets: list[Sheet] = []
        try:
            with warnings.catch_warnings(), self.path.open("rb") as handle:
                # openpyxl warns about parts it skips (data validation, styles); none matter here.
                # The file is opened here so that it is closed even when openpyxl fails half-way.
                warnings.simplefilter("ignore")
                workbook = openpyxl.load_workbook(handle, read_only=True, data_only=False, keep_links=False)
                try:
                    chosen = workbook.worksheets
                    if self.mapping.sheet is not None:
                        chosen = [ws for ws in chosen if ws.title == self.mapping.sheet]
                        if not chosen:
                            raise FileRefused(
                                "xlsx.no_such_sheet", path=self.shown, sheet=self.mapping.sheet,
                                sheets=", ".join(ws.title for ws in workbook.worksheets),
                            )
                    for ws in chosen:
                        if getattr(ws, "sheet_state", "visible") != "visible" and self.mapping.sheet is None:
                            self.notices.append(("notice.hidden_sheet", {"sheet": ws.title}))
                            continue
                        if not hasattr(ws, "iter_rows"):  # a chart sheet
                            continue
                        with closing(_xlsx_rows(workbook, ws)) as rows:
                            sheet = self._sheet(ws.title, rows, ws.max_row)
                        if sheet is None or not sheet.rows:
                            key = "notice.empty_sheet" if sheet is not None or not self._headerless_is(ws.title) else "notice.no_header_sheet"
                            self.notices.append((key, {"sheet": ws.title}))
                        if sheet is not None:
                            sheets.append(sheet)
                finally:
                    workbook.close()
        except IoError:
            raise
        except Exception as exc:  # a damaged workbook can fail anywhere inside openpyxl
            raise FileRefused("xlsx.corrupt", path=self.shown, reason=type(exc).__name__) from None
        return self._table("xlsx", sheets)

    def _headerless_is(self, title: str) -> bool:
        return bool(self.headerless_sheets) and self.headerless_sheets[-1] == title

    def _check_zip(self) -> None:
        try:
            with zipfile.ZipFile(self.path) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise FileRefused("xlsx.corrupt", path=self.shown, reason=type(exc).__name__) from None
        if "xl/workbook.xml" not in names:
            raise FileRefused("xlsx.other_zip", path=self.shown)
        if unpacked > MAX_UNPACKED_MB * 1024 * 1024:
            raise FileRefused("xlsx.unpacks_too_large", path=self.shown, max=MAX_UNPACKED_MB)

    # --- CSV

    def csv(self) -> Table:
        encoding = self.mapping.encoding or self._detect_encoding()
        if self.mapping.encoding:
            self._check_encoding(encoding)
        try:
            with self.path.open("r", encoding=encoding, newline="") as handle:
                sample = handle.read(64 * 1024)
                handle.seek(0)
                delimiter, skip_first = self._delimiter(sample)
                reader = csv.reader(handle, delimiter=delimiter, quotechar='"', doublequote=True)
                sheet = self._sheet(None, self._csv_rows(reader, skip_first), None)
        except UnicodeDecodeError as exc:
            raise FileRefused("csv.encoding_given", path=self.shown, encoding=encoding, offset=exc.start) from None
        except OSError as exc:
            raise FileRefused("file.unreadable", path=self.shown, reason=exc.strerror or type(exc).__name__) from None
        return self._table("csv", [sheet] if sheet else [], encoding=encoding, delimiter=delimiter)

    def _csv_rows(self, reader, skip_first: bool) -> Iterator[tuple[int, list[Any], frozenset[int], frozenset[int]]]:
        empty: frozenset[int] = frozenset()
        line = 0
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise FileRefused(
                        "csv.field_too_long", line=start, path=self.shown, max=number(csv.field_size_limit())
                    ) from None
                raise FileRefused("csv.malformed", line=start, path=self.shown, reason=str(exc)) from None
            line += 1
            if skip_first and line == 1:
                continue
            cells = record[:MAX_COLUMNS]
            # A cell that begins with "=" is a formula a spreadsheet would run; one this program
            # escaped on export ("'=…") is text, and gets its "'" back off.
            formulas = frozenset(i for i, v in enumerate(cells) if v.startswith("=")) if "=" in line_text(cells) else empty
            yield start, [csv_unescape(v) if v else None for v in cells], formulas, empty

    def _detect_encoding(self) -> str:
        """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252 if it reads as Swedish text."""
        with self.path.open("rb") as handle:
            head = handle.read(4)
            if head.startswith(codecs.BOM_UTF8):
                return "utf-8-sig"
            if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return "utf-16"
            handle.seek(0)
            decoder = codecs.getincrementaldecoder("utf-8")()
            utf8 = True
            while chunk := handle.read(1024 * 1024):
                if _CONTROL_BYTES.search(chunk):
                    raise FileRefused("csv.binary", path=self.shown)
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
            if utf8:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            return "utf-8"
        self._check_encoding("cp1252", swedish=True)
        return "cp1252"

    def _check_encoding(self, encoding: str, swedish: bool = False) -> None:
        decoder = codecs.getincrementaldecoder(encoding)()
        offset = 0
        with self.path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    if swedish:
                        raise FileRefused(
                            "csv.encoding", path=self.shown,
                            detail=f"{offset + exc.start}: 0x{chunk[exc.start]:02X}",
                        ) from None
                    raise FileRefused(
                        "csv.encoding_given", path=self.shown, encoding=encoding, offset=offset + exc.start
                    ) from None
                if swedish:
                    odd = next((c for c in text if c in _NOT_SWEDISH), None)
                    if odd is not None:
                        raise FileRefused("csv.encoding", path=self.shown, detail=f"“{odd}”")
                offset += len(chunk)

    def _delimiter(self, sample: str) -> tuple[str, bool]:
        """(the separator, whether the first line is Excel's "sep=X" hint)."""
        first = sample.split("\n", 1)[0].strip().strip('"')
        if first.lower().startswith("sep=") and len(first) == 5:
            return first[4], True
        if self.mapping.delimiter:
            return self.mapping.delimiter, False
        lines = [line for line in sample.splitlines()[:200] if line.strip()]
        if len(sample) >= 64 * 1024 and len(lines) > 1:
            lines = lines[:-1]  # the last line of a cut sample may be cut too
        best, best_score = ";", (0.0, 0)
        for candidate in _CSV_DELIMITERS:
            try:
                counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=candidate)]
            except csv.Error:
                continue
            counts = [c for c in counts if c > 1]
            if not counts:
                continue
            modal = max(set(counts), key=counts.count)
            score = (counts.count(modal) / len(lines), modal)
            if score > best_score:
                best, best_score = candidate, score
        return best, False


def line_text(cells: list[str]) -> str:
    """The first characters of a row's cells, to find a leading "=" without a loop per cell."""
    return "".join(v[:1] for v in cells)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_COLUMN_LETTERS = re.compile(r"[A-Z]+")


def _column_number(reference: str) -> int:
    """ "C5" -> 3 (1-based)."""
    letters = _COLUMN_LETTERS.match(reference)
    number = 0
    for letter in letters[0] if letters else "":
        number = number * 26 + ord(letter) - 64
    return number


class _NoDoctype(Exception):
    """A worksheet with a document type declaration: never in a real workbook (entity tricks)."""


def _xlsx_rows(workbook, ws) -> Iterator[tuple[int, list[Any], frozenset[int], frozenset[int]]]:
    """(line, values, formula cells, error cells) of each row of a read-only worksheet.

    openpyxl has read the workbook (sheets, shared strings, which styles are dates); the cells
    themselves are streamed here with expat, about four times faster than openpyxl's own cell
    parser, which is what kept a 10,000-row import from its goal of two seconds. Values are what
    openpyxl's read-only mode gives: text, int/float, bool, datetime for date-styled numbers.
    """
    from openpyxl.utils.datetime import from_excel

    shared = ws._shared_strings
    date_styles = workbook._date_formats
    epoch = workbook.epoch
    rows: list[tuple[int, list[Any], frozenset[int], frozenset[int]]] = []
    state: dict[str, Any] = {"line": 0}
    text: list[str] = []
    values: list[Any] = []
    formulas: set[int] = set()
    errors: set[int] = set()
    cell: list[Any] = [0, None, None, False, None]  # column, type, style, has formula, value
    collecting = [False]
    in_phonetic = [False]

    def start(name: str, attrs: dict[str, str]) -> None:
        if name == "c":
            reference = attrs.get("r")
            cell[0] = _column_number(reference) if reference else len(values) + 1
            cell[1], cell[2], cell[3], cell[4] = attrs.get("t", "n"), attrs.get("s"), False, None
        elif name in ("v", "t"):
            if not in_phonetic[0]:
                collecting[0] = True
                if name == "v":
                    text.clear()
        elif name == "is":
            text.clear()
        elif name == "f":
            cell[3] = True
        elif name == "rPh":
            in_phonetic[0] = True
        elif name == "row":
            reference = attrs.get("r")
            state["line"] = int(reference) if reference and reference.isdigit() else state["line"] + 1
            values.clear()
            formulas.clear()
            errors.clear()

    def end(name: str) -> None:
        if name in ("v", "t"):
            collecting[0] = False
            if name == "v":
                cell[4] = "".join(text)
        elif name == "is":
            cell[4] = "".join(text)
        elif name == "rPh":
            in_phonetic[0] = False
        elif name == "c":
            column, kind, style, has_formula, raw = cell
            if column > MAX_COLUMNS:
                return
            position = column - 1
            if len(values) < position:
                values.extend([None] * (position - len(values)))
            if has_formula:
                formulas.add(position)
            value: Any = None
            if raw is not None and raw != "":
                if kind == "n":
                    number = float(raw)
                    value = int(number) if number.is_integer() and "." not in raw and "E" not in raw.upper() else number
                    if style is not None and int(style) in date_styles:
                        value = from_excel(number, epoch)
                elif kind == "s":
                    value = shared[int(raw)]
                elif kind in ("inlineStr", "str"):
                    value = raw
                elif kind == "b":
                    value = raw == "1"
                elif kind == "e":
                    errors.add(position)
                    value = raw
                else:  # "d": an ISO 8601 date
                    value = raw
            values.append(value)
        elif name == "row":
            rows.append((
                state["line"], list(values),
                frozenset(formulas) if formulas else frozenset(),
                frozenset(errors) if errors else frozenset(),
            ))

    def characters(data: str) -> None:
        if collecting[0]:
            text.append(data)

    def no_doctype(*_: Any) -> None:
        raise _NoDoctype()

    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = no_doctype
    parser.EntityDeclHandler = no_doctype
    with ws._get_source() as source:
        while chunk := source.read(256 * 1024):
            parser.Parse(chunk, False)
            yield from rows
            rows.clear()
        parser.Parse(b"", True)
        yield from rows
