// Runs the ava suite named by MAILMOAT_TESTS (see ava.config.js), streams its output, and ends
// with the plain line "N passed, N failed, N skipped" that CI reads. Each failure's TAP block (the
// test's name and ava's error, without its log lines) is repeated just before that line: a CI that
// keeps only the head and the tail of a long log then still shows why a test failed.
import { spawn } from 'node:child_process';

const MAX_REPEATED = 10;
const MAX_LINES = 40;

const child = spawn(process.execPath, ['node_modules/ava/entrypoints/cli.js', '--tap', ...process.argv.slice(2)], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const counts = { pass: 0, fail: 0, skip: 0, todo: 0 };
/** The failures' blocks: the "not ok" line, then ava's YAML error block ("  ---" to "  ..."). */
const failures = [];
let failure; // the block being read, while in one
let inYaml = false;
let rest = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const lines = (rest + chunk).split('\n');
  rest = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^# (pass|fail|skip|todo)\s+(\d+)/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
    if (line.startsWith('not ok ')) {
      failure = [line];
      inYaml = false;
      if (failures.length < MAX_REPEATED) failures.push(failure);
    } else if (failure && line === '  ---') {
      inYaml = true;
      failure.push(line);
    } else if (failure && inYaml) {
      if (failure.length < MAX_LINES) failure.push(line);
      else if (failure.length === MAX_LINES) failure.push('    (cut here; the whole block is above)');
      if (line === '  ...') { failure = undefined; inYaml = false; }
    } else if (/^(ok|not ok) /.test(line)) {
      failure = undefined;
    }
  }
});
child.on('close', (code) => {
  if (code !== 0 && counts.fail === 0) counts.fail = 1; // a crash or an ava error is a failure too
  if (failures.length) {
    console.log(`\n# the failures again (${failures.length === MAX_REPEATED ? `the first ${MAX_REPEATED}` : 'all'}), without their log lines:`);
    for (const block of failures) console.log(block.join('\n'));
    console.log('');
  }
  console.log(`${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`);
  process.exit(code ?? 1);
});
