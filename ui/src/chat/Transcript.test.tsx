import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { applyEvents, createChatState, type ChatState } from "./reducer";
import { ev, longSession, makeEvents } from "./testing/events";
import { installFakeLayout } from "./testing/layout";
import { Transcript, type TranscriptActions } from "./Transcript";
import type { ChatEventBody } from "./types";

const VIEWPORT = 600;
const ROW = 60;
let undoLayout: () => void;

beforeEach(() => {
  undoLayout = installFakeLayout({ viewport: VIEWPORT, rowHeight: ROW });
});
afterEach(() => {
  undoLayout();
});

function fakeActions(): { [K in keyof TranscriptActions]: ReturnType<typeof vi.fn> } & TranscriptActions {
  return {
    openLocation: vi.fn(),
    openLink: vi.fn(),
    answer: vi.fn().mockResolvedValue(undefined),
    restart: vi.fn().mockResolvedValue(undefined),
    retry: vi.fn(),
    fork: vi.fn(),
  } as never;
}

function stateOf(bodies: ChatEventBody[]): ChatState {
  return applyEvents(createChatState(), makeEvents(bodies));
}

function setup(state: ChatState, props: { canRetry?: boolean; focusSeq?: number | null; onFocused?: () => void } = {}) {
  const actions = fakeActions();
  const user = userEvent.setup();
  const view = render(<Transcript state={state} actions={actions} canRetry={props.canRetry ?? true} canFork focusSeq={props.focusSeq} onFocused={props.onFocused} />);
  const rerender = (next: ChatState) =>
    view.rerender(<Transcript state={next} actions={actions} canRetry={props.canRetry ?? true} canFork focusSeq={props.focusSeq} onFocused={props.onFocused} />);
  return { user, actions, rerender, scroller: screen.getByTestId("chat-transcript") };
}

/** Scrolled all the way down (unmeasured rows count at their estimate, as in a browser). */
const atBottom = (scroller: HTMLElement) => scroller.scrollTop === scroller.scrollHeight - VIEWPORT;

const renderedSeqs = () => screen.queryAllByTestId("chat-item").map((item) => Number(item.dataset.seq));

