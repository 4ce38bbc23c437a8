import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-sqlite', include: ['test/**/*.test.ts'] },
});
