// Tests are TypeScript run by Node 24's own type stripping (no build step).
// MAILMOAT_TESTS selects a suite: quick (unit + integration), e2e, image, or all.
const suites = {
  unit: ['test/unit/**/*.test.ts'],
  quick: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
  e2e: ['test/e2e/**/*.test.ts'],
  image: ['test/image/**/*.test.ts'],
  all: ['test/**/*.test.ts'],
};
export default {
  extensions: ['ts'],
  files: suites[process.env.MAILMOAT_TESTS ?? 'all'] ?? suites.all,
  timeout: '5m',
  concurrency: 2,
  workerThreads: false,
};
