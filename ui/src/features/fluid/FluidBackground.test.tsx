import { act, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FluidBackground, resetFluidFailureLog, type FluidCanvasHandle, type FluidLoader } from "./FluidBackground";

// The wasm module is never loaded here: every test hands the component a fake loader.

type FakeFluid = { [K in keyof FluidCanvasHandle]: ReturnType<typeof vi.fn> };

function fakeFluid(): FakeFluid {
  let hidden = false;
  let paused = false;
  return {
    set_signal: vi.fn(),
    use_synthetic: vi.fn(),
    set_activity: vi.fn(),
    set_theme: vi.fn(),
    set_motion: vi.fn(),
    set_hidden: vi.fn((h: boolean) => {
      hidden = h;
    }),
    pause: vi.fn(() => {
      paused = true;
    }),
    resume: vi.fn(() => {
      paused = false;
    }),
    touch: vi.fn(),
    resize: vi.fn(),
    is_running: vi.fn(() => !hidden && !paused),
    // Like the real scheduler: nothing to do (stop asking for frames) while hidden or paused.
    frame: vi.fn(() => !hidden && !paused),
    free: vi.fn(),
  };
}

/** requestAnimationFrame under the test's control. */
function manualFrames() {
  let next = 1;
  const pending = new Map<number, FrameRequestCallback>();
  vi.stubGlobal(
    "requestAnimationFrame",
    vi.fn((cb: FrameRequestCallback) => {
      const id = next++;
      pending.set(id, cb);
      return id;
    }),
  );
  vi.stubGlobal(
    "cancelAnimationFrame",
    vi.fn((id: number) => {
      pending.delete(id);
    }),
  );
  return {
    get pending() {
      return pending.size;
    },
    /** Runs the frames requested so far. */
    run() {
      const due = [...pending.values()];
      pending.clear();
      act(() => {
        for (const cb of due) cb(performance.now());
      });
    },
  };
}

function stubReducedMotion(reduce: boolean) {
  vi.stubGlobal(
    "matchMedia",
    vi.fn((query: string) => ({
      matches: reduce && query.includes("prefers-reduced-motion"),
      media: query,
      addEventListener: vi.fn(),
      removeEventListener: vi.fn(),
    })),
  );
}

function setVisibility(state: "visible" | "hidden") {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => state });
  act(() => {
    document.dispatchEvent(new Event("visibilitychange"));
  });
}

const layer = () => screen.getByTestId("fluid-background");

