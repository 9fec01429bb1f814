#!/bin/sh
# Installs the Debian packages the test suite runs for real (clamd, snmpd, chromium, QEMU, the
# image tools). Idempotent and quick when everything is present. Uses the machine's own apt sources.
set -eu
PKGS="clamav-daemon clamav clamav-freshclam clamav-testfiles socat"
# The remote backup test runs a real sshd (its own config and host key, on a loopback port).
PKGS="$PKGS openssh-server"
if [ "${MAILMOAT_TESTS:-all}" = all ] || [ "${MAILMOAT_TESTS:-}" = e2e ]; then PKGS="$PKGS chromium"; fi
# The SNMP subagent's tests run a real snmpd and snmpwalk.
PKGS="$PKGS snmpd snmp"
# PDF reports embed the appliance's Japanese font (image/packages.txt); their test extracts the text with pdftotext.
PKGS="$PKGS fonts-ipafont-gothic poppler-utils"
# The image build (scripts/build-image.sh) and its QEMU boot test.
if [ "${MAILMOAT_TESTS:-all}" = all ] || [ "${MAILMOAT_TESTS:-}" = image ]; then
  PKGS="$PKGS mmdebstrap qemu-system-x86 qemu-utils ovmf grub-efi-amd64-bin grub-pc-bin grub-common mtools dosfstools e2fsprogs fdisk zstd rauc squashfs-tools"
fi
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "the tests need these Debian packages:$missing — install them (as root: apt-get install$missing)" >&2
  exit 1
fi
echo "installing test dependencies:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || apt-get update
# Package scripts must not start system daemons: the tests start their own instances.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends $missing
