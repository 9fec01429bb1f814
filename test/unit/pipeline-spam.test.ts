// The spam stage alone: what it hands the scorer, and what it records when there is no scorer or
// the scorer fails (Unknown — never a made-up "Not Spam").
import test from 'ava';
import { spamStage, type ScoreInput, type Scorer } from '../../appliance/pipeline/spam.ts';
import type { StageContext } from '../../appliance/pipeline/message-context.ts';

function sc(): StageContext {
  return {
    msg: { id: 's', direction: 'inbound', receivedAt: 0, spoolPath: '', size: 5, client: { ip: '127.0.0.1', hostname: '', helo: '' }, mailFrom: '', recipients: [] },
    raw: Buffer.from('Subject: x\r\n\r\nhi\r\n'),
    findings: {
      lists: {}, timings: {},
      auth: {
        spf: { result: 'softfail', domain: 'x.test', ng: false }, arc: { result: 'none' }, fromDomain: 'x.test', headers: [],
        dkim: [{ result: 'fail', domain: 'x.test', selector: 's', aligned: false }, { result: 'pass', domain: 'esp.test', selector: 'k', aligned: false }],
        dmarc: { result: 'fail', policy: 'none', domain: 'x.test' },
      },
    },
  };
}

test('the scorer gets the raw message and the auth summary; the result is recorded', async (t) => {
  let seen: ScoreInput | undefined;
  const scorer: Scorer = { score: async (input) => { seen = input; return { score: 42.424, classHint: 'Not Spam', reasons: [{ name: 'R', contribution: 1 }] }; } };
  const s = sc();
  await spamStage(s, scorer);
  t.is(seen?.raw, s.raw);
  t.deepEqual(seen?.auth, { spf: 'softfail', dkim: 'pass', dmarc: 'fail', fromDomain: 'x.test' });
  t.deepEqual(s.findings.spam, { score: 42.424, classHint: 'Not Spam', reasons: [{ name: 'R', contribution: 1 }] });
});

test('scores outside 0–100 are clamped', async (t) => {
  const s = sc();
  await spamStage(s, { score: async () => ({ score: 140, classHint: 'Spam', reasons: [] }) });
  t.is(s.findings.spam?.score, 100);
});

test('no scorer, or a failing one, gives the hint Unknown', async (t) => {
  const a = sc();
  await spamStage(a, undefined);
  t.is(a.findings.spam?.classHint, 'Unknown');
  const b = sc();
  await spamStage(b, { score: async () => { throw new Error('model not loaded'); } });
  t.is(b.findings.spam?.classHint, 'Unknown');
  t.regex(b.findings.spam?.error ?? '', /model not loaded/);
});
