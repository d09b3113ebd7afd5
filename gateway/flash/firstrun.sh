#!/bin/bash
# Yuping first boot, written onto the boot partition by `yuping flash pi`. The kernel command line
# runs it once (systemd.run): it installs the window terminal as a systemd service, moves the
# device's credentials off the FAT partition (anyone holding the card could read them there),
# removes itself from cmdline.txt and reboots into the service, which says hello to the gateway.
set -euo pipefail

VERSION="@VERSION@"
BOOT="$(dirname "$(readlink -f "$0")")"
SRC="$BOOT/yuping"
ETC=/etc/yuping
OPT=/opt/yuping
REL="$OPT/releases/$VERSION"
LOG=/var/log/yuping-firstrun.log

log() { echo "yuping-firstrun: $*" | tee -a "$LOG"; }

install_config() {
    install -d -m 0750 "$ETC" /var/lib/yuping
    install -m 0640 "$SRC/device.toml" "$ETC/device.toml"
    if [ -f "$SRC/ca.pem" ]; then install -m 0644 "$SRC/ca.pem" "$ETC/ca.pem"; fi
    if ! id yuping >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/yuping --shell /usr/sbin/nologin yuping
    fi
    for group in gpio i2c spi dialout audio; do
        if getent group "$group" >/dev/null; then usermod -aG "$group" yuping; fi
    done
    chown -R root:yuping "$ETC"
    chown -R yuping:yuping /var/lib/yuping
}

install_software() {
    # One directory per version and a `current` link: updates install beside it and switch.
    install -d -m 0755 "$OPT/releases"
    python3 -m venv "$REL"
    if compgen -G "$SRC/wheels/*.whl" >/dev/null; then
        "$REL/bin/pip" install --no-index --find-links "$SRC/wheels" "yuping[device]==$VERSION"
    else
        "$REL/bin/pip" install "yuping[device]==$VERSION"
    fi
    ln -sfn "releases/$VERSION" "$OPT/current"
    ln -sfn "$OPT/current/bin/yuping" /usr/local/bin/yuping
    # The updater runs as the service user and installs new releases beside this one.
    chown -R yuping:yuping "$OPT"
}

install_service() {
    local unit
    unit="$("$REL/bin/python" -c 'import firmware.terminal as t, pathlib; print(pathlib.Path(t.__file__).with_name("yuping-device.service"))')"
    install -m 0644 "$unit" /etc/systemd/system/yuping-device.service
    # The start guard lives outside the releases (root-owned), so a broken release cannot
    # break its own rollback; it runs as root before every start of the service.
    local guard
    guard="$("$REL/bin/python" -c 'import firmware.update.guard as g; print(g.__file__)')"
    install -D -m 0644 "$guard" /usr/local/lib/yuping/guard.py
    install -d /etc/systemd/system/yuping-device.service.d
    printf '[Service]\nExecStartPre=+/usr/bin/python3 /usr/local/lib/yuping/guard.py %s\n' "$OPT" \
        > /etc/systemd/system/yuping-device.service.d/update-guard.conf
    systemctl daemon-reload
    systemctl enable yuping-device.service
}

forget_first_boot() {
    rm -f "$SRC/device.toml" "$SRC/ca.pem"
    sed -i -e 's| systemd.run=[^ ]*yuping-firstrun.sh||' \
        -e 's| systemd.run_success_action=reboot||' \
        -e 's| systemd.unit=kernel-command-line.target||' "$BOOT/cmdline.txt"
    rm -f "$0"
}

log "installing yuping $VERSION"
install_config
install_software
install_service
forget_first_boot
log "done; rebooting into yuping-device.service"
exit 0
