import { defineConfig } from 'vitest/config';

// `pnpm test:docker`: builds and runs the image (minutes); not part of `pnpm test`.
export default defineConfig({
  test: { include: ['docker/test/image.test.ts'], testTimeout: 120_000, hookTimeout: 1_800_000 },
});