describe("FluidBackground", () => {
  beforeEach(() => {
    resetFluidFailureLog();
    stubReducedMotion(false);
  });
  afterEach(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
  });

  it("starts the fluid behind the content, hidden from assistive technology", async () => {
    const frames = manualFrames();
    const fluid = fakeFluid();
    const load = vi.fn<FluidLoader>(() => Promise.resolve(fluid as unknown as FluidCanvasHandle));
    render(<FluidBackground load={load} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    expect(load).toHaveBeenCalledTimes(1);
    expect(load.mock.calls[0]?.[1]).toBe(true);
    expect(layer()).toHaveAttribute("aria-hidden", "true");
    expect(screen.getByTestId("fluid-canvas")).toHaveAttribute("data-ready", "true");
    expect(fluid.set_motion).toHaveBeenCalledWith("full");
    frames.run();
    expect(fluid.frame).toHaveBeenCalled();
    expect(frames.pending).toBe(1);
  });

  it("does not start with prefers-reduced-motion: the static gradient only", async () => {
    stubReducedMotion(true);
    const load = vi.fn<FluidLoader>();
    render(<FluidBackground load={load} dark={false} />);
    expect(layer()).toHaveAttribute("data-state", "reduced-motion");
    expect(screen.queryByTestId("fluid-canvas")).not.toBeInTheDocument();
    await Promise.resolve();
    expect(load).not.toHaveBeenCalled();
  });

  it("pauses while the window is hidden and resumes when it is shown", async () => {
    const frames = manualFrames();
    const fluid = fakeFluid();
    render(<FluidBackground load={() => Promise.resolve(fluid as unknown as FluidCanvasHandle)} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    frames.run();
    expect(frames.pending).toBe(1);

    setVisibility("hidden");
    expect(fluid.set_hidden).toHaveBeenLastCalledWith(true);
    frames.run();
    expect(frames.pending).toBe(0);
    const drawn = fluid.frame.mock.calls.length;
    frames.run();
    expect(fluid.frame.mock.calls.length).toBe(drawn);

    setVisibility("visible");
    expect(fluid.set_hidden).toHaveBeenLastCalledWith(false);
    expect(frames.pending).toBe(1);
    frames.run();
    expect(fluid.frame.mock.calls.length).toBe(drawn + 1);
  });

  it("starts hidden when the page is hidden at load", async () => {
    manualFrames();
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    const fluid = fakeFluid();
    render(<FluidBackground load={() => Promise.resolve(fluid as unknown as FluidCanvasHandle)} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    expect(fluid.set_hidden).toHaveBeenCalledWith(true);
  });

  it("pauses off screen (another view) without tearing the fluid down", async () => {
    const frames = manualFrames();
    const fluid = fakeFluid();
    const load = () => Promise.resolve(fluid as unknown as FluidCanvasHandle);
    const { rerender } = render(<FluidBackground load={load} dark active />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    rerender(<FluidBackground load={load} dark active={false} />);
    expect(fluid.pause).toHaveBeenCalled();
    expect(layer()).toHaveAttribute("data-active", "false");
    frames.run();
    expect(frames.pending).toBe(0);
    rerender(<FluidBackground load={load} dark active />);
    expect(fluid.resume).toHaveBeenCalled();
    expect(frames.pending).toBe(1);
    expect(fluid.free).not.toHaveBeenCalled();
  });

  it("passes user input on so the idle pause restarts", async () => {
    const frames = manualFrames();
    const fluid = fakeFluid();
    render(<FluidBackground load={() => Promise.resolve(fluid as unknown as FluidCanvasHandle)} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    // The wasm scheduler decided the app is idle: the loop stops.
    fluid.frame.mockReturnValueOnce(false);
    frames.run();
    expect(frames.pending).toBe(0);
    act(() => {
      window.dispatchEvent(new KeyboardEvent("keydown", { key: "a" }));
    });
    expect(fluid.touch).toHaveBeenCalled();
    expect(frames.pending).toBe(1);
  });

  it("falls back to the gradient when WebGL2 or the wasm is unavailable, logging once", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const load = vi.fn<FluidLoader>(() => Promise.reject(new Error("WebGL2 unavailable")));
    const first = render(<FluidBackground load={load} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "fallback"));
    expect(screen.queryByTestId("fluid-canvas")).not.toBeInTheDocument();
    first.unmount();
    render(<FluidBackground load={load} dark={false} />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "fallback"));
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toContain("static gradient");
  });

  it("falls back when the loader throws instead of rejecting", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const load: FluidLoader = () => {
      throw new Error("boom");
    };
    render(<FluidBackground load={load} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "fallback"));
  });

  it("falls back and frees the fluid on a GPU error mid-animation", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const frames = manualFrames();
    const fluid = fakeFluid();
    fluid.frame.mockImplementation(() => {
      throw new Error("sam-fluid: GPU error");
    });
    render(<FluidBackground load={() => Promise.resolve(fluid as unknown as FluidCanvasHandle)} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    frames.run();
    expect(layer()).toHaveAttribute("data-state", "fallback");
    expect(fluid.free).toHaveBeenCalledTimes(1);
    expect(frames.pending).toBe(0);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("pushes theme, agent activity and the synthetic voice to the fluid", async () => {
    manualFrames();
    const fluid = fakeFluid();
    const load = () => Promise.resolve(fluid as unknown as FluidCanvasHandle);
    const { rerender } = render(<FluidBackground load={load} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    rerender(<FluidBackground load={load} dark={false} working synthetic />);
    expect(fluid.set_theme).toHaveBeenLastCalledWith(false);
    expect(fluid.set_activity).toHaveBeenLastCalledWith(true, expect.any(Number));
    expect(fluid.use_synthetic).toHaveBeenLastCalledWith(true);
    rerender(<FluidBackground load={load} dark={false} />);
    expect(fluid.set_activity).toHaveBeenLastCalledWith(false, expect.any(Number));
    expect(fluid.use_synthetic).toHaveBeenLastCalledWith(false);
  });

  it("shows only the gradient when switched off", () => {
    const load = vi.fn<FluidLoader>();
    render(<FluidBackground load={load} dark enabled={false} />);
    expect(layer()).toHaveAttribute("data-state", "off");
    expect(load).not.toHaveBeenCalled();
  });

  it("installs the test hook only when asked, and removes it on unmount", async () => {
    manualFrames();
    const fluid = fakeFluid();
    const load = () => Promise.resolve(fluid as unknown as FluidCanvasHandle);
    const plain = render(<FluidBackground load={load} dark />);
    await waitFor(() => expect(layer()).toHaveAttribute("data-state", "running"));
    expect(window.__samFluid).toBeUndefined();
    plain.unmount();
    const hooked = render(<FluidBackground load={load} dark testHooks />);
    await waitFor(() => expect(window.__samFluid).toBeDefined());
    act(() => {
      expect(window.__samFluid?.burst(10)).toBe(true);
    });
    expect(fluid.use_synthetic).toHaveBeenLastCalledWith(true);
    hooked.unmount();
    expect(window.__samFluid).toBeUndefined();
    expect(fluid.free).toHaveBeenCalled();
  });
});
