"""An .xlsx writer for the dataset: streamed, vectorised, and with every text cell defused.

Why not openpyxl's writer: it moves about 80,000 cells a second here, so 100,000 respondents x
300 variables took over six minutes. This writer builds each row's XML with Polars string
expressions (in Rust) and streams it into the zip: the same workbook in seconds. openpyxl reads
the result back in the tests, so the file is checked by an independent implementation.

The workbook is the minimal SpreadsheetML package (ECMA-376 part 1): one sheet "data", a header
row of column names, then one row per respondent. Numbers are number cells (reserved codes stay
numbers: -97, -98, -99); text is inline-string cells, neutralised against formulas (see
offramp.data.neutralise), XML-escaped, with characters XML 1.0 cannot carry written as Excel's
`_xHHHH_` escapes (and a literal `_xHHHH_` in the text escaped as `_x005F_xHHHH_`, Excel's rule,
so it reads back unchanged). Days are written as ISO text (`2024-05-01`), never as a date serial.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import polars as pl

from offramp.data.atomic import atomic_path
from offramp.data.neutralise import neutralise_frame
from offramp.errors import InputError

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" Type="{_REL}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
    ),
    "xl/styles.xml": (
        f'<styleSheet xmlns="{_MAIN}"><fonts count="1"><font><sz val="11"/>'
        '<name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill '
        'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
        'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" '
        'fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle '
        'name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
    ),
}
_ILLEGAL_XML = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (the spreadsheet's column names)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape_expr(expr: pl.Expr) -> pl.Expr:
    escaped = (
        expr.str.replace_all(r"(_x[0-9A-Fa-f]{4}_)", "_x005F$1")
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
        .str.replace_all("\r", "&#13;", literal=True)
    )
    return escaped


def _escape_illegal(value: str) -> str:
    return "".join(f"_x{ord(ch):04X}_" if _is_illegal(ch) else ch for ch in value)


def _is_illegal(ch: str) -> bool:
    code = ord(ch)
    return (code < 0x20 and ch not in "\t\n\r") or code in (0xFFFE, 0xFFFF)


def _cell_exprs(data: pl.DataFrame) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    row = pl.col("__row").cast(pl.Utf8)
    for index, (name, dtype) in enumerate(data.schema.items()):
        ref = pl.lit(f'<c r="{column_letter(index)}')
        col = pl.col(name)
        if dtype.is_numeric():
            body = pl.concat_str([ref, row, pl.lit('"><v>'), col.cast(pl.Utf8), pl.lit("</v></c>")])
        else:
            text = col.cast(pl.Utf8)
            text = pl.when(text.str.contains(_ILLEGAL_XML)).then(
                text.map_elements(_escape_illegal, return_dtype=pl.Utf8)
            ).otherwise(text)
            body = pl.concat_str([ref, row, pl.lit('" t="inlineStr"><is><t xml:space="preserve">'),
                                  _escape_expr(text), pl.lit("</t></is></c>")])
        exprs.append(pl.when(col.is_null()).then(pl.lit("")).otherwise(body))
    return exprs


def write_xlsx(data: pl.DataFrame, path: Path, codebook: dict[str, Any] | None = None,
               *, chunk_rows: int = 2000) -> Path:
    del codebook  # labels live in the codebook beside the workbook
    if data.height + 1 > MAX_ROWS or data.width > MAX_COLUMNS:
        raise InputError(
            f"{data.height} rows x {data.width} columns do not fit in one Excel sheet",
            hint="export as parquet, csv, sav or dta instead",
        )
    safe = neutralise_frame(data)
    header = pl.DataFrame({name: [name] for name in data.columns},
                          schema={name: pl.Utf8 for name in data.columns})
    cells = _cell_exprs(safe)
    with atomic_path(path) as temporary, zipfile.ZipFile(
        temporary, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
    ) as archive:
        for part, xml in _PARTS.items():
            archive.writestr(part, _HEAD + xml)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((_HEAD + f'<worksheet xmlns="{_MAIN}"><sheetData>').encode("utf-8"))
            sheet.write(_rows(header.with_columns(pl.lit(1).alias("__row")), _cell_exprs(header)))
            for start in range(0, safe.height, chunk_rows):
                chunk = safe.slice(start, chunk_rows).with_columns(
                    pl.int_range(start + 2, start + 2 + min(chunk_rows, safe.height - start))
                    .alias("__row")
                )
                sheet.write(_rows(chunk, cells))
            sheet.write(b"</sheetData></worksheet>")
    return path


def _rows(frame: pl.DataFrame, cells: list[pl.Expr]) -> bytes:
    row = pl.col("__row").cast(pl.Utf8)
    xml = frame.select(
        pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")])
        .alias("xml")
    )["xml"]
    return "".join(xml.to_list()).encode("utf-8")
