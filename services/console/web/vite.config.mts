import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * Precompressed copies (`.br`, `.gz`) of the built text files, made once at build time: the BFF's
 * @fastify/static serves them (`preCompressed`) to browsers that accept them, so no CPU is spent
 * compressing per request. Files under 1 KiB are left alone.
 */
function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'flowline-precompress',
    apply: 'build',
    configResolved(c) {
      outDir = c.build.outDir;
    },
    closeBundle() {
      const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
      for (const file of walk(outDir)) {
        if (!/\.(js|mjs|css|html|svg|json|txt|map)$/.test(file)) continue;
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

const CONSOLE_URL = process.env.CONSOLE_URL ?? 'http://127.0.0.1:3009';

// The console's web app. It imports only types from the libs (@flowline/contracts, the generated
// OpenAPI types in libs/clients): erased at build, so no alias is needed here. Screens are lazy
// imports (app.tsx): each is its own chunk; the big libraries get chunks of their own so a screen's
// chunk stays small and the libraries stay cached across releases that do not change them.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react(), precompress()],
  build: {
    outDir: process.env.CONSOLE_WEB_OUT ?? 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (!id.includes('node_modules')) return undefined;
          if (/node_modules\/(echarts|zrender)\//.test(id)) return 'echarts';
          if (/node_modules\/(react|react-dom|scheduler|react-router|react-router-dom)\//.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
  logLevel: 'warn',
  server: {
    proxy: {
      '/api': {
        target: CONSOLE_URL,
        changeOrigin: true,
        // The BFF refuses a state-changing call whose Origin is not its own (src/cross-site.ts): a call of
        // this dev server's own page is passed on as the console's; any other origin stays as it came.
        configure: (proxy) =>
          proxy.on('proxyReq', (proxyReq, req) => {
            if (req.headers.origin && req.headers.origin === `http://${req.headers.host}`) proxyReq.setHeader('origin', new URL(CONSOLE_URL).origin);
          }),
      },
    },
  },
});
