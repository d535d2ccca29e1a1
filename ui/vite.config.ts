import { defineConfig } from 'vite';

// The inbox is built into ui/dist by ui/build.ts; the API process serves it at /.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // One small app: no inline module-preload polyfill, so a strict CSP (script-src 'self') holds.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
