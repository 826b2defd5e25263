import { describe, expect, it } from "vitest";
import { applyEvents, createChatState, indexOfSeq, sessionStateOf, type ChatItem, type ChatState } from "./reducer";
import { ev, longSession, makeEvents, T0 } from "./testing/events";
import type { ChatEventBody } from "./types";

function run(bodies: ChatEventBody[]): ChatState {
  return applyEvents(createChatState(), makeEvents(bodies));
}

const summary = (items: readonly ChatItem[]) =>
  items.map((item) => {
    switch (item.type) {
      case "user":
      case "agent":
      case "thought":
        return `${item.type}:${item.text}`;
      case "tool":
        return `tool:${item.call.toolCallId}:${item.call.status}`;
      default:
        return item.type;
    }
  });

describe("applyEvents", () => {
  it("merges consecutive agent chunks into one message, and thoughts into one thought", () => {
    const state = run([
      ev.started(),
      ev.prompt(1, "hi"),
      ev.thought("Let me "),
      ev.thought("think."),
      ev.text("Hello"),
      ev.usage(10, 100), // produces no item, so it does not split the message
      ev.text(", world"),
      ev.turnEnded(1),
    ]);
    expect(summary(state.items)).toEqual(["started", "user:hi", "thought:Let me think.", "agent:Hello, world", "turn_end"]);
    const message = state.items[3]!;
    expect(message.seq).toBe(5);
    expect(message.endSeq).toBe(7);
    expect(message.prompt).toBe(1);
    expect(state.lastSeq).toBe(8);
  });

  it("starts a new message after a tool call and in a new turn", () => {
    const state = run([
      ev.prompt(1, "a"),
      ev.text("one"),
      ev.tool({ toolCallId: "t1", title: "Read file", kind: "read" }),
      ev.text("two"),
      ev.turnEnded(1),
      ev.text("late"),
      ev.prompt(2, "b"),
      ev.text("three"),
    ]);
    expect(summary(state.items)).toEqual(["user:a", "agent:one", "tool:t1:pending", "agent:two", "turn_end", "agent:late", "user:b", "agent:three"]);
  });

  it("tracks working, workingSince and the turn's duration", () => {
    let state = run([ev.started(), ev.prompt(1, "go"), ev.text("…")]);
    expect(state.working).toBe(true);
    expect(state.workingSince).toBe(T0 + 100);
    expect(state.currentPrompt).toBe(1);
    expect(sessionStateOf(state)).toBe("working");
    state = applyEvents(state, [{ seq: 4, at_ms: T0 + 65_100, body: ev.turnEnded(1, "max_tokens") }]);
    expect(state.working).toBe(false);
    expect(state.workingSince).toBeNull();
    expect(sessionStateOf(state)).toBe("idle");
    const end = state.items.at(-1)!;
    expect(end).toMatchObject({ type: "turn_end", stopReason: "max_tokens", error: null, durationMs: 65_000 });
  });

  it("merges tool call updates into the card with that id; present fields replace, content replaces", () => {
    const state = run([
      ev.prompt(1, "edit"),
      ev.tool({
        toolCallId: "t1",
        title: "Edit main.rs",
        kind: "edit",
        status: "pending",
        locations: [{ path: "src/main.rs", line: 3 }],
        content: [{ type: "content", content: { type: "text", text: "first" } }],
        rawInput: { path: "src/main.rs" },
      }),
      ev.tool({ toolCallId: "t2", title: "Run tests", kind: "execute" }),
      ev.toolUpdate({ toolCallId: "t1", status: "in_progress" }),
      ev.toolUpdate({
        toolCallId: "t1",
        status: "completed",
        content: [{ type: "diff", path: "src/main.rs", oldText: "a\n", newText: "b\n" }, { type: "terminal", terminalId: "term-1" }],
        rawOutput: { ok: true },
      }),
      ev.toolUpdate({ toolCallId: "t9", title: "Never announced", status: "failed" }),
    ]);
    expect(summary(state.items)).toEqual(["user:edit", "tool:t1:completed", "tool:t2:pending", "tool:t9:failed"]);
    const card = state.items[1]!;
    if (card.type !== "tool") throw new Error("not a tool");
    expect(card.call).toEqual({
      toolCallId: "t1",
      title: "Edit main.rs",
      kind: "edit",
      status: "completed",
      locations: [{ path: "src/main.rs", line: 3 }],
      content: [
        { type: "diff", path: "src/main.rs", oldText: "a\n", newText: "b\n" },
        { type: "terminal", terminalId: "term-1" },
      ],
      rawInput: { path: "src/main.rs" },
      rawOutput: { ok: true },
    });
    expect(card.seq).toBe(2);
    expect(card.endSeq).toBe(5);
    expect(state.toolIndex.get("t1")).toBe(1);
    expect(state.items[3]).toMatchObject({ type: "tool", call: { title: "Never announced", kind: "other", status: "failed" } });
  });

  it("keeps one plan item per turn, replaced by later plans, and the latest plan in state", () => {
    const state = run([
      ev.prompt(1, "plan"),
      ev.plan([{ content: "Read", status: "in_progress" }, { content: "Write", status: "pending", priority: "high" }]),
      ev.text("reading"),
      ev.plan([{ content: "Read", status: "completed" }, { content: "Write", status: "in_progress", priority: "high" }]),
      ev.turnEnded(1),
      ev.prompt(2, "again"),
      ev.plan([{ content: "Test", status: "pending" }]),
    ]);
    expect(summary(state.items)).toEqual(["user:plan", "plan", "agent:reading", "turn_end", "user:again", "plan"]);
    expect(state.items[1]).toMatchObject({
      entries: [
        { content: "Read", status: "completed", priority: "medium" },
        { content: "Write", status: "in_progress", priority: "high" },
      ],
      endSeq: 4,
    });
    expect(state.plan).toEqual([{ content: "Test", status: "pending", priority: "medium" }]);
  });

  it("follows a permission request from open to resolved", () => {
    let state = run([
      ev.prompt(1, "delete it"),
      ev.tool({ toolCallId: "t1", title: "Delete build/", kind: "delete", locations: [{ path: "build" }] }),
      ev.permission(7, { toolCallId: "t1", status: "pending" }),
    ]);
    expect(state.openPermissions).toEqual([7]);
    expect(sessionStateOf(state)).toBe("waiting");
    const request = state.items[2]!;
    if (request.type !== "permission") throw new Error("not a permission");
    // The request borrows the title and locations of the card it is about.
    expect(request.call).toMatchObject({ title: "Delete build/", kind: "delete", locations: [{ path: "build", line: null }] });
    expect(request.options.map((option) => option.option_id)).toEqual(["allow", "always", "reject"]);
    expect(request).toMatchObject({ open: true, outcome: null, request: 7 });

    state = applyEvents(state, makeEvents([ev.resolved(7, { outcome: "selected", option_id: "allow", by: "cli" })], 4));
    expect(state.openPermissions).toEqual([]);
    expect(state.items[2]).toMatchObject({ open: false, outcome: { outcome: "selected", option_id: "allow", by: "cli" }, endSeq: 4 });
    expect(sessionStateOf(state)).toBe("working");
  });

  it("closes permission requests left open when the turn ends or the agent exits", () => {
    const state = run([
      ev.prompt(1, "x"),
      ev.permission(1, { toolCallId: "a", title: "A" }),
      ev.permission(2, { toolCallId: "b", title: "B" }),
      ev.resolved(1, { outcome: "expired" }),
      ev.turnEnded(1, "cancelled"),
    ]);
    expect(state.openPermissions).toEqual([]);
    expect(state.items[1]).toMatchObject({ open: false, outcome: { outcome: "expired" } });
    expect(state.items[2]).toMatchObject({ open: false, outcome: null });
  });

  it("a session paused with its host is resumable until the agent picks it up again", () => {
    let state = run([ev.started(), ev.prompt(1, "x"), ev.turnEnded(1, "error", "sam-host stopped"), ev.suspended()]);
    expect(sessionStateOf(state)).toBe("resumable");
    expect(state.items.at(-1)).toMatchObject({ type: "suspended", reason: "sam-host restarted" });
    state = applyEvents(state, makeEvents([ev.resumed(), ev.prompt(2, "y")], 5));
    expect(sessionStateOf(state)).toBe("working");
    expect(summary(state.items)).toEqual(["started", "user:x", "turn_end", "suspended", "resumed", "user:y"]);
  });

  it("keeps where the work was shipped, between the turns", () => {
    const pull = { number: 7, url: "https://github.com/ada/app/pull/7", state: "open", created: true };
    const state = run([ev.started(), ev.prompt(1, "x"), ev.turnEnded(1), ev.shipped(pull), ev.prompt(2, "y")]);
    expect(summary(state.items)).toEqual(["started", "user:x", "turn_end", "shipped", "user:y"]);
    expect(state.items[3]).toMatchObject({ branch: "sam/greet-louder", commit: "0123456789abcdef0123", pushed: true, pushError: null, pullRequest: pull, seq: 4 });
    expect(state.working).toBe(true);
  });

  it("records exits, silence, failures, and merges consecutive protocol noise", () => {
    let state = run([ev.started(), ev.prompt(1, "x"), ev.silent(300_000)]);
    expect(state.silentMs).toBe(300_000);
    state = applyEvents(state, makeEvents([ev.noise("warning: foo"), ev.noise("warning: bar"), ev.exited(137, "Killed\n")], 4));
    expect(summary(state.items)).toEqual(["started", "user:x", "silent", "noise", "exit"]);
    expect(state.items[3]).toMatchObject({ lines: ["warning: foo", "warning: bar"], seq: 4, endSeq: 5 });
    expect(state.items[4]).toMatchObject({ code: 137, stderrTail: "Killed\n" });
    expect(state.working).toBe(false);
    expect(state.silentMs).toBeNull();
    expect(state.exitedKey).toBe("6");
    expect(sessionStateOf(state)).toBe("ended");
    state = applyEvents(state, makeEvents([ev.started()], 7));
    expect(state.exitedKey).toBeNull();
    state = applyEvents(state, makeEvents([ev.failed("npm install failed")], 8));
    expect(state.failure).toBe("npm install failed");
    expect(state.failedKey).toBe("8");
    expect(sessionStateOf(state)).toBe("failed");
  });

  it("clears the silent flag when the agent speaks again", () => {
    const state = run([ev.prompt(1, "x"), ev.silent(), ev.text("back")]);
    expect(state.silentMs).toBeNull();
    expect(state.working).toBe(true);
  });

  it("shows user text replayed outside a turn, and ignores the agent's echo inside one", () => {
    const state = run([ev.userText("old "), ev.userText("question"), ev.text("old answer"), ev.prompt(1, "new"), ev.userText("new")]);
    expect(summary(state.items)).toEqual(["user:old question", "agent:old answer", "user:new"]);
    expect(state.items[0]).toMatchObject({ replay: true });
    expect(state.items[2]).toMatchObject({ replay: false });
  });

  it("keeps usage and the title", () => {
    const state = run([ev.usage(1200, 200_000, { amount: 0.12, currency: "USD" }), ev.info({ title: "Fix the build" }), ev.usage(5000, 200_000)]);
    expect(state.usage).toEqual({ used: 5000, size: 200_000, cost: null });
    expect(state.title).toBe("Fix the build");
    expect(state.items).toEqual([]);
  });

  it("turns unknown and malformed updates into an 'unsupported' line without crashing", () => {
    const state = run([
      ev.raw({ sessionUpdate: "teleport", where: "mars" }),
      ev.raw("not an object"),
      ev.raw(null),
      ev.raw({ noKind: true }),
      ev.raw({ sessionUpdate: "available_commands_update", availableCommands: [] }),
      ev.raw({ sessionUpdate: "current_mode_update", currentModeId: "code" }),
      ev.raw({ sessionUpdate: "tool_call_update", toolCallId: "t", content: "garbage", locations: [null, { path: 4 }] }),
      ev.block({ type: "resource_link", uri: "file:///a.txt", name: "a.txt" }),
      ev.block({ type: "image", data: "…", mimeType: "image/png" }),
      ev.block(undefined),
      { kind: "from_the_future", x: 1 } as unknown as ChatEventBody,
      null as unknown as ChatEventBody,
    ]);
    expect(state.items.map((item) => (item.type === "unsupported" ? `unsupported:${item.label}` : item.type))).toEqual([
      "unsupported:teleport",
      "unsupported:string",
      "unsupported:null",
      "unsupported:update without a kind",
      "tool",
      "block",
      "block",
      "block",
      "unsupported:event from_the_future",
      "unsupported:event object",
    ]);
    expect(state.items[4]).toMatchObject({ call: { toolCallId: "t", locations: [], content: [] } });
    expect(state.items[5]).toMatchObject({ role: "agent", blockType: "resource_link", uri: "file:///a.txt" });
    expect(state.items[6]).toMatchObject({ blockType: "image", uri: null });
    expect(state.lastSeq).toBe(12);
  });

  it("ignores duplicates and returns the same state when nothing is new", () => {
    const events = makeEvents([ev.prompt(1, "x"), ev.text("a"), ev.text("b")]);
    const state = applyEvents(createChatState(), events);
    expect(applyEvents(state, events)).toBe(state);
    expect(applyEvents(state, [])).toBe(state);
    const again = applyEvents(state, [...events, ...makeEvents([ev.text("c")], 4)]);
    expect(summary(again.items)).toEqual(["user:x", "agent:abc"]);
  });

  it("does not mutate the state it was given", () => {
    const state = applyEvents(createChatState(), makeEvents([ev.prompt(1, "x"), ev.text("a"), ev.tool({ toolCallId: "t", title: "T" })]));
    const itemsBefore = state.items;
    const firstItem = state.items[1];
    const snapshot = JSON.stringify(state.items);
    const next = applyEvents(state, makeEvents([ev.toolUpdate({ toolCallId: "t", status: "completed" }), ev.text("b")], 4));
    expect(state.items).toBe(itemsBefore);
    expect(JSON.stringify(state.items)).toBe(snapshot);
    expect(state.toolIndex.size).toBe(1);
    // Untouched items keep their identity, so memoised rows skip re-rendering.
    expect(next.items[1]).toBe(firstItem);
    expect(next.items[2]).not.toBe(state.items[2]);
  });

  it("reports a gap and stops there; the missing events fill it", () => {
    const events = makeEvents([ev.prompt(1, "x"), ev.text("a"), ev.text("b"), ev.text("c"), ev.text("d")]);
    let state = applyEvents(createChatState(), events.slice(0, 2));
    state = applyEvents(state, [events[3]!, events[4]!]);
    expect(state.gapAfter).toBe(2);
    expect(state.lastSeq).toBe(2);
    expect(summary(state.items)).toEqual(["user:x", "agent:a"]);
    state = applyEvents(state, events.slice(2));
    expect(state.gapAfter).toBeNull();
    expect(summary(state.items)).toEqual(["user:x", "agent:abcd"]);
  });

  it("sorts a batch that arrives out of order", () => {
    const events = makeEvents([ev.prompt(1, "x"), ev.text("a"), ev.text("b")]);
    const state = applyEvents(createChatState(), [events[2]!, events[0]!, events[1]!]);
    expect(summary(state.items)).toEqual(["user:x", "agent:ab"]);
    expect(state.gapAfter).toBeNull();
  });

  it("finds the item that shows a given seq", () => {
    const state = run([ev.prompt(1, "x"), ev.text("a"), ev.text("b"), ev.tool({ toolCallId: "t" }), ev.text("c")]);
    expect([1, 2, 3, 4, 5, 99].map((seq) => indexOfSeq(state.items, seq))).toEqual([0, 1, 1, 2, 3, 3]);
    expect(indexOfSeq(state.items, 0)).toBe(-1);
    expect(indexOfSeq([], 3)).toBe(-1);
  });
});

