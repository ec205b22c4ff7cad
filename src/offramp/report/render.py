"""The report as one self-contained HTML file, and the same file printed to PDF by WeasyPrint.

The HTML carries its stylesheet inline and its charts as inline SVG, and has no script: it opens
the same way from a laptop, an encrypted drive or an e-mail attachment, with no network. The PDF is
made from that very HTML with the print rules of the stylesheet (A4, page numbers "Page n of m",
a table of contents with page numbers, the report's title as a running head).
"""

from __future__ import annotations

import datetime as dt
import os
from importlib import metadata
from pathlib import Path
from typing import Any

from markupsafe import Markup

from offramp.errors import InputError
from offramp.report.model import Report
from offramp.web.templating import render

_CSS = Path(__file__).resolve().parent / "templates" / "report.css"


def _version() -> str:
    try:
        return metadata.version("offramp")
    except metadata.PackageNotFoundError:
        return "unknown"


def render_html(report: Report, *, plan_name: str = "", language: str = "en",
                generated: dt.date | None = None) -> str:
    css = Markup(_CSS.read_text(encoding="utf-8"))  # noqa: S704 - our own stylesheet
    return render("report.html", r=report, css=css, lang=language, version=_version(),
                  plan_name=plan_name, generated=(generated or dt.date.today()).isoformat())


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint's fetcher: the report refers to nothing outside itself, so nothing is fetched."""
    raise ValueError(f"the report does not load {url!r}")


def write_pdf(html: str, path: Path) -> int:
    """Print the HTML to `path` (written under a temporary name, then renamed); returns pages."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: a system library (pango) is missing
        raise InputError(f"cannot make a PDF here: WeasyPrint does not load ({exc})",
                         hint="install weasyprint and its system libraries (pango), or "
                         "print the HTML report from a browser") from None
    document = HTML(string=html, url_fetcher=_no_fetch).render()
    temporary = path.with_name(f".{path.name}.partial")
    document.write_pdf(temporary)
    os.replace(temporary, path)
    return len(document.pages)


def write_html(html: str, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(html, encoding="utf-8")
    os.replace(temporary, path)
