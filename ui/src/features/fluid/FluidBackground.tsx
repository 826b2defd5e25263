// The voice-reactive fluid behind the chat (crates/sam-fluid compiled to wasm32 + WebGL2).
//
// The wasm package comes in through `load` (the app passes `loadFluid`), so this file type-
// checks and tests without the wasm build. Every failure (no WebGL2, no wasm, a GPU error later)
// logs once and leaves the static gradient; nothing throws out of here. The layer is hidden from
// screen readers, takes no pointer events and sits behind the content under a translucent scrim
// that keeps text over it readable (fluid.css).
//
// It never runs when the user prefers reduced motion (the gradient only), stops asking for
// animation frames while the page is hidden, while `active` is false (another view) and, by the
// wasm side's scheduler, after about 60 s without input or agent activity.

import { useEffect, useRef, useState } from "react";
import "./fluid.css";

/** The parts of the wasm-bindgen `FluidCanvas` this component uses. */
export interface FluidCanvasHandle {
  set_signal(rms: number, bands: Float32Array, onset: number, centroid: number, nowMs: number): void;
  use_synthetic(on: boolean): void;
  set_activity(working: boolean, nowMs: number): void;
  set_theme(dark: boolean): void;
  set_motion(motion: string): void;
  set_hidden(hidden: boolean): void;
  pause(): void;
  resume(): void;
  touch(nowMs: number): void;
  resize(cssWidth: number, cssHeight: number): void;
  is_running(nowMs: number): boolean;
  frame(nowMs: number): boolean;
  free(): void;
}

/** Loads the wasm module and creates the fluid on a canvas (rejects when unavailable). */
export type FluidLoader = (canvas: HTMLCanvasElement, dark: boolean, nowMs: number) => Promise<FluidCanvasHandle>;

export interface VoiceFrame {
  rms: number;
  bands: Float32Array;
  onset: number;
  centroid: number;
}

export interface FluidBackgroundProps {
  load: FluidLoader;
  dark: boolean;
  /** The user's setting: false shows only the gradient. */
  enabled?: boolean;
  /** On screen (e.g. the chat view): false pauses it without tearing it down. */
  active?: boolean;
  /** The agent is working: the fluid stirs gently. */
  working?: boolean;
  /** Subscribes to voice analysis frames; returns an unsubscribe function. */
  subscribeVoice?: (onFrame: (f: VoiceFrame) => void) => () => void;
  /** No microphone: drive the fluid from the synthetic voice. */
  synthetic?: boolean;
  /** Installs `window.__samFluid` (burst, snapshot) for the end-to-end tests. */
  testHooks?: boolean;
}

/** What the layer shows: data-state on its element. */
export type FluidState = "off" | "reduced-motion" | "loading" | "running" | "fallback";

/** Colour samples of the canvas (a `size`×`size` grid, RGB 0..255, row-major). */
export interface FluidSnapshot {
  width: number;
  height: number;
  size: number;
  rgb: number[];
}

/** The end-to-end test hook (installed only with `testHooks`). */
export interface FluidTestHook {
  /** The synthetic voice drives the fluid for `ms` milliseconds. */
  burst(ms?: number): boolean;
  /** Samples the canvas right after the next frame is drawn (null when not running). */
  snapshot(): Promise<FluidSnapshot | null>;
}

declare global {
  interface Window {
    __samFluid?: FluidTestHook;
    /** Why the fluid fell back (for diagnosis: the console logs it once too). */
    __samFluidError?: string;
  }
}

let loggedFailure = false;
function logOnce(message: string, error: unknown) {
  if (!loggedFailure) {
    loggedFailure = true;
    console.warn(`fluid background: ${message}; showing the static gradient`, error);
  }
}

/** For tests: log the next failure again. */
export function resetFluidFailureLog() {
  loggedFailure = false;
}

const REDUCED_MOTION = "(prefers-reduced-motion: reduce)";

function motionQuery(): MediaQueryList | null {
  return typeof window.matchMedia === "function" ? window.matchMedia(REDUCED_MOTION) : null;
}

