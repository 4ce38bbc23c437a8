import { defineProject } from 'vitest/config';

export default defineProject({
  // Tests start real processes (the sgw bin, gateways, tmux sessions) on a shared 2-core machine:
  // a budget per test, not a speed claim.
  test: { name: 'cli', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
