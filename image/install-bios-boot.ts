// Legacy-BIOS boot for a GPT disk image without grub-bios-setup (which refuses plain files).
// GRUB's BIOS path is: MBR code (boot.img) -> first sector of core.img (diskboot.img) -> the rest
// of core.img. grub-bios-setup only writes those two images and patches two pointers:
//   - boot.img, offset 0x5c: 64-bit LBA of core.img's first sector;
//     offset 0x66: the 2-byte "drive check" jump is replaced by two NOPs for hard disks.
//   - diskboot.img (core.img's first sector), its last blocklist entry at offset 0x1f4:
//     64-bit LBA of core.img's second sector, 16-bit sector count, 16-bit load segment (0x820).
// The MBR keeps its protective partition table and signature (bytes 0x1b8..0x1ff).
// usage: node install-bios-boot.ts DISK BOOT_IMG CORE_IMG CORE_LBA
import { openSync, readFileSync, readSync, writeSync, closeSync } from 'node:fs';

const [disk, bootImgPath, coreImgPath, coreLbaText] = process.argv.slice(2);
if (!disk || !bootImgPath || !coreImgPath || !coreLbaText) {
  console.error('usage: install-bios-boot.ts DISK BOOT_IMG CORE_IMG CORE_LBA');
  process.exit(2);
}
const SECTOR = 512;
const coreLba = BigInt(coreLbaText);
const bootImg = readFileSync(bootImgPath);
const coreImg = readFileSync(coreImgPath);
if (bootImg.length !== SECTOR) throw new Error(`${bootImgPath} is ${bootImg.length} bytes, expected 512`);

const core = Buffer.alloc(Math.ceil(coreImg.length / SECTOR) * SECTOR);
coreImg.copy(core);
const coreSectors = core.length / SECTOR;
const blocklist = SECTOR - 12;
core.writeBigUInt64LE(coreLba + 1n, blocklist);
core.writeUInt16LE(coreSectors - 1, blocklist + 8);
core.writeUInt16LE(0x820, blocklist + 10);

const fd = openSync(disk, 'r+');
try {
  const mbr = Buffer.alloc(SECTOR);
  readSync(fd, mbr, 0, SECTOR, 0);
  if (mbr.readUInt16LE(0x1fe) !== 0xaa55) throw new Error(`${disk} has no (protective) MBR: partition it first`);
  bootImg.copy(mbr, 0, 0, 0x1b8);
  mbr.writeBigUInt64LE(coreLba, 0x5c);
  mbr[0x66] = 0x90;
  mbr[0x67] = 0x90;
  writeSync(fd, mbr, 0, SECTOR, 0);
  writeSync(fd, core, 0, core.length, Number(coreLba) * SECTOR);
} finally {
  closeSync(fd);
}
console.log(`BIOS boot: core.img (${coreSectors} sectors) at LBA ${coreLba}`);
