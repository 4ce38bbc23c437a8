import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'test',
      // docker/compose.yaml's profiles and the deploy/ manifests (no Docker engine needed; the image
      // itself is `pnpm test:docker`).
      {
        test: {
          name: 'deploy',
          include: ['docker/test/compose.test.ts', 'deploy/test/**/*.test.ts'],
          testTimeout: 120_000,
        },
      },
    ],
  },
});
