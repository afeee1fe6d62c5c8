"""Small text helpers of nkbrief.common."""

from __future__ import annotations

import html

import pytest

from nkbrief.common import html_escape


@pytest.mark.parametrize("text", [
    "", "plain", "a & b", "<b>x</b>", "\"quoted\" and 'single'", "&amp; already", "&lt;&&>>",
    "Kim's \"super-large\" <MRL> & KN-25", "초대형 방사포 <600 mm>", "'\"<>&" * 3,
])
def test_html_escape_is_what_the_standard_library_gives(text):
    assert html_escape(text) == html.escape(text)
