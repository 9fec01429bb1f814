// Runs the ava suite named by MAILMOAT_TESTS (see ava.config.js), streams its output, and ends
// with the plain line "N passed, N failed, N skipped" that CI reads.
import { spawn } from 'node:child_process';

const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.js', '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
let rest = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (rest + chunk).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^# (pass|fail|skip|todo)\s+(\d+)/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
  }
});
child.on('close', (code) => {
  if (code !== 0 && counts.fail === 0) counts.fail = 1; // a crash or an ava error is a failure too
  console.log(`${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`);
  process.exit(code ?? 1);
});
