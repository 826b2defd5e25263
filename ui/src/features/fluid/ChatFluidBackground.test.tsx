import { act, render, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { publishVoiceLevel, resetVoiceLevel } from "../../shared/voiceLevel";
import { subscribeMicrophone } from "./ChatFluidBackground";
import { FluidBackground, type FluidCanvasHandle } from "./FluidBackground";

// The live microphone level reaches the fluid through set_signal (the wasm is faked).

function fakeFluid() {
  const names = ["set_signal", "use_synthetic", "set_activity", "set_theme", "set_motion", "set_hidden", "pause", "resume", "touch", "resize", "free"] as const;
  const fluid = Object.fromEntries(names.map((name) => [name, vi.fn()])) as unknown as Record<(typeof names)[number], ReturnType<typeof vi.fn>>;
  return { ...fluid, is_running: vi.fn(() => false), frame: vi.fn(() => false) };
}

describe("the fluid and the microphone", () => {
  afterEach(() => {
    resetVoiceLevel();
    vi.unstubAllGlobals();
  });

  it("feeds each live level to the fluid as loudness, bands, onset and brightness", async () => {
    vi.stubGlobal("requestAnimationFrame", vi.fn(() => 1));
    vi.stubGlobal("cancelAnimationFrame", vi.fn());
    const fluid = fakeFluid();
    render(<FluidBackground load={async () => fluid as unknown as FluidCanvasHandle} dark={false} subscribeVoice={subscribeMicrophone} />);
    await waitFor(() => expect(fluid.set_theme).toHaveBeenCalled());

    act(() => publishVoiceLevel({ level: 0.8, bands: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], centroid: 0.3, onset: true }));
    expect(fluid.set_signal).toHaveBeenCalledOnce();
    const [rms, bands, onset, centroid] = fluid.set_signal.mock.calls[0] as [number, Float32Array, number, number];
    expect(rms).toBe(0.8);
    expect(bands).toBeInstanceOf(Float32Array);
    expect(Array.from(bands).map((b) => Math.round(b * 10) / 10)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]);
    expect(onset).toBe(1);
    expect(centroid).toBe(0.3);

    act(() => publishVoiceLevel({ level: 0, bands: [], centroid: 0.5, onset: false }));
    const [, quiet, noOnset] = fluid.set_signal.mock.calls[1] as [number, Float32Array, number];
    expect(Array.from(quiet)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(noOnset).toBe(0);
  });

  it("stops listening when the fluid goes away", async () => {
    vi.stubGlobal("requestAnimationFrame", vi.fn(() => 1));
    vi.stubGlobal("cancelAnimationFrame", vi.fn());
    const fluid = fakeFluid();
    const view = render(<FluidBackground load={async () => fluid as unknown as FluidCanvasHandle} dark={false} subscribeVoice={subscribeMicrophone} />);
    await waitFor(() => expect(fluid.set_theme).toHaveBeenCalled());
    view.unmount();
    act(() => publishVoiceLevel({ level: 0.9, bands: [], centroid: 0.5, onset: false }));
    expect(fluid.set_signal).not.toHaveBeenCalled();
  });
});
