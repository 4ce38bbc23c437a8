import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-azure', include: ['test/**/*.test.ts'] },
});
