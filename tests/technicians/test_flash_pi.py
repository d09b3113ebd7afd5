"""`yuping flash pi`: a boot partition that a first boot turns into a window terminal."""

from __future__ import annotations

import subprocess
from importlib import resources

import pytest
from click.testing import CliRunner

from firmware.terminal import config as terminal_config
from gateway.cli import main
from gateway.provision.registry import Site

CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=1234-02 rootfstype=ext4 fsck.repair=yes rootwait"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.fixture
def site(tmp_path):
    path = tmp_path / "site"
    assert (
        run(
            "provision",
            "init",
            "--site",
            str(path),
            "--broker",
            "mqtt://gw.local:1883",
            "--gateway-url",
            "http://gw.local:8080",
            "--hall-name",
            "金水区政务服务中心",
        )[0]
        == 0
    )
    assert (
        run(
            "provision",
            "device",
            "--site",
            str(path),
            "--hall",
            "zz-1",
            "--device",
            "w-0012",
            "--window",
            "3",
        )[0]
        == 0
    )
    return path


@pytest.fixture
def boot(tmp_path):
    path = tmp_path / "bootfs"
    path.mkdir()
    (path / "config.txt").write_text("dtparam=i2c_arm=on\nenable_uart=1\n")
    (path / "cmdline.txt").write_text(CMDLINE + "\n")
    return path


def test_flash_writes_a_config_the_terminal_loads(site, boot):
    code, out = run("flash", "pi", "--site", str(site), "--device", "w-0012", "--boot", str(boot))
    assert code == 0, out
    config = terminal_config.load(boot / "yuping" / "device.toml")
    record = Site(site).device("w-0012")
    assert (config.hall, config.device, config.window_label) == ("zz-1", "w-0012", "3号窗口")
    assert config.hall_name == "金水区政务服务中心"
    assert (config.broker.host, config.broker.port) == ("gw.local", 1883)
    assert (config.broker.username, config.broker.password) == ("w-0012", record.password)


def test_first_boot_runs_once_from_the_kernel_command_line(site, boot):
    for _ in range(2):  # flashing again must not stack a second entry
        assert (
            run("flash", "pi", "--site", str(site), "--device", "w-0012", "--boot", str(boot))[0]
            == 0
        )
    cmdline = (boot / "cmdline.txt").read_text()
    assert cmdline.count("systemd.run=/boot/firmware/yuping-firstrun.sh") == 1
    assert cmdline.startswith(CMDLINE) and cmdline.count("\n") == 1
    script = boot / "yuping-firstrun.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    assert "@VERSION@" not in text and "systemctl enable yuping-device.service" in text


def test_tls_broker_gets_the_hall_ca(site, boot):
    assert (
        run("provision", "init", "--site", str(site), "--broker", "mqtts://gw.local:8883")[0] == 0
    )
    assert run("provision", "tls-ca", "--site", str(site), "--hall", "zz-1")[0] == 0
    assert (
        run("flash", "pi", "--site", str(site), "--device", "w-0012", "--boot", str(boot))[0] == 0
    )
    config = terminal_config.load(boot / "yuping" / "device.toml")
    assert config.broker.tls and config.broker.tls_ca == "/etc/yuping/ca.pem"
    assert (boot / "yuping" / "ca.pem").read_bytes() == (site / "tls" / "ca.crt").read_bytes()


def test_not_a_boot_partition(site, tmp_path):
    empty = tmp_path / "usb-stick"
    empty.mkdir()
    code, out = run("flash", "pi", "--site", str(site), "--device", "w-0012", "--boot", str(empty))
    assert code != 0 and "not a Raspberry Pi OS boot partition" in out
    assert list(empty.iterdir()) == []


def test_device_not_provisioned(site, boot):
    code, out = run("flash", "pi", "--site", str(site), "--device", "w-9999", "--boot", str(boot))
    assert code != 0 and "w-9999 is not provisioned" in out
    assert sorted(p.name for p in boot.iterdir()) == ["cmdline.txt", "config.txt"]


def test_other_first_boot_script_is_not_overridden(site, boot):
    (boot / "cmdline.txt").write_text(CMDLINE + " systemd.run=/boot/firstrun.sh\n")
    code, out = run("flash", "pi", "--site", str(site), "--device", "w-0012", "--boot", str(boot))
    assert code != 0 and "another first-boot script" in out
    assert not (boot / "yuping" / "device.toml").exists()


def test_bad_hardware_profile_is_refused_before_writing(site, boot, tmp_path):
    profile = tmp_path / "hw.toml"
    base = resources.files("gateway.flash").joinpath("pi_hardware.toml").read_text("utf-8")
    profile.write_text(base.replace("recall = 27", "recall = 17"))
    code, out = run(
        "flash",
        "pi",
        "--site",
        str(site),
        "--device",
        "w-0012",
        "--boot",
        str(boot),
        "--hardware",
        str(profile),
    )
    assert code != 0 and "already used by" in out
    assert not (boot / "yuping").exists()
