"""The pack renders to PDF with LibreOffice: every sheet prints, each page carries the marking."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from briefing_helpers import small_store

from nkbrief.briefing import SECTIONS, PackOptions, build_pack

SOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")


def _pages(pdf) -> list[str]:
    out = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


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
