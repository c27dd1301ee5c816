import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    // Every graph compiled during the tests is verified and round-tripped through text.
    env: { KILN_VERIFY: '1' },
  },
});
