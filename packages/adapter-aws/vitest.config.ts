import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'adapter-aws', include: ['test/**/*.test.ts'] },
});