describe("applyEvents at scale", () => {
  const events = longSession(10_000);

  it("applies 10,000 events well under 50 ms", () => {
    applyEvents(createChatState(), events); // warm up the JIT
    // CPU time, not wall time: on a shared machine the process may wait for a core. The best of
    // seven runs, against a generous bound (about 7 ms on an idle core).
    const node = (globalThis as { process?: { cpuUsage(): { user: number; system: number } } }).process;
    const cpuMs = () => {
      if (!node) return performance.now();
      const { user, system } = node.cpuUsage();
      return (user + system) / 1000;
    };
    let best = Infinity;
    for (let i = 0; i < 7; i++) {
      const start = cpuMs();
      const state = applyEvents(createChatState(), events);
      best = Math.min(best, cpuMs() - start);
      expect(state.lastSeq).toBe(10_000);
    }
    expect(best).toBeLessThan(50);
  });

  it("gives the same result one event at a time, in uneven batches, or all at once", () => {
    const atOnce = applyEvents(createChatState(), events);
    let oneByOne = createChatState();
    for (const event of events) oneByOne = applyEvents(oneByOne, [event]);
    expect(oneByOne).toEqual(atOnce);

    let batched = createChatState();
    for (let i = 0; i < events.length; ) {
      const size = 1 + ((i * 7) % 13);
      // Overlapping batches: duplicates must not change anything.
      batched = applyEvents(batched, events.slice(Math.max(0, i - 2), i + size));
      i += size;
    }
    expect(batched).toEqual(atOnce);
    expect(atOnce.items.length).toBeGreaterThan(1000);
  });
});
