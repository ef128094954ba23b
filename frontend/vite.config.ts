import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The app is served under any stage prefix (/{stage}/): every URL in the build is relative and
// the app derives its API and router base from document.baseURI (<base href> rewritten by the
// frontend server). `npm run dev` proxies the API to a running gateway (ENKISYS_GATEWAY, with the
// stage prefix, e.g. http://127.0.0.1:8080/dev).
const gateway = process.env.ENKISYS_GATEWAY ?? "http://127.0.0.1:8080/dev";
const target = new URL(gateway);
const prefix = target.pathname.replace(/\/$/, "");

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    target: "es2020",
    modulePreload: { polyfill: false },
    cssCodeSplit: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    // Hex content hashes (`name-<hex>.js`): the frontend server caches such assets as immutable.
    rollupOptions: { output: { hashCharacters: "hex" } },
  },
  server: {
    proxy: {
      "^/(api|health)": {
        target: target.origin,
        changeOrigin: true,
        rewrite: (p) => prefix + p,
        // auth scopes the refresh cookie to the stage's /{stage}/api/auth: map it to /api/auth.
        cookiePathRewrite: { [`${prefix}/api/auth`]: "/api/auth" },
      },
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