function useReducedMotion(): boolean {
  const [reduced, setReduced] = useState(() => motionQuery()?.matches ?? false);
  useEffect(() => {
    const query = motionQuery();
    if (!query) return;
    const onChange = () => setReduced(query.matches);
    onChange();
    query.addEventListener?.("change", onChange);
    return () => query.removeEventListener?.("change", onChange);
  }, []);
  return reduced;
}

function sample(canvas: HTMLCanvasElement, size: number): FluidSnapshot | null {
  const probe = document.createElement("canvas");
  probe.width = size;
  probe.height = size;
  const ctx = probe.getContext("2d", { willReadFrequently: true });
  if (!ctx) return null;
  ctx.drawImage(canvas, 0, 0, size, size);
  const data = ctx.getImageData(0, 0, size, size).data;
  const rgb: number[] = [];
  for (let i = 0; i < data.length; i += 4) rgb.push(data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0);
  return { width: canvas.width, height: canvas.height, size, rgb };
}

const INPUT_EVENTS = ["pointerdown", "pointermove", "keydown", "wheel"] as const;

export function FluidBackground({
  load,
  dark,
  enabled = true,
  active = true,
  working = false,
  subscribeVoice,
  synthetic = false,
  testHooks = false,
}: FluidBackgroundProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const fluidRef = useRef<FluidCanvasHandle | null>(null);
  const wakeRef = useRef<() => void>(() => {});
  const [failed, setFailed] = useState(false);
  const [ready, setReady] = useState(false);
  const reduced = useReducedMotion();
  const run = enabled && !reduced;

  // The latest props, for the create effect's callbacks (the instance outlives renders).
  const latest = useRef({ dark, active, working, synthetic });
  latest.current = { dark, active, working, synthetic };

  // Create once per (loader, run); tear down on unmount.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !run) return;
    let disposed = false;
    let raf = 0;
    let fluid: FluidCanvasHandle | null = null;
    let resize: ResizeObserver | null = null;
    let burstTimer: ReturnType<typeof setTimeout> | undefined;
    const snapshots: Array<(s: FluidSnapshot | null) => void> = [];

    const flushSnapshots = (value: () => FluidSnapshot | null) => {
      if (snapshots.length === 0) return;
      let result: FluidSnapshot | null = null;
      try {
        result = value();
      } catch {
        result = null;
      }
      for (const resolve of snapshots.splice(0)) resolve(result);
    };

    const fail = (message: string, error: unknown) => {
      logOnce(message, error);
      window.__samFluidError = `${message}: ${String(error)}`;
      cancelAnimationFrame(raf);
      raf = 0;
      fluidRef.current = null;
      try {
        fluid?.free();
      } catch {
        // already gone
      }
      fluid = null;
      flushSnapshots(() => null);
      if (!disposed) setFailed(true);
    };

    const tick = (now: number) => {
      raf = 0;
      if (!fluid) return;
      let more = false;
      try {
        more = fluid.frame(now);
      } catch (e) {
        fail("GPU error", e);
        return;
      }
      // Sampled in the same task as the draw: the drawing buffer is not preserved.
      flushSnapshots(() => sample(canvas, 32));
      if (more) raf = requestAnimationFrame(tick);
    };
    const wake = () => {
      if (fluid && raf === 0 && !disposed) raf = requestAnimationFrame(tick);
    };
    wakeRef.current = wake;

    const onVisibility = () => {
      if (!fluid) return;
      fluid.set_hidden(document.visibilityState === "hidden");
      if (document.visibilityState !== "hidden") wake();
    };
    const onInput = () => {
      if (!fluid) return;
      fluid.touch(performance.now());
      wake();
    };

    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width * 0.35));
    canvas.height = Math.max(1, Math.round(rect.height * 0.35));
    let loading: Promise<FluidCanvasHandle>;
    try {
      loading = load(canvas, latest.current.dark, performance.now());
    } catch (e) {
      loading = Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    loading
      .then((f) => {
        if (disposed) {
          f.free();
          return;
        }
        fluid = f;
        fluidRef.current = f;
        const now = performance.now();
        f.set_motion("full");
        f.set_hidden(document.visibilityState === "hidden");
        f.set_theme(latest.current.dark);
        f.set_activity(latest.current.working, now);
        f.use_synthetic(latest.current.synthetic);
        if (!latest.current.active) f.pause();
        const box = canvas.getBoundingClientRect();
        f.resize(box.width, box.height);
        if (typeof ResizeObserver === "function") {
          resize = new ResizeObserver((entries) => {
            const r = entries[0]?.contentRect;
            if (r && fluid && r.width > 0 && r.height > 0) {
              fluid.resize(r.width, r.height);
              wake();
            }
          });
          resize.observe(canvas);
        }
        document.addEventListener("visibilitychange", onVisibility);
        for (const name of INPUT_EVENTS) window.addEventListener(name, onInput, { passive: true });
        if (testHooks) {
          window.__samFluid = {
            burst: (ms = 1500) => {
              if (!fluid) return false;
              const t = performance.now();
              fluid.use_synthetic(true);
              fluid.set_activity(true, t);
              fluid.touch(t);
              wake();
              clearTimeout(burstTimer);
              burstTimer = setTimeout(() => {
                fluid?.use_synthetic(latest.current.synthetic);
                fluid?.set_activity(latest.current.working, performance.now());
              }, ms);
              return true;
            },
            snapshot: () =>
              new Promise((resolve) => {
                if (!fluid) {
                  resolve(null);
                  return;
                }
                snapshots.push(resolve);
                fluid.touch(performance.now());
                wake();
              }),
          };
        }
        setReady(true);
        wake();
      })
      .catch((e: unknown) => fail("WebGL2 or the wasm module is unavailable", e));

    return () => {
      disposed = true;
      cancelAnimationFrame(raf);
      clearTimeout(burstTimer);
      resize?.disconnect();
      document.removeEventListener("visibilitychange", onVisibility);
      for (const name of INPUT_EVENTS) window.removeEventListener(name, onInput);
      if (testHooks) delete window.__samFluid;
      flushSnapshots(() => null);
      fluidRef.current = null;
      wakeRef.current = () => {};
      setReady(false);
      try {
        fluid?.free();
      } catch {
        // already gone
      }
    };
    // The loader and whether it runs at all define the instance; the rest is pushed below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [load, run]);

  useEffect(() => {
    fluidRef.current?.set_theme(dark);
    wakeRef.current();
  }, [dark, ready]);

  useEffect(() => {
    const fluid = fluidRef.current;
    if (!fluid) return;
    if (active) {
      fluid.resume();
      fluid.touch(performance.now());
      wakeRef.current();
    } else {
      fluid.pause();
    }
  }, [active, ready]);

  useEffect(() => {
    fluidRef.current?.set_activity(working, performance.now());
    wakeRef.current();
  }, [working, ready]);

  useEffect(() => {
    fluidRef.current?.use_synthetic(synthetic);
    wakeRef.current();
  }, [synthetic, ready]);

  useEffect(() => {
    if (!subscribeVoice) return;
    return subscribeVoice((f) => {
      const fluid = fluidRef.current;
      if (!fluid) return;
      fluid.set_signal(f.rms, f.bands, f.onset, f.centroid, performance.now());
      wakeRef.current();
    });
  }, [subscribeVoice, ready]);

  const state: FluidState = !enabled ? "off" : reduced ? "reduced-motion" : failed ? "fallback" : ready ? "running" : "loading";
  const showCanvas = run && !failed;
  return (
    <div
      className="fluid-background"
      aria-hidden="true"
      data-testid="fluid-background"
      data-state={state}
      data-active={active ? "true" : "false"}
    >
      {showCanvas && (
        <canvas
          ref={canvasRef}
          className="fluid-background__canvas"
          data-testid="fluid-canvas"
          data-ready={ready ? "true" : "false"}
          aria-hidden="true"
          tabIndex={-1}
        />
      )}
      <div className="fluid-background__scrim" />
    </div>
  );
}
