import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console's web app. It imports only types from the libs (@flowline/contracts, the generated
// OpenAPI types in libs/clients): erased at build, so no alias is needed here.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: process.env.CONSOLE_WEB_OUT ?? 'dist', emptyOutDir: true, chunkSizeWarningLimit: 4000, reportCompressedSize: false },
  logLevel: 'warn',
  server: { proxy: { '/api': process.env.CONSOLE_URL ?? 'http://127.0.0.1:3009' } },
});
