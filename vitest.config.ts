import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure, no network beyond loopback servers the test starts itself) and
// `integration` (real Redis, child processes, large runs). `npm test` runs both.
export default defineConfig({
  test: {
    globalSetup: ['./test/setup/global-setup.ts'],
    // Per file: temp folders removed, and no server, socket, child process or process listener
    // left open (test/setup/leaks.ts).
    setupFiles: ['./test/setup/leaks.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'agent/**/*.test.ts',
            'connectors/**/*.test.ts',
            'secrets/**/*.test.ts',
            'test/conformance/**/*.test.ts',
            'test/docs/**/*.test.ts',
            'test/proof/properties/**/*.test.ts',
            'test/proof/load/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            'test/integration/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/proof/faults/**/*.test.ts',
            'test/proof/attacks/**/*.test.ts',
          ],
          testTimeout: 180_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
