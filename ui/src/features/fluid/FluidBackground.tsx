// The voice-reactive fluid behind the UI (crates/sam-fluid compiled to wasm32 + WebGL2).
//
// Not wired into the app yet: the wasm package is loaded through `load`, so this file type-
// checks and tests without the wasm build. Every failure (no WebGL2, GPU error, load error)
// logs once and leaves the static gradient; the canvas is hidden from screen readers and
// sits behind the content (pointer-events: none).

import { useEffect, useRef, useState } from "react";

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
  /** The user's setting: "off" shows only the gradient. */
  enabled?: boolean;
  /** The agent is working: the fluid stirs gently. */
  working?: boolean;
  /** Subscribes to voice analysis frames; returns an unsubscribe function. */
  subscribeVoice?: (onFrame: (f: VoiceFrame) => void) => () => void;
  /** No microphone: drive the fluid from the synthetic voice. */
  synthetic?: boolean;
}

let loggedFailure = false;
function logOnce(message: string, error: unknown) {
  if (!loggedFailure) {
    loggedFailure = true;
    console.warn(`fluid background: ${message}; showing the static gradient`, error);
  }
}

function reducedMotion(): boolean {
  return typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

const gradient = (dark: boolean) =>
  dark ? "linear-gradient(180deg, #16181c 0%, #121417 100%)" : "linear-gradient(180deg, #f7f7f8 0%, #eff1f3 100%)";

export function FluidBackground({ load, dark, enabled = true, working = false, subscribeVoice, synthetic = false }: FluidBackgroundProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const fluidRef = useRef<FluidCanvasHandle | null>(null);
  const wakeRef = useRef<() => void>(() => {});
  const [failed, setFailed] = useState(false);
  const [ready, setReady] = useState(false);

  // Create once; tear down on unmount.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !enabled) return;
    let disposed = false;
    let raf = 0;
    let fluid: FluidCanvasHandle | null = null;

    const fail = (message: string, error: unknown) => {
      logOnce(message, error);
      cancelAnimationFrame(raf);
      raf = 0;
      fluidRef.current = null;
      try {
        fluid?.free();
      } catch {
        // already gone
      }
      fluid = null;
      if (!disposed) setFailed(true);
    };

    const tick = (now: number) => {
      raf = 0;
      if (!fluid) return;
      try {
        if (fluid.frame(now)) raf = requestAnimationFrame(tick);
      } catch (e) {
        fail("GPU error", e);
      }
    };
    const wake = () => {
      if (fluid && raf === 0 && !disposed) raf = requestAnimationFrame(tick);
    };
    wakeRef.current = wake;

    const onVisibility = () => {
      fluid?.set_hidden(document.hidden);
      if (!document.hidden) wake();
    };
    const onInput = () => {
      fluid?.touch(performance.now());
      wake();
    };
    const motionQuery = typeof window.matchMedia === "function" ? window.matchMedia("(prefers-reduced-motion: reduce)") : null;
    const onMotion = () => {
      fluid?.set_motion(reducedMotion() ? "still" : "full");
      wake();
    };
    const resize = new ResizeObserver((entries) => {
      const box = entries[0]?.contentRect;
      if (box && fluid) {
        fluid.resize(box.width, box.height);
        wake();
      }
    });

    const rect = canvas.getBoundingClientRect();
    canvas.width = Math.max(1, Math.round(rect.width * 0.35));
    canvas.height = Math.max(1, Math.round(rect.height * 0.35));
    load(canvas, dark, performance.now())
      .then((f) => {
        if (disposed) {
          f.free();
          return;
        }
        fluid = f;
        fluidRef.current = f;
        f.set_motion(reducedMotion() ? "still" : "full");
        f.set_hidden(document.hidden);
        f.resize(rect.width, rect.height);
        resize.observe(canvas);
        document.addEventListener("visibilitychange", onVisibility);
        window.addEventListener("pointerdown", onInput, { passive: true });
        window.addEventListener("keydown", onInput, { passive: true });
        motionQuery?.addEventListener("change", onMotion);
        setReady(true);
        wake();
      })
      .catch((e: unknown) => fail("WebGL2 unavailable", e));

    return () => {
      disposed = true;
      cancelAnimationFrame(raf);
      resize.disconnect();
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("pointerdown", onInput);
      window.removeEventListener("keydown", onInput);
      motionQuery?.removeEventListener("change", onMotion);
      fluidRef.current = null;
      wakeRef.current = () => {};
      try {
        fluid?.free();
      } catch {
        // already gone
      }
    };
    // The loader and the on/off setting define the instance; the rest is pushed below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [load, enabled]);

  useEffect(() => {
    fluidRef.current?.set_theme(dark);
    wakeRef.current();
  }, [dark, ready]);

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

  const showCanvas = enabled && !failed;
  return (
    <div
      aria-hidden="true"
      style={{ position: "fixed", inset: 0, zIndex: -1, pointerEvents: "none", background: gradient(dark) }}
    >
      {showCanvas && (
        <canvas
          ref={canvasRef}
          aria-hidden="true"
          tabIndex={-1}
          style={{ width: "100%", height: "100%", display: "block", opacity: ready ? 1 : 0, transition: "opacity 400ms" }}
        />
      )}
    </div>
  );
}
