"""`yuping stats`, `yuping upload` and `yuping cases` as an operator runs them."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from click.testing import CliRunner
from support.province_standin import ProvinceStandin

from followup.seed import HALL, make_store, offer
from gateway.cli import main
from gateway.followup import cases
from gateway.followup.config import FollowupConfig


@pytest.fixture
def site(tmp_path):
    """A hall store with three ratings (one 差评 with its case), and its configuration files."""
    db = tmp_path / "yuping.db"
    engine = make_store(f"sqlite:///{db}")
    with engine.begin() as conn:
        offer(conn, "2026-03-02 09:00", level="satisfied")
        offer(conn, "2026-03-02 09:10", level=None)
        bad = offer(conn, "2026-03-02 09:20", level="very_dissatisfied")
        cases.open_case(conn, FollowupConfig(manager="M001"), cases.rating_facts(conn, bad))
    engine.dispose()
    with ProvinceStandin(tls_dir=tmp_path, token="t0ken") as province:
        setup = tmp_path / "followup.toml"
        setup.write_text(
            f'[followup]\nmanager = "M001"\n[upload]\nurl = "{province.url}"\n'
            f'token = "t0ken"\nca_file = "{province.ca_file}"\n',
            encoding="utf-8",
        )
        gateway_toml = tmp_path / "gateway.toml"
        gateway_toml.write_text(
            f'[gateway]\nhall = "{HALL}"\ndb = "{db}"\nfollowup = "{setup}"\n', encoding="utf-8"
        )
        yield ["--config", str(gateway_toml)], province, tmp_path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_stats_export_xlsx_per_clerk(site):
    config, _, tmp = site
    out = tmp / "stats.xlsx"
    result = run("stats", "export", *config, "--from", "2026-03-01", "--to", "2026-03-31",
                 "--by", "clerk", "--format", "xlsx", "-o", out)  # fmt: skip
    assert result.exit_code == 0 and "1 rows written" in result.output
    sheet = openpyxl.load_workbook(out).active
    header, row = [c.value for c in sheet[1]], [c.value for c in sheet[2]]
    values = dict(zip(header, row, strict=True))
    assert (values["工作人员名称"], values["发起评价数"], values["差评数"]) == ("张三", 3, 1)
    assert values["主动评价率"] == pytest.approx(2 / 3)


def test_stats_export_csv_to_stdout(site):
    config, _, _ = site
    result = run("stats", "export", *config, "--from", "2026-03-02", "--to", "2026-03-02",
                 "--period", "day", "--format", "csv", "-o", "-")  # fmt: skip
    header, row = list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))
    assert (
        header[0] == "统计周期"
        and row[0] == "2026-03-02"
        and row[header.index("差评率")] == "50.0%"
    )


def test_stats_export_refuses_a_backwards_range(site):
    config, _, _ = site
    result = run("stats", "export", *config, "--from", "2026-03-10", "--to", "2026-03-01")
    assert result.exit_code != 0 and "before it starts" in result.output


def test_upload_backfill_run_and_report(site):
    config, province, _ = site
    assert (
        "queued 2 ratings"
        in run("upload", "backfill", *config, "--from", "2026-03-02", "--to", "2026-03-02").output
    )
    result = run("upload", "report", *config, "--day", "2026-03-02")
    assert "评价数 stored" in result.output and "NOT complete" in result.output
    assert "acked 2, retry 0, failed 0" in run("upload", "run", *config, "--once").output
    report = run("upload", "report", *config, "--day", "2026-03-02").output
    assert [line.split()[-1] for line in report.splitlines()[1:3]] == ["2", "2"]
    assert report.rstrip().endswith("complete") and "NOT" not in report
    assert len(province.accepted) == 2


def test_upload_without_configuration_says_how_to_configure_it(site, tmp_path):
    (tmp_path / "followup.toml").write_text('[followup]\nmanager = "M001"\n', encoding="utf-8")
    config, _, _ = site
    result = run("upload", "run", *config, "--once")
    assert result.exit_code != 0 and "[upload]" in result.output


def test_cases_list_and_sweep(site):
    config, _, _ = site
    listing = run("cases", "list", *config).output
    assert "待回访  非常不满意  clerk 1001  assignee M001  due 2026-03-09" in listing
    assert "1 cases escalated" in run("cases", "sweep", *config).output
    assert "督办1级→M001" in run("cases", "list", *config, "--state", "open").output
