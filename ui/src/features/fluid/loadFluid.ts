// Loads crates/sam-fluid's wasm build (scripts/build-fluid-wasm.sh writes it to ./pkg) and
// creates the fluid on a canvas.
//
// * The package is found with `import.meta.glob`, so a checkout without ./pkg still type-checks,
//   builds and tests: the loader then rejects and the page keeps its static gradient.
// * The CSP allows no fetch of app assets (connect-src is IPC only), so the .wasm is not
//   fetched: Vite inlines it (`?inline`, base64) into a chunk of its own that loads only when
//   the fluid starts (script-src 'self'), and the bytes are handed to wasm-bindgen's `init`.
//   Instantiating them needs script-src 'wasm-unsafe-eval' (src-tauri/tauri.conf.json).
import type { FluidCanvasHandle, FluidLoader } from "./FluidBackground";

/** The parts of wasm-bindgen's `--target web` module this loader uses. */
interface FluidModule {
  default: (options: { module_or_path: BufferSource }) => Promise<unknown>;
  FluidCanvas: { create(canvas: HTMLCanvasElement, dark: boolean, nowMs: number): Promise<FluidCanvasHandle> };
}

const glue = import.meta.glob<FluidModule>("./pkg/sam_fluid.js");
const wasm = import.meta.glob<string>("./pkg/sam_fluid_bg.wasm", { query: "?url&inline", import: "default" });

/** Whether the wasm package was built into this bundle. */
export const fluidPackageBuilt = Object.keys(glue).length > 0 && Object.keys(wasm).length > 0;

function webgl2Available(): boolean {
  return typeof WebGL2RenderingContext !== "undefined" && typeof WebAssembly === "object";
}

function decodeDataUrl(url: string): Uint8Array<ArrayBuffer> {
  const comma = url.indexOf(",");
  if (!url.startsWith("data:") || comma < 0) throw new Error("the fluid wasm was not inlined");
  const binary = atob(url.slice(comma + 1));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let ready: Promise<FluidModule> | null = null;

async function initModule(): Promise<FluidModule> {
  const loadGlue = Object.values(glue)[0];
  const loadWasm = Object.values(wasm)[0];
  if (!loadGlue || !loadWasm) throw new Error("the fluid wasm package is not built (scripts/build-fluid-wasm.sh)");
  const [module, url] = await Promise.all([loadGlue(), loadWasm()]);
  await module.default({ module_or_path: decodeDataUrl(url) });
  return module;
}

/** The app's loader: rejects (nothing loaded) where WebGL2 or WebAssembly is missing. */
export const loadFluid: FluidLoader = async (canvas, dark, nowMs) => {
  if (!webgl2Available()) throw new Error("WebGL2 unavailable");
  ready ??= initModule().catch((error: unknown) => {
    ready = null;
    throw error;
  });
  const module = await ready;
  return module.FluidCanvas.create(canvas, dark, nowMs);
};
