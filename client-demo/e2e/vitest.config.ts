import { defineConfig } from 'vitest/config';

// The browser test: the built demo (`vite preview`), a real pulso and headless Chromium.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    // One browser and one server at a time: the dashboard's reconnect timings stay its own.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
