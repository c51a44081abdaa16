// The dashboard build: React without a plugin (the JSX transform is built in), one small bundle in web/dist.
// `npm run dev:web` proxies /api to a running `gantry up` (GANTRY_URL, default http://127.0.0.1:4700).
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false },
  server: { proxy: { '/api': { target: process.env.GANTRY_URL ?? 'http://127.0.0.1:4700', changeOrigin: false } } },
});
