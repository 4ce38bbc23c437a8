import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-vault', include: ['test/**/*.test.ts'] },
});
