// Debian's Postfix as the reference MTA, run the way the peer measurements did: loopback only,
// relaying everything to the bench sink, no content filter, its own fsync'ed queue. The system's
// /etc/postfix/main.cf and master.cf are saved first and put back afterwards; Postfix is started
// with `postfix start` and stopped with `postfix stop`, and its queue is emptied before and after.
import { execFileSync } from 'node:child_process';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

const ETC = '/etc/postfix';
const FILES = ['main.cf', 'master.cf'];

export function postfixInstalled(): boolean {
  return existsSync('/usr/sbin/postfix') && existsSync('/usr/lib/postfix/sbin/master');
}

export function postfixRunning(): boolean {
  try { execFileSync('postfix', ['status'], { stdio: 'ignore' }); return true; } catch { return false; }
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

export interface RunningPostfix { port: number; stop(): Promise<void> }

/** `milter`: "host:port" of a milter every message passes before Postfix answers DATA (rspamd's proxy). */
export async function startPostfix(opts: { port: number; sinkPort: number; backupDir: string; milter?: string }): Promise<RunningPostfix> {
  if (postfixRunning()) throw new Error('a Postfix is already running on this machine; not touching it');
  const saved: string[] = [];
  for (const f of FILES) {
    if (existsSync(path.join(ETC, f))) { await copyFile(path.join(ETC, f), path.join(opts.backupDir, f)); saved.push(f); }
  }
  const restore = async () => {
    for (const f of FILES) {
      if (saved.includes(f)) await copyFile(path.join(opts.backupDir, f), path.join(ETC, f));
      else await rm(path.join(ETC, f), { force: true });
    }
  };
  try {
    if (!existsSync(path.join(ETC, 'main.cf'))) await writeFile(path.join(ETC, 'main.cf'), '');
    if (!existsSync(path.join(ETC, 'master.cf'))) await copyFile(path.join(ETC, 'master.cf.proto'), path.join(ETC, 'master.cf'));
    run('postconf', ['-e',
      'compatibility_level=3.6', 'myhostname=postfix.bench.test', 'mydomain=bench.test', 'myorigin=$myhostname',
      'inet_interfaces=127.0.0.1', 'inet_protocols=ipv4', 'mydestination=', 'local_recipient_maps=', 'relay_domains=',
      'alias_maps=', 'alias_database=', 'mynetworks=127.0.0.0/8',
      'smtpd_relay_restrictions=permit_mynetworks, reject_unauth_destination',
      `relayhost=[127.0.0.1]:${opts.sinkPort}`, 'smtp_dns_support_level=disabled', 'smtp_host_lookup=native',
      'smtpd_peername_lookup=no', 'biff=no', 'append_dot_mydomain=no', 'default_process_limit=150',
      'smtpd_client_connection_count_limit=0', 'smtpd_client_connection_rate_limit=0', 'message_size_limit=52428800',
    ]);
    if (opts.milter) {
      // before-queue filtering, as the peers' rspamd stack runs it; a milter failure tempfails
      run('postconf', ['-e', `smtpd_milters=inet:${opts.milter}`, 'non_smtpd_milters=$smtpd_milters', 'milter_protocol=6',
        'milter_mail_macros=i {mail_addr} {client_addr} {client_name} {auth_authen}', 'milter_default_action=tempfail']);
    }
    // the public smtpd on a loopback port of ours instead of 25; nothing chrooted
    run('postconf', ['-MX', 'smtp/inet']);
    run('postconf', ['-M', `127.0.0.1:${opts.port}/inet=127.0.0.1:${opts.port} inet n - n - - smtpd`]);
    run('postconf', ['-F', '*/*/chroot=n']);
    run('postfix', ['check']);
    try { run('postsuper', ['-d', 'ALL']); } catch { /* empty queue */ }
    run('postfix', ['start']);
  } catch (err) {
    await restore();
    throw err;
  }
  return {
    port: opts.port,
    async stop() {
      try { run('postfix', ['stop']); } catch { /* not running */ }
      for (let i = 0; i < 50 && postfixRunning(); i++) await new Promise((r) => setTimeout(r, 200));
      try { run('postsuper', ['-d', 'ALL']); } catch { /* empty queue */ }
      await restore();
    },
  };
}
