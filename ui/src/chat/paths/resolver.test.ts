import { describe, expect, it, vi } from "vitest";
import type { FileApi } from "../../shared/files/files";
import type { ChatApi } from "../api";
import { createFakeChatApi } from "../testing/fakeChatApi";
import { PathResolver, RESOLVE_BATCH_LIMIT } from "./resolver";

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

describe("PathResolver", () => {
  it("sends the asks of one moment as one batch, each candidate once", async () => {
    const resolve = vi.fn(async (candidates: string[]) => candidates.filter((c) => c.endsWith(".rs")).map((requested) => ({ requested, path: `n/${requested}` })));
    const resolver = new PathResolver(resolve, 5);
    resolver.ensure("a.rs");
    resolver.ensure("b.md");
    resolver.ensure("a.rs");
    expect(resolver.peek("a.rs")).toBeUndefined();
    await tick();
    expect(resolve).toHaveBeenCalledTimes(1);
    expect(resolve).toHaveBeenCalledWith(["a.rs", "b.md"]);
    expect(resolver.peek("a.rs")).toBe("n/a.rs");
    expect(resolver.peek("b.md")).toBeNull();
    // Known answers are not asked again.
    resolver.ensure("a.rs");
    await tick();
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it("splits a large batch", async () => {
    const resolve = vi.fn(async (_candidates: string[]) => []);
    const resolver = new PathResolver(resolve, 1);
    for (let i = 0; i < RESOLVE_BATCH_LIMIT + 1; i++) resolver.ensure(`f${i}.rs`);
    await tick();
    expect(resolve.mock.calls.map(([candidates]) => candidates.length)).toEqual([RESOLVE_BATCH_LIMIT, 1]);
  });

  it("keeps old answers on screen after invalidate until the new ones come, and tells subscribers", async () => {
    let exists = false;
    const resolve = vi.fn(async (candidates: string[]) => (exists ? candidates.map((requested) => ({ requested, path: requested })) : []));
    const resolver = new PathResolver(resolve, 1);
    const listener = vi.fn();
    resolver.subscribe(listener);
    resolver.ensure("new.rs");
    await tick();
    expect(resolver.peek("new.rs")).toBeNull();
    exists = true;
    const before = resolver.version();
    resolver.invalidate();
    expect(resolver.version()).toBe(before + 1);
    expect(resolver.peek("new.rs")).toBeNull();
    resolver.ensure("new.rs");
    await tick();
    expect(resolver.peek("new.rs")).toBe("new.rs");
    expect(listener.mock.calls.length).toBeGreaterThanOrEqual(3);
  });

  it("asks again what was in flight when invalidated", async () => {
    let answer: (value: { requested: string; path: string }[]) => void = () => {};
    const resolve = vi.fn(() => new Promise<{ requested: string; path: string }[]>((done) => (answer = done)));
    const resolver = new PathResolver(resolve, 1);
    resolver.ensure("a.rs");
    await tick();
    resolver.invalidate();
    answer([]);
    await tick();
    expect(resolve).toHaveBeenCalledTimes(2);
  });

  it("treats a failed ask as not found, without throwing", async () => {
    const resolver = new PathResolver(async () => Promise.reject(new Error("offline")), 1);
    resolver.ensure("a.rs");
    await tick();
    expect(resolver.peek("a.rs")).toBeNull();
  });
});

describe("the fake core's files", () => {
  it("resolves relative, dotted and absolute candidates inside the workspace only", async () => {
    const api = createFakeChatApi({ files: { "src/a.rs": "", "b.md": "" } });
    expect(await api.resolvePaths!("w-api", ["./src/a.rs", "/home/ada/api/b.md", "src/x/../a.rs", "../a.rs", "/etc/b.md", "src/a.rs"])).toEqual([
      { requested: "./src/a.rs", path: "src/a.rs" },
      { requested: "/home/ada/api/b.md", path: "b.md" },
      { requested: "src/x/../a.rs", path: "src/a.rs" },
      { requested: "src/a.rs", path: "src/a.rs" },
    ]);
    expect(await api.findFiles!("w-api", "ars", 10)).toEqual({ matches: [{ path: "src/a.rs", positions: [4, 6, 7] }], indexedFiles: 2 });
  });

  it("is usable as go-to-file's API (a ChatApi is a FileApi)", () => {
    const api: ChatApi = createFakeChatApi();
    const files: FileApi = api;
    expect(files.openLocation).toBeTypeOf("function");
  });
});
