import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'groups', include: ['test/**/*.test.ts'] },
});
