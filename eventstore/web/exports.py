"""Exports people open in a spreadsheet: one table written as CSV or XLSX by the same code.

An export is a list of sheets, each a title and rows of typed cells: text, int, Decimal, `Amount`
(a Decimal in a currency), `Label` (a column or row name), datetime, date, bool, None, or JSON data
(dict, list). Each format writes a cell its own way:

- CSV (RFC 4180, UTF-8, streamed unless already in memory): numbers as plain decimals (1234.50), moments
  in ISO 8601 with their offset, labels by their stable name (payment_id: what programs read, the same
  in every language), sheets one after the other with an empty row between; with `bom`, a UTF-8 byte
  order mark first, so that Excel reads the accents right.
- XLSX (openpyxl's write-only workbook, spooled to a temporary file, so a big export takes constant
  memory), for people: labels in the reader's language, numbers as number cells (amounts with their
  currency's decimals and code as the cell format), moments as date cells in the current time zone, one
  worksheet per sheet (titled in the reader's language).

Text a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return: OWASP's
CSV injection guidance) is neutralised: CSV cells get a leading apostrophe, XLSX cells are written as
text, never as a formula. Numbers are never touched: a negative amount stays a number.
"""

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

CSV, XLSX = "csv", "xlsx"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit in every spreadsheet that reads XLSX
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Amount:
    """Money: the amount with its currency's decimals (None: as stored) in both formats."""

    value: Decimal
    currency: str
    decimals: int | None = None

    @property
    def quantized(self) -> Decimal:
        return self.value if self.decimals is None else self.value.quantize(Decimal(1).scaleb(-self.decimals))


@dataclass(frozen=True)
class Label:
    """A column or row name: `name` in CSV (stable, for programs), `text` in XLSX (for people)."""

    name: str
    text: str


@dataclass(frozen=True)
class Sheet:
    """One table of the export: its rows (the first one is usually the header), read once, lazily."""

    title: str  # the worksheet's name in XLSX
    rows: Iterable[Sequence]


class ExportFormatUnknown(ValueError):
    pass


def requested_format(request: HttpRequest, default: str = CSV) -> tuple[str, bool]:
    """The format a download link asks for (`download=csv|xlsx`) and whether it wants a byte order mark
    (`bom=1`, CSV only)."""
    file_format = (request.GET.get("download") or default).lower()
    if file_format not in CONTENT_TYPES:
        raise ExportFormatUnknown(file_format)
    return file_format, asks_bom(request.GET.get("bom", ""))


def asks_bom(value: str) -> bool:
    """`bom=1` (or true, on, yes): the CSV starts with a byte order mark."""
    return value.lower() in ("1", "true", "on", "yes")


def download(request: HttpRequest, sheets: Sequence[Sheet], *, file_stem: str,
             stream: bool = True) -> HttpResponseBase:
    """A page's download in the format its link asks for (`?download=csv|xlsx`, `&bom=1`); 400 for another."""
    try:
        file_format, bom = requested_format(request)
    except ExportFormatUnknown:
        return HttpResponseBadRequest(_("Unknown export format: use csv or xlsx."))
    return export_response(sheets, file_stem=file_stem, file_format=file_format, bom=bom, stream=stream)


def export_response(sheets: Sequence[Sheet], *, file_stem: str, file_format: str = CSV, bom: bool = False,
                    stream: bool = True) -> HttpResponseBase:
    """The download of `sheets` as `file_stem`.csv or `file_stem`.xlsx. CSV is streamed row by row
    unless `stream` is off (rows already in memory: one response with its length)."""
    name = f"{file_stem}.{file_format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if file_format == CSV:
        lines = csv_lines(sheets, bom=bom)
        if not stream:
            return HttpResponse("".join(lines), content_type=CONTENT_TYPES[CSV], headers=headers)
        return StreamingHttpResponse(lines, content_type=CONTENT_TYPES[CSV], headers=headers)
    if file_format == XLSX:
        response = FileResponse(xlsx_file(sheets), as_attachment=True, filename=name)
        response["Content-Type"] = CONTENT_TYPES[XLSX]
        return response
    raise ExportFormatUnknown(file_format)


class _Echo:
    def write(self, value):
        return value


def csv_lines(sheets: Sequence[Sheet], *, bom: bool = False) -> Iterator[str]:
    """The CSV, line by line."""
    writer = csv.writer(_Echo())  # RFC 4180 line ends: a cell holding a CR or LF is quoted
    if bom:
        yield BOM
    for number, sheet in enumerate(sheets):
        if number:
            yield writer.writerow([])
        for row in sheet.rows:
            yield writer.writerow([csv_cell(value) for value in row])


def csv_text(sheets: Sequence[Sheet], *, bom: bool = False) -> str:
    return "".join(csv_lines(sheets, bom=bom))


def csv_cell(value) -> str:
    """One CSV cell: plain decimals, ISO 8601 moments, JSON for data, neutralised text."""
    if value is None:
        return ""
    if isinstance(value, Label):
        return neutralised(value.name)
    if isinstance(value, Amount):
        return format(value.quantized, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (bool, int)):
        return str(value)
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return neutralised(str(value))


def neutralised(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def xlsx_file(sheets: Sequence[Sheet]):
    """The workbook in a temporary file, rewound: a FileResponse streams and closes it."""
    workbook = Workbook(write_only=True)
    for sheet in sheets:
        worksheet = workbook.create_sheet(_sheet_title(sheet.title))
        for number, row in enumerate(sheet.rows):
            if number == XLSX_MAX_ROWS - 1:  # never a silent cut: the last row says where it stopped
                worksheet.append([_("Cut at %(count)s rows, a worksheet's limit: filter the list to export the "
                                    "rest, or export it as CSV.") % {"count": number}])
                break
            worksheet.append([_xlsx_cell(worksheet, value, header=number == 0) for value in row])
    file = tempfile.TemporaryFile()
    workbook.save(file)
    file.seek(0)
    return file


_BOLD = Font(bold=True)


def _xlsx_cell(worksheet, value, *, header: bool) -> WriteOnlyCell:
    if isinstance(value, Amount):
        cell = WriteOnlyCell(worksheet, value.quantized)
        cell.number_format = f'{_decimal_format(value.decimals, value.quantized)} "{value.currency}"'
    elif isinstance(value, Decimal):
        cell = WriteOnlyCell(worksheet, value)
        cell.number_format = _decimal_format(None, value)
    elif isinstance(value, datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        cell = WriteOnlyCell(worksheet, moment.replace(tzinfo=None))
        cell.number_format = _DATETIME_FORMAT
    elif isinstance(value, date):
        cell = WriteOnlyCell(worksheet, value)
        cell.number_format = _DATE_FORMAT
    elif value is None or isinstance(value, (bool, int)):
        cell = WriteOnlyCell(worksheet, value)
    else:
        text = value.text if isinstance(value, Label) else value
        text = csv_cell(text) if isinstance(text, (dict, list)) else str(text)
        cell = WriteOnlyCell(worksheet, ILLEGAL_CHARACTERS_RE.sub("", text))
        cell.data_type = "s"  # text, even when it starts with "=": never a formula
    if header:
        cell.font = _BOLD
    return cell


def _decimal_format(decimals: int | None, value: Decimal) -> str:
    if decimals is None:
        exponent = value.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _sheet_title(title: str) -> str:
    """Worksheet titles: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if character in "[]:*?/\\" else character for character in title).strip()
    return cleaned[:31] or "Sheet"
