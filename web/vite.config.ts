// The dashboard build: React without a plugin (the JSX transform is built in), one small bundle in web/dist.
// `npm run dev:web` proxies /api to a running `gantry up` (GANTRY_URL, default http://127.0.0.1:4700).
import { defineConfig, type Plugin } from 'vite';

/**
 * The diff viewer's highlighter (@git-diff-view/lowlight) registers every highlight.js grammar
 * (lowlight's `all`, ~190 languages, two thirds of the diff chunk). The dashboard ships lowlight's
 * `common` set (~37: TypeScript, JavaScript, Python, Go, Rust, Java, C/C++, CSS, JSON, YAML, Markdown,
 * shell, SQL, …); a file in another language is shown unhighlighted.
 */
const commonGrammarsOnly: Plugin = {
  name: 'gantry:lowlight-common-grammars',
  enforce: 'pre',
  async resolveId(source, importer) {
    if (source === './lib/all.js' && importer && /[\\/]lowlight[\\/]index\.js$/.test(importer)) return this.resolve('./lib/common.js', importer, { skipSelf: true });
    return null;
  },
};

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  plugins: [commonGrammarsOnly],
  build: {
    outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: false, reportCompressedSize: false,
    rolldownOptions: {
      // @git-diff-view/react starts with 'use client' (a React Server Components marker): meaningless in this SPA.
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE') warn(w);
      },
    },
  },
  server: { proxy: { '/api': { target: process.env.GANTRY_URL ?? 'http://127.0.0.1:4700', changeOrigin: false } } },
});
