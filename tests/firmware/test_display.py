"""The display: luma devices built from config, and views shown on them."""

from __future__ import annotations

import errno
from dataclasses import replace

import pytest
from luma.core.interface.serial import i2c
from luma.oled.device import ssd1306
from PIL import Image
from support.screen_samples import SAMPLES

from firmware.terminal.display import Screen, open_display
from firmware.terminal.display_errors import (
    DisplayConfigError,
    DisplayError,
    DisplayNotFoundError,
    ScreenError,
)
from firmware.terminal.errors import ConfigError
from firmware.terminal.fonts import Fonts, load_fonts
from firmware.terminal.screens import render


@pytest.fixture(scope="module")
def fonts() -> Fonts:
    return load_fonts()


class RecordingBus:
    """An smbus-like I2C bus that keeps what an SSD1306 at 0x3C would receive."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.unplugged = False

    def write_i2c_block_data(self, address: int, control: int, values: list[int]) -> None:
        if self.unplugged:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        if control == 0x40:  # data, not a command
            self.data.extend(values)

    def frame(self) -> Image.Image:
        """The last full frame sent, decoded from SSD1306 pages (8 rows per byte, LSB on top)."""
        pages = self.data[-128 * 8 :]
        image = Image.new("1", (128, 64), 0)
        for index, byte in enumerate(pages):
            page, x = divmod(index, 128)
            for bit in range(8):
                if byte >> bit & 1:
                    image.putpixel((x, page * 8 + bit), 255)
        return image


@pytest.fixture
def oled():
    bus = RecordingBus()
    device = ssd1306(i2c(bus=bus, address=0x3C))
    device.persist = True  # no clear-on-exit writes to a bus the test has finished with
    yield bus, device


def test_dummy_display_shows_exactly_the_rendered_screen(fonts):
    device = open_display({"driver": "dummy"})
    screen = Screen(device, fonts)
    view = SAMPLES["serving"]
    assert screen.show(view) is True
    expected = render(view, fonts)
    assert device.image.tobytes() == expected.tobytes()
    assert screen.last_image is not None
    assert screen.last_image.tobytes() == expected.tobytes()


def test_an_unchanged_view_is_not_redrawn(fonts):
    device = open_display({"driver": "dummy"})
    screen = Screen(device, fonts)
    screen.show(SAMPLES["rating"])
    device.image = None
    assert screen.show(replace(SAMPLES["rating"])) is False
    assert device.image is None
    assert screen.show(replace(SAMPLES["rating"], seconds_left=14)) is True
    assert (
        device.image.tobytes()
        == render(replace(SAMPLES["rating"], seconds_left=14), fonts).tobytes()
    )


def test_upside_down_mounting_rotates_what_the_display_gets(fonts):
    device = open_display({"driver": "dummy", "rotate": 2})
    Screen(device, fonts).show(SAMPLES["idle"])
    expected = render(SAMPLES["idle"], fonts).rotate(180)
    assert device.image.tobytes() == expected.tobytes()


def test_ssd1306_receives_the_rendered_screen_over_i2c(oled, fonts):
    bus, device = oled
    Screen(device, fonts).show(SAMPLES["rating"])
    assert bus.frame().tobytes() == render(SAMPLES["rating"], fonts).tobytes()


def test_an_unplugged_display_is_a_clear_error_and_the_view_is_retried(oled, fonts):
    bus, device = oled
    screen = Screen(device, fonts)
    screen.show(SAMPLES["idle"])
    bus.unplugged = True
    with pytest.raises(DisplayNotFoundError, match="0x3C") as caught:
        screen.show(SAMPLES["serving"])
    assert isinstance(caught.value, FileNotFoundError)
    assert screen.last_image is not None
    assert screen.last_image.tobytes() == render(SAMPLES["idle"], fonts).tobytes()
    bus.unplugged = False
    assert screen.show(SAMPLES["serving"]) is True
    assert bus.frame().tobytes() == render(SAMPLES["serving"], fonts).tobytes()


def test_save_png_writes_the_frame_on_screen(tmp_path, fonts):
    screen = Screen(open_display({"driver": "dummy"}), fonts)
    screen.show(SAMPLES["thanks"])
    path = tmp_path / "frame.png"
    screen.save_png(path)
    with Image.open(path) as saved:
        assert saved.size == (128, 64)
        assert saved.convert("1").tobytes() == render(SAMPLES["thanks"], fonts).tobytes()


def test_save_png_before_anything_was_shown_is_an_error(tmp_path, fonts):
    screen = Screen(open_display({"driver": "dummy"}), fonts)
    with pytest.raises(DisplayError, match="nothing has been shown"):
        screen.save_png(tmp_path / "frame.png")
    assert not (tmp_path / "frame.png").exists()


def test_a_portrait_device_is_refused(fonts):
    from luma.core.device import dummy

    with pytest.raises(ScreenError, match="128x64"):
        Screen(dummy(width=128, height=64, rotate=1, mode="1"), fonts)


def test_missing_i2c_bus_is_display_not_found():
    # No Raspberry Pi has a bus 250, so this is "not found" here and on the device.
    with pytest.raises(DisplayNotFoundError, match="/dev/i2c-250") as caught:
        open_display({"driver": "ssd1306", "port": 250, "address": 0x3C})
    assert isinstance(caught.value, FileNotFoundError)
    assert "raspi-config" in str(caught.value)


@pytest.mark.parametrize(
    ("cfg", "key", "says"),
    [
        ({"driver": "st7789"}, "display.driver", "must be one of"),
        ({"driver": "ssd1306", "adress": 0x3C}, "display.adress", "not a ssd1306 display setting"),
        ({"driver": "dummy", "port": 1}, "display.port", "not a dummy display setting"),
        ({"driver": "ssd1306", "address": 0x99}, "display.address", "0x08-0x77"),
        ({"driver": "ssd1306", "address": "0xZZ"}, "display.address", "0x08-0x77"),
        ({"driver": "ssd1306", "address": True}, "display.address", "0x08-0x77"),
        ({"driver": "ssd1306", "port": -1}, "display.port", "bus number"),
        ({"driver": "ssd1306", "port": "1"}, "display.port", "bus number"),
        ({"driver": "dummy", "rotate": 1}, "display.rotate", "0 or 2"),
        ({"driver": "dummy", "rotate": "2"}, "display.rotate", "0 or 2"),
        ({"driver": "dummy", "font": 3}, "display.font", "font file path"),
    ],
)
def test_bad_display_config_is_a_clear_error(cfg, key, says):
    with pytest.raises(DisplayConfigError, match=says) as caught:
        open_display(cfg)
    assert caught.value.key == key
    assert isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, ValueError)


def test_address_may_be_written_as_a_hex_string():
    # A valid string address gets past config checks and fails only on the (missing) bus.
    with pytest.raises(DisplayNotFoundError, match="address 0x3D"):
        open_display({"driver": "ssd1306", "port": 250, "address": "0x3D"})
