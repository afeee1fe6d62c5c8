"""The pack renders to PDF with LibreOffice: every sheet prints, each page carries the marking,
and the text prints at a readable size."""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess

import pytest
from briefing_helpers import small_store

from nkbrief.briefing.pack import SECTIONS, PackOptions, build_pack

SOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")


def _pages(pdf) -> list[str]:
    out = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


_WORD = re.compile(r'<word xMin="[-0-9.]+" yMin="([-0-9.]+)" xMax="[-0-9.]+" yMax="([-0-9.]+)">'
                   r'([^<]*)</word>')


def _word_height(pdf, page: int) -> float:
    """The median height (points) of the word boxes on a page: mostly the 10-point body text."""
    html = subprocess.run([PDFTOTEXT, "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, timeout=120, check=True).stdout
    return statistics.median(float(b) - float(a) for a, b, _ in _WORD.findall(html))


#: A word box is at least 1.1 times the font size (ascent + descent; pdftotext gives ~1.24
#: for Liberation Sans), so 10-point text printed at 60% has boxes of 6.6 points or more.
#: The old 23-column Event log, fitted to one page wide, printed at ~35%: boxes of 4.2 points.
MIN_BOX_AT_60_PERCENT = 0.6 * 10 * 1.1


@pytest.mark.slow
@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (libreoffice/soffice) is not installed; "
                    "the PDF rendering check needs it")
def test_pack_converts_to_pdf_with_every_sheet(tmp_path):
    st = small_store(tmp_path / "s.sqlite3", payloads=True)
    ids = list(st.events_frame()["id"])
    pack = build_pack(st, ids, PackOptions(output=tmp_path / "pack.xlsx", title="PDF check",
                                           classification="CONFIDENTIAL", key_judgments=["One."]))
    st.close()
    profile = tmp_path / "lo-profile"  # a private profile: another running LibreOffice cannot interfere
    r = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(pack)],
                       capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "pdf" / "pack.pdf"
    assert r.returncode == 0 and pdf.exists(), r.stderr or r.stdout
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (poppler-utils) is absent: converted, but pages not checked")
    pages = _pages(pdf)
    names = sorted(SECTIONS.values(), key=len, reverse=True)
    printed = []
    for text in pages:
        first = next(line for line in text.splitlines() if line.strip())
        assert "CONFIDENTIAL" in first  # the header on every page
        assert "CONFIDENTIAL" in text.strip().splitlines()[-1]  # and the footer
        sheet = next(n for n in names if first.rstrip().endswith(n))
        if not printed or printed[-1] != sheet:
            printed.append(sheet)
    assert printed == list(SECTIONS.values())  # every sheet, in order, each on its own pages
    assert f"Page 1 of {len(pages)}" in pages[0]
    # Readable on paper: every page's text prints at 60% or more of its size, the Event log's
    # key facts at full size.
    for n, text in enumerate(pages, 1):
        assert _word_height(pdf, n) >= MIN_BOX_AT_60_PERCENT, (n, text.splitlines()[0].split()[-2:])
    log = [n for n, t in enumerate(pages, 1) if t.splitlines()[0].rstrip().endswith("Event log")]
    assert log
    for n in log:
        assert _word_height(pdf, n) >= MIN_BOX_AT_60_PERCENT / 0.6 * 0.95, n
        words = pages[n - 1].split()
        for header in ("Class", "Missile", "Launch", "Landing", "Outcome", "Confirmation"):
            assert header in words, header
