"""``--size WxH`` for ``--screenshot`` (nkbrief.cli, no Qt)."""

from __future__ import annotations

import pytest

from nkbrief.cli import build_parser


def test_size_is_parsed_as_width_and_height():
    args = build_parser().parse_args(["--screenshot", "x.png", "--size", "1280x720"])
    assert args.size == (1280, 720)
    assert build_parser().parse_args(["--size", "1920X1080"]).size == (1920, 1080)
    assert build_parser().parse_args([]).size is None


@pytest.mark.parametrize("bad", ["1280", "1280x", "x720", "0x720", "12x12", "1280x720x3", "wide"])
def test_a_bad_size_is_one_line(bad, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--size", bad])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == f"nkbrief: argument --size: '{bad}' is not a window size (WxH, e.g. 1280x720)"
