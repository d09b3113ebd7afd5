"""The window terminal's screens, against golden PNGs and by what a citizen or clerk would see.

Regenerate the goldens on purpose (and look at them!) with
    YUPING_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/firmware/test_screens.py
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageChops
from support.golden import assert_matches_golden, require_golden_font, save_artifact
from support.screen_samples import SAMPLES

from firmware.terminal import view as v
from firmware.terminal.display_errors import (
    DisplayError,
    FontNotFoundError,
    FontUnusableError,
    ScreenError,
)
from firmware.terminal.fonts import Fonts, find_font, load_fonts
from firmware.terminal.screens import HEIGHT, WIDTH, fit, qr_fits, render, wrap

HEADER_ROWS = 13  # the header row and the gap under it


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return load_fonts()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_screen_matches_golden(name, fonts):
    require_golden_font(fonts)
    image = render(SAMPLES[name], fonts)
    save_artifact(name, image)  # tests/artifacts/<name>.x4.png, for looking at
    assert_matches_golden(name, image)


def test_every_mode_has_a_golden_screen():
    assert {view.mode for view in SAMPLES.values()} == set(v.MODES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_screens_are_one_bit_128x64_and_deterministic(name, fonts):
    first = render(SAMPLES[name], fonts)
    again = render(replace(SAMPLES[name]), fonts)
    assert (first.mode, first.size) == ("1", (WIDTH, HEIGHT))
    assert first.tobytes() == again.tobytes()


@pytest.mark.parametrize("name", ["idle", "serving", "rating", "paused", "message"])
def test_offline_mark_changes_only_the_header(name, fonts):
    online = render(SAMPLES[name], fonts)
    offline = render(replace(SAMPLES[name], offline=True), fonts)
    assert _lit(offline, (96, 0, WIDTH, 12)) > _lit(online, (96, 0, WIDTH, 12))
    below = (0, HEADER_ROWS, WIDTH, HEIGHT)
    assert online.crop(below).tobytes() == offline.crop(below).tobytes()


def test_offline_mark_on_the_qr_screen_leaves_the_code_readable(fonts):
    image = render(SAMPLES["rating_qr_offline"], fonts)
    assert _lit(image, (100, 0, WIDTH, 12)) > 40
    assert _decode_qr(image) == SAMPLES["rating_qr"].qr_url


def test_rating_qr_decodes_to_the_rating_url(fonts):
    url = "https://yp.example.cn/r/zz/w12/Q7"
    image = render(replace(SAMPLES["rating_qr"], qr_url=url), fonts)
    assert _decode_qr(image) == url


def test_rating_qr_with_a_url_too_long_to_scan_is_refused(fonts):
    view = replace(SAMPLES["rating_qr"], qr_url="https://yp.example.cn/r/" + "x" * 80)
    with pytest.raises(ScreenError, match="too long"):
        render(view, fonts)


def test_qr_fits_says_which_urls_the_screen_can_show(fonts):
    longest = "https://yp.example.cn/r/" + "x" * (53 - 24)
    assert qr_fits(longest)
    assert _decode_qr(render(replace(SAMPLES["rating_qr"], qr_url=longest), fonts)) == longest
    assert not qr_fits(longest + "x")
    assert not qr_fits("")


def test_rating_qr_without_a_url_is_refused(fonts):
    with pytest.raises(ScreenError, match="qr_url"):
        render(replace(SAMPLES["rating_qr"], qr_url=None), fonts)


def test_rating_countdown_is_drawn(fonts):
    at_15 = render(SAMPLES["rating"], fonts)
    at_3 = render(replace(SAMPLES["rating"], seconds_left=3), fonts)
    header = (64, 0, WIDTH, 12)
    assert at_15.crop(header).tobytes() != at_3.crop(header).tobytes()
    below = (0, HEADER_ROWS, WIDTH, HEIGHT)
    assert at_15.crop(below).tobytes() == at_3.crop(below).tobytes()


def test_reasons_screen_lists_only_the_reasons_offered(fonts):
    full = render(SAMPLES["reasons"], fonts)
    two = render(replace(SAMPLES["reasons"], reasons=("attitude", "slow")), fonts)
    rows_3_and_4 = (0, 3 * 13, 80, HEIGHT)
    assert _lit(two, rows_3_and_4) == 0 < _lit(full, rows_3_and_4)
    skip_key = (80, 4 * 13, WIDTH, HEIGHT)
    assert two.crop(skip_key).tobytes() == full.crop(skip_key).tobytes()


def test_unknown_mode_is_a_clear_error(fonts):
    with pytest.raises(ScreenError, match="'banner'") as caught:
        render(v.View(mode="banner"), fonts)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, DisplayError)


def test_message_wraps_to_the_screen_width_and_keeps_every_character(fonts):
    text = SAMPLES["message_long"].message or ""
    lines = wrap(text, fonts.small, WIDTH)
    assert "".join(lines) == text
    assert all(fonts.small.getlength(line) <= WIDTH for line in lines)
    assert len(lines) > 4


def test_wrap_never_starts_a_line_with_closing_punctuation(fonts):
    # Ten characters fill a 120 px line exactly, so the comma would open the next line.
    lines = wrap("一二三四五六七八九十，十一", fonts.small, 120)
    assert lines == ["一二三四五六七八九", "十，十一"]


def test_wrap_keeps_explicit_line_breaks(fonts):
    assert wrap("请稍候\n正在连接", fonts.small, WIDTH) == ["请稍候", "正在连接"]


def test_wrap_to_a_line_limit_ends_with_an_ellipsis(fonts):
    lines = wrap("一二三四五六七八九十" * 3, fonts.small, 60, max_lines=2)
    assert lines == ["一二三四五", "六七八九…"]


def test_fit_cuts_with_an_ellipsis_only_when_too_wide(fonts):
    assert fit("3号窗口", fonts.small, WIDTH) == "3号窗口"
    assert fit("郑州市金水区政务服务中心", fonts.small, 100) == "郑州市金水区政…"


def test_configured_font_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "nope.ttc"
    with pytest.raises(FontNotFoundError, match="nope.ttc") as caught:
        load_fonts(str(missing))
    assert isinstance(caught.value, FileNotFoundError)


def test_no_font_found_names_the_debian_package(tmp_path):
    search = (
        (str(tmp_path / "a.ttc"), "fonts-wqy-zenhei"),
        (str(tmp_path / "b.otf"), "fonts-unifont"),
    )
    with pytest.raises(FontNotFoundError, match="apt install fonts-wqy-zenhei"):
        find_font(None, search)


def test_font_without_chinese_glyphs_is_refused(tmp_path):
    latin = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not latin.exists():
        pytest.skip(f"{latin} (fonts-dejavu-core) is not installed")
    copy = tmp_path / "latin.ttf"
    shutil.copy(latin, copy)
    with pytest.raises(FontUnusableError, match="no Chinese glyphs"):
        load_fonts(str(copy))


def test_a_file_that_is_not_a_font_is_refused(tmp_path):
    bogus = tmp_path / "font.ttc"
    bogus.write_bytes(b"not a font")
    with pytest.raises(FontUnusableError, match="cannot load font"):
        load_fonts(str(bogus))


def test_golden_artifacts_are_written_on_mismatch(tmp_path, monkeypatch, fonts):
    import support.golden as golden

    monkeypatch.delenv("YUPING_UPDATE_GOLDEN", raising=False)
    monkeypatch.setattr(golden, "GOLDEN", tmp_path / "golden")
    monkeypatch.setattr(golden, "ARTIFACTS", tmp_path / "artifacts")
    (tmp_path / "golden").mkdir()
    render(SAMPLES["idle"], fonts).save(tmp_path / "golden" / "idle.png")
    changed = ImageChops.invert(render(SAMPLES["idle"], fonts).convert("L")).convert("1")
    with pytest.raises(pytest.fail.Exception, match=r"artifacts/idle\.actual\.png"):
        golden.assert_matches_golden("idle", changed)
    assert (tmp_path / "artifacts" / "idle.actual.png").exists()


def test_goldens_are_skipped_with_the_reason_on_another_font_file(tmp_path, monkeypatch, fonts):
    import support.golden as golden

    record = tmp_path / "FONT.json"
    record.write_text('{"file": "wqy-zenhei.ttc", "sha256": "' + "0" * 64 + '"}')
    monkeypatch.delenv("YUPING_UPDATE_GOLDEN", raising=False)
    monkeypatch.setattr(golden, "FONT_RECORD", record)
    with pytest.raises(
        pytest.skip.Exception, match="drawn with wqy-zenhei.ttc sha256 000000000000"
    ):
        golden.require_golden_font(fonts)


def _lit(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return image.crop(box).histogram()[255]


def _decode_qr(image: Image.Image) -> str:
    # Phones see the OLED enlarged; scale up the way a camera would.
    enlarged = image.convert("L").resize((WIDTH * 4, HEIGHT * 4), Image.Resampling.NEAREST)
    found = zxingcpp.read_barcodes(enlarged)
    assert len(found) == 1, f"expected one readable QR code, found {len(found)}"
    return found[0].text
