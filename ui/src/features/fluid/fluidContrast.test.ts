// Text over the fluid stays readable: the worst the fluid can draw (crates/sam-fluid's display
// shader with its palette), under the scrim fluid.css puts over it, still leaves the muted text
// colour at WCAG AA (4.5:1) in both themes. The scrim colours are read from fluid.css itself.
import { describe, expect, it } from "vitest";
// vite.config.ts lets this one stylesheet through Vitest's CSS stub, so ?raw is the real file.
import css from "./fluid.css?raw";

type Rgb = [number, number, number];
const hex = (v: number): Rgb => [((v >> 16) & 255) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255];
const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const luminance = ([r, g, b]: Rgb) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
const contrast = (a: Rgb, b: Rgb) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
};
const mix = (a: Rgb, b: Rgb, t: number): Rgb => [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];

// crates/sam-fluid/src/config.rs (Palette::for_theme) and FluidConfig::default().intensity.
const INTENSITY = 2.5;
const PALETTES = {
  light: { bg: [hex(0xf7f7f8), hex(0xeff1f3)], stops: [0x0f766e, 0x0369a1, 0x4f46e5, 0xbe185d].map(hex), cap: 0.28 },
  dark: { bg: [hex(0x16181c), hex(0x121417)], stops: [0x2dd4bf, 0x38bdf8, 0x818cf8, 0xf472b6].map(hex), cap: 0.55 },
};
// ui/src/styles.css: --text and --text-muted.
const TEXT = { light: [hex(0x1b1d21), hex(0x5b616b)], dark: [hex(0xe6e8eb), hex(0x9aa1ac)] };

/** crates/sam-fluid/src/shaders/display.wgsl, fs_main, without shading and dither. */
function display(theme: "light" | "dark", bg: Rgb, dye: Rgb): Rgb {
  const { cap } = PALETTES[theme];
  const e = dye.map((c) => 1 - Math.exp(-Math.max(c, 0) * INTENSITY)) as Rgb;
  if (theme === "light") {
    const m = Math.max(...e);
    const tint = e.map((c) => (c / Math.max(m, 1e-4)) * 0.8) as Rgb;
    return mix(bg, tint, m * cap);
  }
  return bg.map((c, i) => Math.min(1, c + (e[i] ?? 0) * cap)) as Rgb;
}

function scrim(theme: "light" | "dark"): { color: Rgb; alpha: number } {
  const match = /\.fluid-background__scrim\s*{[^}]*background:\s*light-dark\(([^)]*\)),\s*([^)]*\))\)/.exec(css);
  expect(match, "the scrim's light-dark() background in fluid.css").not.toBeNull();
  const value = theme === "light" ? match![1]! : match![2]!;
  const parts = /rgb\((\d+) (\d+) (\d+) \/ (\d+)%\)/.exec(value);
  expect(parts, value).not.toBeNull();
  const [, r, g, b, a] = parts!.map(Number) as [number, number, number, number, number];
  return { color: [r / 255, g / 255, b / 255], alpha: a / 100 };
}

describe("text over the fluid", () => {
  for (const theme of ["light", "dark"] as const) {
    it(`keeps AA contrast for body and muted text in the ${theme} theme`, () => {
      const { bg, stops } = PALETTES[theme];
      const { color, alpha } = scrim(theme);
      // Every palette hue (and white, where the dye saturates) at every density.
      const hues = [...stops, [1, 1, 1] as Rgb];
      let worst = Infinity;
      for (const page of bg)
        for (const hue of hues)
          for (let k = 0; k <= 40; k++) {
            const dye = hue.map((c) => c * k * 0.25) as Rgb;
            const shown = mix(display(theme, page, dye), color, alpha);
            for (const text of TEXT[theme]) worst = Math.min(worst, contrast(text, shown));
          }
      expect(worst).toBeGreaterThanOrEqual(4.5);
    });
  }
});
