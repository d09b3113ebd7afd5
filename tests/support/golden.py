"""Golden PNG comparison for the device screens.

Regenerate on purpose, after looking at the new images, with:

    YUPING_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/firmware/test_screens.py

The goldens depend on the exact font file; golden/FONT.json records which one made them, and
comparisons are skipped (with the reason) where a different file is installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from firmware.terminal.fonts import Fonts, font_digest

TESTS = Path(__file__).resolve().parent.parent
GOLDEN = TESTS / "firmware" / "golden"
ARTIFACTS = TESTS / "artifacts"
FONT_RECORD = GOLDEN / "FONT.json"


def updating() -> bool:
    return os.environ.get("YUPING_UPDATE_GOLDEN") == "1"


def require_golden_font(fonts: Fonts) -> None:
    """Skip unless `fonts` come from the file the goldens were drawn with (or record it)."""
    actual = {"file": Path(fonts.path).name, "sha256": font_digest(fonts.path)}
    if updating():
        GOLDEN.mkdir(parents=True, exist_ok=True)
        FONT_RECORD.write_text(json.dumps(actual, indent=2) + "\n")
        return
    expected = json.loads(FONT_RECORD.read_text())
    if expected["sha256"] != actual["sha256"]:
        pytest.skip(
            f"golden screens were drawn with {expected['file']} sha256 {expected['sha256'][:12]}…; "
            f"this machine has {fonts.path} sha256 {actual['sha256'][:12]}… "
            "(install fonts-wqy-zenhei, or regenerate with YUPING_UPDATE_GOLDEN=1)"
        )


def assert_matches_golden(name: str, image: Image.Image) -> None:
    """Pixel-for-pixel equality with golden/<name>.png; on failure the actual image is saved."""
    expected_path = GOLDEN / f"{name}.png"
    if updating():
        image.save(expected_path)
        return
    if not expected_path.exists():
        pytest.fail(f"no golden {expected_path}; create it with YUPING_UPDATE_GOLDEN=1")
    with Image.open(expected_path) as stored:
        expected = stored.convert("1")
    differing = _count_differing(expected, image)
    if differing:
        actual_path = save_artifact(f"{name}.actual", image)
        pytest.fail(
            f"screen {name!r} differs from {expected_path} in {differing} pixels; "
            f"actual image written to {actual_path} (4x view: {actual_path.with_suffix('.x4.png')})"
        )


def save_artifact(name: str, image: Image.Image) -> Path:
    """Save `image` and a 4x enlargement for looking at under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    image.save(path)
    enlarged = image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)
    enlarged.save(path.with_suffix(".x4.png"))
    return path


def _count_differing(expected: Image.Image, actual: Image.Image) -> int:
    if expected.size != actual.size:
        return expected.width * expected.height
    diff = ImageChops.logical_xor(expected, actual.convert("1"))
    return diff.histogram()[255]
