import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vitest/config'

// `npm run dev` proxies the API to a running `trackbench serve` (TRACKBENCH_URL, default
// http://127.0.0.1:5005) and signs each request with TRACKBENCH_TOKEN, so the dev server needs no
// login URL. Production builds are embedded in the server binary and use its cookie instead.
const target = process.env.TRACKBENCH_URL ?? 'http://127.0.0.1:5005'
const token = process.env.TRACKBENCH_TOKEN ?? ''
const proxy = {
  target,
  changeOrigin: true,
  headers: token ? { Authorization: `Bearer ${token}` } : {},
  // The page's Origin is the dev server's, which the API refuses on writes (CSRF guard); the
  // proxy speaks for the page, so it drops the header.
  configure: (p: { on(ev: 'proxyReq', f: (r: { removeHeader(h: string): void }) => void): void }) =>
    p.on('proxyReq', (r) => r.removeHeader('origin')),
}

export default defineConfig({
  plugins: [svelte()],
  server: { proxy: { '/api': proxy } },
  build: { target: 'es2022', chunkSizeWarningLimit: 800 },
  // Timings live in tests/*.bench.ts (`npx vitest bench --run`, run by e2e/bench.mjs), never in tests.
  test: { include: ['tests/**/*.test.ts'], environment: 'node', benchmark: { include: ['tests/**/*.bench.ts'] } },
})
