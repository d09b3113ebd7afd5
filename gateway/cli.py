"""The `yuping` command. Subcommands load lazily, so a window device that lacks the gateway's
web and database stack can still run `yuping device`."""

from __future__ import annotations

import importlib

import click

# name -> "module:attribute" of a click command. Each part registers its own line here.
SUBCOMMANDS: dict[str, str] = {
    "provision": "gateway.provision.cli:provision",
    "flash": "gateway.flash.cli:flash",
    "release": "gateway.release.cli:release",
    "device": "firmware.terminal.main:device",
    "gateway": "gateway.commands:gateway",
    "staff": "gateway.commands:staff",
    "admin": "gateway.commands:admin",
    "backup": "gateway.commands:backup",
    "restore": "gateway.commands:restore",
    "report": "gateway.web.report:report",
    "sim": "simulator.cli:sim",
    "demo": "simulator.cli:demo",
    "stats": "gateway.followup.cli:stats",
    "upload": "gateway.followup.cli:upload",
    "cases": "gateway.followup.cli:cases",
    "queue": "gateway.queue.cli:queue",
    "province": "gateway.province.cli:province",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(SUBCOMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in SUBCOMMANDS:
            module_name, attr = SUBCOMMANDS[cmd_name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                raise click.ClickException(
                    f"'yuping {cmd_name}' needs a package that is not installed ({exc.name}); "
                    "install the matching extra, e.g. pip install 'yuping[gateway]'"
                ) from exc
            command: click.Command = getattr(module, attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.version_option(package_name="yuping")
def main() -> None:
    """Yuping (豫评): window rating and queue appliance for government service halls."""
