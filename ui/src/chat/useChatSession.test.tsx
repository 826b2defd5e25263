import { act, renderHook, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { EVENTS_PAGE, useChatSession, type ChatApi } from "./api";
import { TAIL_EVENTS } from "./useChatSession";
import { createFakeChatApi } from "./testing/fakeChatApi";
import { ev } from "./testing/events";
import type { ChatEventBody } from "./types";

function chunks(count: number, prefix = "w"): ChatEventBody[] {
  return Array.from({ length: count }, (_, i) => ev.text(`${prefix}${i} `));
}

function agentText(state: ReturnType<typeof useChatSession>["state"]): string {
  return state.items
    .filter((item) => item.type === "agent")
    .map((item) => (item.type === "agent" ? item.text : ""))
    .join("|");
}

describe("useChatSession", () => {
  it("opens at the newest events, then loads the older ones in pages and follows live events", async () => {
    const api = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.started(), ev.prompt(1, "go"), ...chunks(4500)] }] });
    const { result } = renderHook(() => useChatSession(api, "s1"));
    expect(result.current.loading).toBe(true);
    await waitFor(() => expect(result.current.loading).toBe(false));
    // The first screen: only the newest events, the rest on their way.
    expect(result.current.state.lastSeq).toBe(4502);
    await waitFor(() => expect(result.current.loadingHistory).toBe(false));
    expect(result.current.state.loadedAfter).toBe(0);
    expect(result.current.state.items[0]?.type).toBe("started");
    expect(agentText(result.current.state)).toBe(chunks(4500).map((_, i) => `w${i} `).join(""));
    expect(api.calls.filter((call) => call.method === "events").map((call) => call.args)).toEqual([
      ["s1", 0, 1], // the newest seq, as no hint was given
      ["s1", 4502 - TAIL_EVENTS, TAIL_EVENTS],
      ["s1", 0, EVENTS_PAGE],
      ["s1", 2000, EVENTS_PAGE],
      ["s1", 4000, 4502 - TAIL_EVENTS - 4000],
    ]);
    // Subscribed before the first page was asked for, so nothing can fall between the two.
    expect(api.calls[0]).toEqual({ method: "subscribe", args: ["s1"] });

    act(() => {
      api.emit("s1", [ev.text("live"), ev.turnEnded(1)]);
    });
    await waitFor(() => expect(result.current.state.working).toBe(false));
    expect(agentText(result.current.state).endsWith("w4499 live")).toBe(true);
  });

  it("renders the tail before the history arrives, keeps live events across the swap, and needs no probe with a hint", async () => {
    const fake = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go"), ...chunks(1000)] }] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api: ChatApi = {
      ...fake,
      events: async (sessionId, after, limit) => {
        const page = await fake.events(sessionId, after, limit);
        if (after < 1001 - TAIL_EVENTS) await gate; // hold the history back
        return page;
      },
    };
    const { result } = renderHook(() => useChatSession(api, "s1", 1001));
    await waitFor(() => expect(result.current.loading).toBe(false));
    expect(result.current.loadingHistory).toBe(true);
    expect(result.current.state.loadedAfter).toBe(1001 - TAIL_EVENTS);
    expect(agentText(result.current.state).startsWith(`w${1000 - TAIL_EVENTS} `)).toBe(true);
    act(() => {
      fake.emit("s1", [ev.text("live")]);
    });
    await waitFor(() => expect(result.current.state.lastSeq).toBe(1002));
    release();
    await waitFor(() => expect(result.current.loadingHistory).toBe(false));
    expect(result.current.state.loadedAfter).toBe(0);
    expect(result.current.state.items[0]?.type).toBe("user");
    expect(agentText(result.current.state)).toBe(`${chunks(1000).map((_, i) => `w${i} `).join("")}live`);
    expect(fake.calls.filter((call) => call.method === "events").map((call) => call.args)[0]).toEqual(["s1", 1001 - TAIL_EVENTS, TAIL_EVENTS]);
  });

  it("keeps live events that arrive while the journal is still loading, without duplicates", async () => {
    const fake = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go"), ev.text("a")] }] });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api: ChatApi = {
      ...fake,
      events: async (...args) => {
        const page = await fake.events(...args);
        await gate;
        return page;
      },
    };
    const { result } = renderHook(() => useChatSession(api, "s1"));
    // The page was read at seq 2; these arrive live before it is answered.
    act(() => {
      fake.emit("s1", [ev.text("b"), ev.text("c")]);
    });
    release();
    await waitFor(() => expect(result.current.state.lastSeq).toBe(4));
    expect(agentText(result.current.state)).toBe("abc");
  });

  it("applies a flood of live batches in a few renders, not one each", async () => {
    const api = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go")] }] });
    let renders = 0;
    const { result } = renderHook(() => {
      renders += 1;
      return useChatSession(api, "s1");
    });
    await waitFor(() => expect(result.current.loading).toBe(false));
    const before = renders;
    act(() => {
      for (let i = 0; i < 500; i++) api.emit("s1", ev.text("x"));
    });
    await waitFor(() => expect(result.current.state.lastSeq).toBe(501));
    expect(agentText(result.current.state)).toBe("x".repeat(500));
    expect(renders - before).toBeLessThanOrEqual(3);
  });

  it("drops duplicate deliveries", async () => {
    const fake = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go")] }] });
    let deliver: ((events: Parameters<Parameters<ChatApi["subscribe"]>[1]>[0]) => void) | null = null;
    const api: ChatApi = {
      ...fake,
      subscribe: (id, onEvents) => {
        deliver = onEvents;
        return fake.subscribe(id, onEvents);
      },
    };
    const { result } = renderHook(() => useChatSession(api, "s1"));
    await waitFor(() => expect(result.current.loading).toBe(false));
    act(() => {
      const events = fake.emit("s1", [ev.text("once")]);
      deliver!(events);
      deliver!(fake.journal("s1"));
    });
    await waitFor(() => expect(result.current.state.lastSeq).toBe(2));
    expect(agentText(result.current.state)).toBe("once");
  });

  it("refetches when a live batch skips ahead", async () => {
    const api = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go")] }] });
    const { result } = renderHook(() => useChatSession(api, "s1"));
    await waitFor(() => expect(result.current.loading).toBe(false));
    api.appendSilently("s1", [ev.text("lost "), ev.text("in transit ")]);
    act(() => {
      api.emit("s1", ev.text("found"));
    });
    await waitFor(() => expect(result.current.state.lastSeq).toBe(4));
    expect(agentText(result.current.state)).toBe("lost in transit found");
    expect(result.current.state.gapAfter).toBeNull();
    expect(api.calls.filter((call) => call.method === "events").at(-1)?.args).toEqual(["s1", 1, EVENTS_PAGE]);
  });

  it("reports a failed load, and reload tries again", async () => {
    const fake = createFakeChatApi({ sessions: [{ id: "s1", events: [ev.prompt(1, "go")] }] });
    let fail = true;
    const api: ChatApi = {
      ...fake,
      events: async (...args) => {
        if (fail) throw new Error("database is locked");
        return fake.events(...args);
      },
    };
    const { result } = renderHook(() => useChatSession(api, "s1"));
    await waitFor(() => expect(result.current.error?.message).toBe("database is locked"));
    fail = false;
    act(() => result.current.reload());
    await waitFor(() => expect(result.current.state.lastSeq).toBe(1));
    expect(result.current.error).toBeNull();
    expect(result.current.loading).toBe(false);
  });

  it("unsubscribes when the session changes or the component goes away, and never shows the old session's events", async () => {
    const api = createFakeChatApi({
      sessions: [
        { id: "s1", events: [ev.prompt(1, "one")] },
        { id: "s2", events: [ev.prompt(1, "two"), ev.text("2")] },
      ],
    });
    const { result, rerender, unmount } = renderHook(({ id }) => useChatSession(api, id), { initialProps: { id: "s1" as string | null } });
    await waitFor(() => expect(result.current.state.lastSeq).toBe(1));
    rerender({ id: "s2" });
    expect(result.current.state.lastSeq).toBe(0);
    expect(result.current.loading).toBe(true);
    await waitFor(() => expect(result.current.state.lastSeq).toBe(2));
    expect(api.subscriberCount("s1")).toBe(0);
    expect(api.subscriberCount("s2")).toBe(1);
    rerender({ id: null });
    expect(result.current.loading).toBe(false);
    expect(result.current.state.items).toEqual([]);
    expect(api.subscriberCount("s2")).toBe(0);
    unmount();
  });
});
