import { defineConfig } from 'vite';

// Built into dist/app, which the Go package embeds (ui.go). Everything the
// pages need is bundled: nothing is fetched from the internet at run time.
export default defineConfig({
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  server: { proxy: { '/api': 'http://localhost:8080' } },
});
