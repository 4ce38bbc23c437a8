import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-memory', include: ['test/**/*.test.ts'] },
});
