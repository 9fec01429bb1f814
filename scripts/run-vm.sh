#!/bin/sh
# Boots the built appliance image under QEMU for a look by hand: serial console on this terminal
# (log in as "maint" for the menu), the image itself untouched (snapshot=on).
#   scripts/run-vm.sh [--bios] [--open] [IMAGE]     (default IMAGE: the newest dist/*.qcow2)
# Guest services on 127.0.0.1: SMTP 10025, submission 10587, console https://127.0.0.1:10443,
# SNMP udp 10161. QEMU's user network is restricted: the guest reaches nothing outside — and a
# restricted network also drops the guest's UDP replies, so SNMP answers only with --open, which
# lets the guest out through QEMU's NAT.
# Quit with Ctrl-A X.
set -eu
cd "$(dirname "$0")/.."
firmware=uefi
[ "${1:-}" = --bios ] && { firmware=bios; shift; }
restrict=on
[ "${1:-}" = --open ] && { restrict=off; shift; }
image=${1:-$(ls -t dist/*.qcow2 2>/dev/null | head -n1)}
[ -n "$image" ] && [ -f "$image" ] || { echo "no image: build one with 'npm run image'" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 is missing: apt-get install qemu-system-x86" >&2; exit 1; }
format=raw; case "$image" in *.qcow2) format=qcow2 ;; esac
# TCG with one thread for both vCPUs: QEMU 7.2's thread per vCPU now and then broke Node in the
# guest (see test/image/vm.ts).
accel=tcg,thread=single; [ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo && accel=kvm
set -- -machine q35 -accel "$accel" -cpu max -smp 2 -m 1024 \
  -drive "file=$image,format=$format,if=virtio,snapshot=on" \
  -netdev "user,id=n0,restrict=$restrict,hostfwd=tcp:127.0.0.1:10025-:25,hostfwd=tcp:127.0.0.1:10587-:587,hostfwd=tcp:127.0.0.1:10443-:443,hostfwd=udp:127.0.0.1:10161-:161" \
  -device virtio-net-pci,netdev=n0 -nographic
if [ "$firmware" = uefi ]; then
  vars=$(mktemp)
  trap 'rm -f "$vars"' EXIT
  cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"
  set -- "$@" -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd -drive "if=pflash,format=raw,file=$vars"
fi
qemu-system-x86_64 "$@"
