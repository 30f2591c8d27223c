/// <reference types="vitest/config" />
import { defineConfig, type ProxyOptions } from 'vite';

// `npm run dev` and `npm run preview` forward the socket and the REST API to pulso,
// so the page and the server share an origin and no CORS setup is needed.
const target = process.env.PULSO_URL ?? 'http://127.0.0.1:8080';
const proxy: Record<string, ProxyOptions> = {
  '/socket.io': { target, ws: true },
  '/api': { target },
  '/ws': { target },
};

export default defineConfig({
  // React's automatic JSX runtime, compiled by esbuild (no plugin needed).
  esbuild: { jsx: 'automatic' },
  server: { proxy },
  preview: { proxy },
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 15_000,
  },
});
