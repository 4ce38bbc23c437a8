import { defineProject } from 'vitest/config';

export default defineProject({
  // Every file starts real gateway processes (seconds each on a loaded 2-core machine): a budget
  // per test, not a speed claim.
  test: { name: 'e2e', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 },
});
