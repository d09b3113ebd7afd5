"""`yuping flash pico` against a simulated Pico W behind `yppico://`: the raw REPL byte for byte,
the files and their hashes on the board, a corrupted transfer detected, the board reset."""

from __future__ import annotations

import hashlib
import json

import pytest
import serial
from click.testing import CliRunner

from gateway.cli import main
from gateway.flash.errors import BoardError
from gateway.flash.pico import compile_mpy
from gateway.flash.rawrepl import RawRepl, split_reply
from simulator.serialsim import pico, register


@pytest.fixture
def site(tmp_path, uid):
    path = tmp_path / "site"
    runner = CliRunner()
    for args in (
        ["init", "--broker", "mqtt://192.168.10.2:1883"],
        ["device", "--hall", "zz-1", "--device", "w-03"],
        ["device", "--hall", "zz-1", "--device", "r-03", "--kind", "ratingbox", "--paired", "w-03"],
    ):
        assert runner.invoke(main, ["provision", *args, "--site", str(path)]).exit_code == 0
    register()
    return path


@pytest.fixture
def flash(umqtt_source):
    """`yuping flash pico` with micropython-lib's umqtt named explicitly (`--umqtt`)."""

    def run(site, port, device="r-03", umqtt=("--umqtt", str(umqtt_source))):
        args = ["--site", str(site), "--device", device, "--port", port]
        wifi = ["--wifi-ssid", "hall-iot", "--wifi-password", "wifi-secret"]
        return CliRunner().invoke(main, ["flash", "pico", *args, *wifi, *umqtt])

    return run


def test_split_reply_byte_for_byte():
    assert split_reply(b"hello\r\n\x04\x04>") == ("hello\r\n", "")
    assert split_reply(b"\x04Traceback...\r\nOSError: 2\r\n\x04>") == (
        "",
        "Traceback...\r\nOSError: 2\r\n",
    )
    with pytest.raises(BoardError):
        split_reply(b"half an answer")


def test_flash_copies_verifies_and_resets(site, uid, flash, umqtt_source):
    result = flash(site, f"yppico://p-{uid}")
    assert result.exit_code == 0, result.output
    board = pico.board(f"p-{uid}")
    assert board.files["/main.py"].startswith(b'"""Rating box entry point')
    assert board.files["/ratingbox/box.mpy"][:1] == b"M"  # compiled .mpy files
    assert "/protocol/topics.mpy" in board.files
    assert board.files["/lib/umqtt/simple.mpy"] == compile_mpy(umqtt_source, "simple.py")
    config = json.loads(board.files["/config.json"])
    assert (config["hall"], config["device"], config["paired"]) == ("zz-1", "r-03", "w-03")
    assert (config["broker_host"], config["broker_port"]) == ("192.168.10.2", 1883)
    assert config["username"] == "r-03" and config["wifi_ssid"] == "hall-iot"
    assert "sha256 ok" in result.output
    assert board.resets == 1 and board.ran_main == 1


def test_corrupted_transfer_is_detected(site, uid, flash):
    board = pico.board(f"c-{uid}")
    board.flash.corrupt_writes = 1
    result = flash(site, f"yppico://c-{uid}")
    assert result.exit_code != 0
    assert "/main.py arrived corrupted" in result.output
    assert board.resets == 0 and board.ran_main == 0  # never started half-flashed


def test_reflash_keeps_the_boot_counter_and_outbox(site, uid, flash):
    board = pico.board(f"k-{uid}")
    board.flash.files["/state.json"] = b'{"boot": 41}'
    board.flash.files["/outbox.log"] = b'E {"k":"rating"}\n'
    assert flash(site, f"yppico://k-{uid}").exit_code == 0
    assert board.files["/state.json"] == b'{"boot": 41}'  # ids must never repeat
    assert board.files["/outbox.log"] == b'E {"k":"rating"}\n'  # nor a rating be lost


def test_hash_on_the_board_is_the_real_one(uid):
    register()
    board = pico.board(f"h-{uid}")
    board.flash.files["/x.bin"] = b"\x00" * 1000
    with serial.serial_for_url(f"yppico://h-{uid}", baudrate=115200, timeout=0.2) as port:
        repl = RawRepl(port)
        repl.enter()
        from gateway.flash.pico import HASH

        assert repl.run(HASH % "/x.bin").strip() == hashlib.sha256(b"\x00" * 1000).hexdigest()
        with pytest.raises(BoardError, match="OSError"):
            repl.run("open('/missing')")


def test_a_terminal_or_unknown_device_is_refused(site, uid, flash):
    result = flash(site, f"yppico://t-{uid}", device="w-03")
    assert result.exit_code != 0 and "use `yuping flash pi`" in result.output
    result = flash(site, f"yppico://t-{uid}", device="r-99")
    assert result.exit_code != 0 and "not provisioned" in result.output
    assert pico.board(f"t-{uid}").files == {}


def test_a_port_that_is_not_a_micropython_board(site, flash, uid):
    result = flash(site, "loop://")
    assert result.exit_code != 0 and "did not answer as a MicroPython raw REPL" in result.output


def test_umqtt_already_on_the_board_is_kept(site, uid, flash):
    board = pico.board(f"m-{uid}")
    board.flash.dirs |= {"/lib", "/lib/umqtt"}
    board.flash.files["/lib/umqtt/simple.mpy"] = b"M-from-mip"  # `mpremote mip install`
    result = flash(site, f"yppico://m-{uid}", umqtt=("--umqtt-on-board",))
    assert result.exit_code == 0, result.output
    assert board.files["/lib/umqtt/simple.mpy"] == b"M-from-mip"
    assert board.files["/ratingbox/box.mpy"][:1] == b"M" and board.resets == 1


def test_umqtt_on_board_refused_when_it_is_not_there(site, uid, flash):
    board = pico.board(f"n-{uid}")
    result = flash(site, f"yppico://n-{uid}", umqtt=("--umqtt-on-board",))
    assert result.exit_code != 0
    assert "mpremote mip install umqtt.simple" in result.output
    assert board.files == {} and board.resets == 0


def test_a_umqtt_path_that_is_not_umqtt_is_refused(site, uid, flash, tmp_path):
    (tmp_path / "simple.py").write_text("print('hello')\n")
    for given, reason in (
        (tmp_path / "simple.py", "is not umqtt.simple"),
        (tmp_path / "missing.py", "no such file"),
        (tmp_path, "no umqtt/simple.py in"),
    ):
        result = flash(site, f"yppico://u-{uid}", umqtt=("--umqtt", str(given)))
        assert result.exit_code != 0 and reason in result.output, result.output
    assert pico.board(f"u-{uid}").files == {}
