import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * Writes `.gz` and `.br` beside every text asset, so a static server with
 * pre-compressed support (@fastify/static `preCompressed: true`) sends a
 * phone on 4G the compressed bytes without compressing on each request.
 * The live page's WASM Opus encoder (331 KB) goes down to about 130 KB in br.
 */
function precompress(): Plugin {
  return {
    name: 'loaxa-precompress',
    apply: 'build',
    writeBundle(options) {
      const dir = options.dir ?? 'dist';
      const walk = (folder: string): string[] =>
        fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
          const full = path.join(folder, entry.name);
          return entry.isDirectory() ? walk(full) : [full];
        });
      for (const file of walk(dir)) {
        if (!/\.(js|css|html|svg|json|wasm)$/.test(file)) continue;
        const data = fs.readFileSync(file);
        fs.writeFileSync(`${file}.gz`, zlib.gzipSync(data, { level: 9 }));
        fs.writeFileSync(
          `${file}.br`,
          zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// The server serves web/dist at `/`; in development Vite proxies the API, the
// media files and the communes' public pages to a locally running server.
const server = process.env.LOAXA_SERVER ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  plugins: [svelte(), precompress()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One small console: keep the output to a handful of files.
    assetsInlineLimit: 4096,
  },
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/media': { target: server, changeOrigin: false },
      '/public': { target: server, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/media': { target: server, changeOrigin: false },
      '/public': { target: server, changeOrigin: false },
    },
  },
});
