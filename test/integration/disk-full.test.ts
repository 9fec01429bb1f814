// The data disk's hard limit over real SMTP, with the data directory on a small tmpfs mounted by
// the test (root, as CI has; a filesystem systeminformation's mount list leaves out): past the
// limit new mail gets 452 and the admin is warned; what was accepted before stays intact (the
// store reopens with it, it is delivered), and mail is taken again once space is freed.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deliverAll } from '../../appliance/accept/message-filter.ts';
import { message, startTestAppliance } from '../helpers/appliance.ts';
import { sendMail } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/smtp-sink.ts';

const isRoot = process.getuid?.() === 0;

/** Writes a file that brings the filesystem holding `dir` to about `percent` % used (as df counts). */
function fillTo(dir: string, name: string, percent: number): void {
  const fs = statfsSync(dir);
  const used = (fs.blocks - fs.bfree) * fs.bsize;
  const usable = used + fs.bavail * fs.bsize;
  writeFileSync(path.join(dir, name), Buffer.alloc(Math.max(0, Math.round(usable * percent / 100 - used)), 1));
}

(isRoot ? test.serial : test.serial.skip)('a full tmpfs data disk: 452 and a warning; accepted mail survives; mail is taken again when freed', async (t) => {
  const mountDir = mkdtempSync(path.join(os.tmpdir(), 'mailmoat-diskfull-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountDir]);
  const dataDir = path.join(mountDir, 'data');
  mkdirSync(dataDir);
  const sink = await startSink();
  const lines: string[] = [];
  const config = {
    domains: [{ name: 'example.com', routes: [{ host: '127.0.0.1', port: sink.port }] }],
    system: { disk: { warnPercent: 80, hardLimitPercent: 95 } },
  };
  let a = await startTestAppliance(config, { filter: deliverAll, dataDir, say: (line) => lines.push(line) });
  try {
    const before = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['user@example.com'], raw: message({ subject: 'before' }) });
    t.true(before.ok, before.response);
    const id = /queued as (\w+)/.exec(before.response)![1];

    fillTo(dataDir, 'filler', 97);
    await a.app.system.disks.check();
    const refused = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['user@example.com'], raw: message({ subject: 'refused' }) });
    t.is(refused.code, 452, refused.response);
    t.regex(refused.response, /4\.3\.1 Insufficient system storage/);
    t.true(lines.some((l) => /^<2>mailmoat: disk full: the data filesystem .* is 9\d(\.\d)? % full: at the hard limit of 95 %/.test(l)), lines.join('\n'));

    // The message accepted before the disk filled is whole: the store reopens with it and it is delivered.
    await a.app.stop();
    unlinkSync(path.join(dataDir, 'filler'));
    a = await startTestAppliance(config, { filter: deliverAll, dataDir, say: (line) => lines.push(line) });
    t.is((await a.app.log.get(id))?.mailFrom, 'a@example.net');
    const delivered = await sink.waitFor(1);
    t.regex(delivered[0].raw.toString(), /Subject: before/);
    const after = await sendMail({ port: a.inbound, from: 'a@example.net', to: ['user@example.com'], raw: message({ subject: 'after' }) });
    t.true(after.ok, after.response);
  } finally {
    await a.app.stop().catch(() => {});
    await sink.stop();
    execFileSync('umount', [mountDir]);
    rmSync(mountDir, { recursive: true, force: true });
  }
});
