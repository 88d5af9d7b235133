"""Contact lists in and the directory out: XLSX and CSV import with a preview, XLSX/CSV/vCard export (no Qt).

The parts, in the order an import runs them:
- ``columns``: what a column means (ids, Swedish and English headers, cell words) and the mapping file;
- ``read``: a file into rows of cells (XLSX through openpyxl's read-only mode, CSV as Swedish
  Excel writes it), with its format, encoding and dialect named, and every bad file refused whole;
- ``plan``: rows against the store into what will be created, updated and refused (the preview);
- ``preview``: the plan in words (counts, refused rows with their lines, one line per change);
- ``apply``: the plan into the store in one transaction;
- ``export``: the directory out as XLSX (one sheet per organisation, through ``xlsx_writer``),
  CSV or vCard 4.0.

Long steps report progress through a callback and stop when a cancel event is set, so the
window can wrap them in a dialog; everything here is safe to run in a worker thread.
"""

from desktop.io.apply import ImportResult, apply_import
from desktop.io.columns import ColumnMapping, load_mapping, save_mapping
from desktop.io.errors import Cancelled, FileRefused, IoError, PlanOutdated
from desktop.io.export import EXPORT_FORMATS, ExportResult, export_directory
from desktop.io.plan import ImportPlan, Organisation, choose_organisation, plan_import, prepare_import
from desktop.io.read import Table, read_table

__all__ = [
    "EXPORT_FORMATS",
    "Cancelled",
    "ColumnMapping",
    "ExportResult",
    "FileRefused",
    "ImportPlan",
    "ImportResult",
    "IoError",
    "Organisation",
    "PlanOutdated",
    "Table",
    "apply_import",
    "choose_organisation",
    "export_directory",
    "load_mapping",
    "plan_import",
    "prepare_import",
    "read_table",
    "save_mapping",
]