describe("Transcript", () => {
  it("renders a session that arrives after it opened at its newest rows, never its first ones", () => {
    const rendered: number[][] = [];
    const { rerender } = setup(createChatState());
    const state = applyEvents(createChatState(), longSession(2_000));
    const observer = new MutationObserver(() => rendered.push(renderedSeqs()));
    observer.observe(screen.getByTestId("chat-transcript"), { childList: true, subtree: true });
    act(() => rerender(state));
    observer.disconnect();
    rendered.push(renderedSeqs());
    // Every DOM state on the way: no row from the start of the session was ever built.
    const first = state.items.slice(0, 20).map((item) => item.seq);
    expect(rendered.flat().some((seq) => first.includes(seq))).toBe(false);
    expect(renderedSeqs()).toContain(state.items.at(-1)!.seq);
  });

  it("keeps only the rows on screen in the DOM, even for 10,000 events, and starts at the bottom", async () => {
    const state = applyEvents(createChatState(), longSession(10_000));
    expect(state.items.length).toBeGreaterThan(1000);
    const { scroller } = setup(state);
    await waitFor(() => expect(renderedSeqs()).toContain(state.items.at(-1)!.seq));
    const rows = screen.getAllByTestId("chat-item");
    expect(rows.length).toBeLessThan(40);
    expect(atBottom(scroller)).toBe(true);
    expect(scroller.scrollTop).toBeGreaterThan(state.items.length * ROW - VIEWPORT - 1);
    expect(renderedSeqs()).not.toContain(state.items[0]!.seq);
  });

  it("follows new items at the bottom; once scrolled up it stays put and offers a jump to the latest", async () => {
    const bodies: ChatEventBody[] = [ev.prompt(1, "go")];
    for (let i = 0; i < 30; i++) bodies.push(ev.tool({ toolCallId: `t${i}`, title: `Step ${i}` }));
    let state = stateOf(bodies);
    const { user, scroller, rerender } = setup(state);
    await waitFor(() => expect(atBottom(scroller)).toBe(true));
    expect(screen.queryByRole("button", { name: "Jump to latest ↓" })).not.toBeInTheDocument();

    state = applyEvents(state, makeEvents([ev.text("new at the bottom")], 32));
    rerender(state);
    await waitFor(() => expect(screen.getByText("new at the bottom")).toBeInTheDocument());
    expect(atBottom(scroller)).toBe(true);

    // The reader scrolls up.
    act(() => {
      scroller.scrollTop = 200;
    });
    await waitFor(() => expect(screen.getByRole("button", { name: "Jump to latest ↓" })).toBeInTheDocument());
    state = applyEvents(state, makeEvents([ev.tool({ toolCallId: "late", title: "Late" })], 33));
    rerender(state);
    await act(async () => {});
    expect(scroller.scrollTop).toBe(200);

    await user.click(screen.getByRole("button", { name: "Jump to latest ↓" }));
    await waitFor(() => expect(screen.getByText("Late")).toBeInTheDocument());
    expect(atBottom(scroller)).toBe(true);
    expect(screen.queryByRole("button", { name: "Jump to latest ↓" })).not.toBeInTheDocument();
  });

  it("scrolls to a searched-for event and marks it", async () => {
    const bodies: ChatEventBody[] = [ev.prompt(1, "go")];
    for (let i = 0; i < 60; i++) bodies.push(ev.tool({ toolCallId: `t${i}`, title: `Step ${i}` }));
    const onFocused = vi.fn();
    setup(stateOf(bodies), { focusSeq: 12, onFocused });
    await waitFor(() => expect(onFocused).toHaveBeenCalled());
    await waitFor(() => expect(renderedSeqs()).toContain(12));
    const row = screen.getAllByTestId("chat-item").find((item) => item.dataset.seq === "12")!;
    expect(row.parentElement).toHaveClass("chat-transcript__row--focus");
    expect(within(row).getByText("Step 10")).toBeInTheDocument();
  });

  it("offers Retry on prompts, Fork everywhere and Copy on text", async () => {
    const { user, actions } = setup(stateOf([ev.prompt(1, "do the thing"), ev.text("Done "), ev.text("it."), ev.turnEnded(1)]));
    const [prompt, reply, end] = screen.getAllByTestId("chat-item");
    await user.click(within(prompt!).getByRole("button", { name: "Retry this prompt" }));
    expect(actions.retry).toHaveBeenCalledWith("do the thing");
    await user.click(within(reply!).getByRole("button", { name: "Fork from here" }));
    // A merged message forks after its last chunk.
    expect(actions.fork).toHaveBeenCalledWith(3);
    await user.click(within(end!).getByRole("button", { name: "Fork from here" }));
    expect(actions.fork).toHaveBeenLastCalledWith(4);
    expect(within(reply!).queryByRole("button", { name: "Retry this prompt" })).not.toBeInTheDocument();
    await user.click(within(reply!).getByRole("button", { name: "Copy text" }));
    expect(await navigator.clipboard.readText()).toBe("Done it.");
    expect(within(reply!).getByRole("button", { name: "Copied" })).toBeInTheDocument();
  });

  it("disables Retry while a turn runs", () => {
    setup(stateOf([ev.prompt(1, "x")]), { canRetry: false });
    expect(screen.getByRole("button", { name: "Retry this prompt" })).toBeDisabled();
  });

  it("renders every kind of item", async () => {
    const { user, actions } = setup(
      stateOf([
        ev.started("codex", "Codex", "0.9"),
        ev.prompt(1, "plan it"),
        ev.thought("secret reasoning"),
        ev.plan([{ content: "Look", status: "completed" }, { content: "Fix", status: "in_progress", priority: "high" }]),
        ev.block({ type: "resource_link", uri: "file:///repo/notes.md", name: "notes" }),
        ev.tool({ toolCallId: "t1", title: "Open", kind: "read", locations: [{ path: "a.ts", line: 2 }] }),
        ev.noise("npm WARN deprecated"),
        ev.raw({ sessionUpdate: "mystery_update" }),
        ev.turnEnded(1, "max_tokens"),
        ev.exited(1, "panic: boom\n"),
      ]),
    );
    expect(screen.getByText("Codex 0.9 started")).toBeInTheDocument();
    // Thoughts are collapsed, their text not rendered.
    expect(screen.queryByText("secret reasoning")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Thought" }));
    expect(screen.getByText("secret reasoning")).toBeInTheDocument();
    const plan = screen.getByTestId("chat-plan");
    expect(within(plan).getAllByRole("listitem").map((entry) => entry.dataset.status)).toEqual(["completed", "in_progress"]);
    expect(plan).toHaveTextContent("1 of 2 done");
    expect(screen.getByTestId("chat-block")).toHaveTextContent("[resource link]file:///repo/notes.md");
    await user.click(screen.getByRole("button", { name: "Open a.ts:2" }));
    expect(actions.openLocation).toHaveBeenCalledWith("a.ts", 2);
    expect(screen.getByTestId("chat-noise")).toHaveTextContent("The agent printed a line outside the protocol");
    expect(screen.queryByText("npm WARN deprecated")).not.toBeInTheDocument();
    expect(screen.getByText("Unsupported update (mystery_update)")).toBeInTheDocument();
    expect(screen.getByTestId("chat-turn-end")).toHaveTextContent("Stopped: the agent reached its token limit");
    const exit = screen.getByTestId("chat-exit");
    expect(exit).toHaveTextContent("The agent exited with code 1.");
    expect(within(exit).queryByText(/panic: boom/)).not.toBeInTheDocument();
    await user.click(within(exit).getByRole("button", { name: "Show its last output" }));
    expect(within(exit).getByText(/panic: boom/)).toBeInTheDocument();
    await user.click(within(exit).getByRole("button", { name: "Restart with history" }));
    expect(actions.restart).toHaveBeenCalledOnce();
  });

  it("offers a restart only for the latest exit, while the agent is down", () => {
    setup(stateOf([ev.exited(1, ""), ev.started(), ev.exited(null, "")]));
    const exits = screen.getAllByTestId("chat-exit");
    expect(exits).toHaveLength(2);
    expect(within(exits[0]!).queryByRole("button", { name: "Restart with history" })).not.toBeInTheDocument();
    expect(within(exits[1]!).getByRole("button", { name: "Restart with history" })).toBeInTheDocument();
    expect(exits[1]).toHaveTextContent("killed by a signal");
  });

  it("answers a permission request through the actions", async () => {
    const { user, actions } = setup(stateOf([ev.prompt(1, "x"), ev.permission(3, { toolCallId: "t", title: "rm -rf build" })]));
    await user.click(screen.getByRole("button", { name: "Allow once" }));
    expect(actions.answer).toHaveBeenCalledWith(3, "allow");
  });

  it("keeps a row's opened parts open when it scrolls away and back", async () => {
    const bodies: ChatEventBody[] = [ev.prompt(1, "go"), ev.thought("first thought")];
    for (let i = 0; i < 60; i++) bodies.push(ev.tool({ toolCallId: `t${i}`, title: `Step ${i}` }));
    const { user, scroller } = setup(stateOf(bodies));
    act(() => {
      scroller.scrollTop = 0;
    });
    await waitFor(() => expect(renderedSeqs()).toContain(2));
    await user.click(screen.getByRole("button", { name: "Thought" }));
    act(() => {
      scroller.scrollTop = 100_000;
    });
    await waitFor(() => expect(renderedSeqs()).not.toContain(2));
    act(() => {
      scroller.scrollTop = 0;
    });
    await waitFor(() => expect(renderedSeqs()).toContain(2));
    expect(screen.getByText("first thought")).toBeInTheDocument();
  });
});
