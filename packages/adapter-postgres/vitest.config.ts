import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-postgres', include: ['test/**/*.test.ts'] },
});
