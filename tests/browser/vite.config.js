import { defineConfig } from 'vite';

// No React plugin: esbuild's automatic JSX runtime is all main.jsx needs.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 8192, // one bundle with h5wasm inlined, ~5.5 MB: fine for a test page
    rollupOptions: {
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE') warn(w); // "use client" in react-error-boundary
      },
    },
  },
  logLevel: 'warn',
});
