import { describe, expect, it } from "vitest";
import { loadFluid } from "./loadFluid";

describe("loadFluid", () => {
  it("rejects without loading anything where WebGL2 is missing (jsdom)", async () => {
    expect(typeof WebGL2RenderingContext).toBe("undefined");
    await expect(loadFluid(document.createElement("canvas"), true, 0)).rejects.toThrow("WebGL2 unavailable");
  });
});
