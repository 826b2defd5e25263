/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Tauri loads ui/dist through its asset protocol in release builds and
// http://localhost:5173 in `tauri dev`.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  envPrefix: ["VITE_", "TAURI_ENV_"],
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.50 (Linux) and WKWebView are well past this.
    target: ["es2022", "safari15"],
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    mockReset: true,
    // CSS is stubbed out in tests, except the fluid's: its contrast test reads the scrim.
    css: { include: [/features\/fluid\/fluid\.css/] },
    unstubGlobals: true,
  },
});
