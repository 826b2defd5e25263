import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createQueryClient } from "../shared/queries";
import { ChatView, type ChatViewProps } from "./ChatView";
import { resetChatStore, useChatStore } from "./store";
import { ev } from "./testing/events";
import { createFakeChatApi, type FakeChatApi, type FakeChatApiOptions } from "./testing/fakeChatApi";
import { installFakeLayout } from "./testing/layout";

let undoLayout: () => void;

beforeEach(() => {
  resetChatStore();
  undoLayout = installFakeLayout();
});
afterEach(() => {
  undoLayout();
});

const WORKSPACES = [
  { id: "w-api", name: "api" },
  { id: "w-old", name: "old-site", gone: true },
];

function setup(options: FakeChatApiOptions = {}, props: Omit<ChatViewProps, "api"> = { workspaceId: "w-api" }) {
  const api = createFakeChatApi({ workspaces: WORKSPACES, ...options });
  const user = userEvent.setup();
  const onSessionChange = vi.fn();
  const view = render(
    <QueryClientProvider client={createQueryClient()}>
      <ChatView api={api} onSessionChange={onSessionChange} {...props} />
    </QueryClientProvider>,
  );
  return { api, user, onSessionChange, ...view };
}

const composer = () => screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
const sendButton = () => within(screen.getByTestId("chat-composer")).getByRole("button", { name: /Send/ });
const items = () => screen.queryAllByTestId("chat-item");
const openId = () => useChatStore.getState().openSessionId;

async function openSession(user: ReturnType<typeof userEvent.setup>, title: string) {
  await user.click(await screen.findByRole("button", { name: new RegExp(title) }));
}

const READY_SESSION = {
  id: "s-1",
  workspace_id: "w-api",
  title: "Fix the build",
  agent: "claude-code",
  events: [ev.started(), ev.prompt(1, "Why does the build fail?"), ev.text("Because of **this**."), ev.turnEnded(1)],
};

describe("ChatView without a core", () => {
  it("keeps its introduction and a disabled composer", () => {
    render(<ChatView />);
    expect(screen.getByTestId("main-empty")).toHaveTextContent("Pick or create a workspace");
    expect(screen.getByRole("textbox", { name: "Message" })).toBeDisabled();
  });
});

describe("ChatView", () => {
  it("lists the workspace's chats with their state, and opens one", async () => {
    const { api, user } = setup({
      sessions: [
        READY_SESSION,
        { id: "s-2", workspace_id: "w-api", title: "Add tests", state: "working", created_at_ms: 2, events: [ev.started(), ev.prompt(1, "tests")] },
        { id: "s-3", workspace_id: "w-other", title: "Elsewhere" },
      ],
    });
    const list = await screen.findByRole("navigation", { name: "Chats" });
    await waitFor(() => expect(within(list).getAllByTestId("chat-session")).toHaveLength(2));
    const rows = within(list).getAllByTestId("chat-session");
    expect(rows.map((row) => row.textContent)).toEqual(expect.arrayContaining([expect.stringContaining("Fix the build"), expect.stringContaining("Add tests")]));
    expect(within(rows.find((row) => row.dataset.id === "s-2")!).getByTestId("chat-state-badge")).toHaveTextContent("Working");
    await waitFor(() => expect(rows[0]).toHaveTextContent("Claude Code"));
    expect(api.calls.find((call) => call.method === "sessions")?.args).toEqual(["w-api"]);

    await openSession(user, "Fix the build");
    expect(await screen.findByText("this")).toBeInTheDocument();
    expect(screen.getByText("Why does the build fail?")).toBeInTheDocument();
    expect(screen.getByTestId("chat-session-title")).toHaveTextContent("Fix the build");
    expect(within(screen.getByTestId("chat-session-header")).getByTestId("chat-state-badge")).toHaveTextContent("Ready");
    expect(within(list).getByRole("button", { name: /Fix the build/ })).toHaveAttribute("aria-current", "page");
  });

  it("starts a new chat with the chosen agent, and streams the reply in", async () => {
    const { api, user, onSessionChange } = setup();
    const picker = await screen.findByRole("combobox", { name: "Agent" });
    await waitFor(() => expect(within(picker).getAllByRole("option")).toHaveLength(3));
    expect(within(picker).getByRole("option", { name: "Gemini CLI — add a Google AI key" })).toBeDisabled();
    await user.selectOptions(picker, "codex");
    await user.type(composer(), "Rename the crate{Enter}");

    await waitFor(() => expect(openId()).toMatch(/^s-new-/));
    const id = openId()!;
    expect(api.calls.find((call) => call.method === "send")?.args).toEqual([{ workspaceId: "w-api", sessionId: null, agent: "codex", text: "Rename the crate" }]);
    expect(onSessionChange).toHaveBeenCalledWith(id);
    expect(composer().value).toBe("");
    await within(await screen.findByTestId("chat-transcript")).findByText("Rename the crate");
    expect(screen.getByTestId("chat-working")).toBeInTheDocument();

    act(() => {
      api.emit(id, [ev.text("Renaming "), ev.text("now…")]);
    });
    expect(await screen.findByText("Renaming now…")).toBeInTheDocument();
    act(() => {
      api.emit(id, [ev.text(" Done."), ev.turnEnded(1)]);
    });
    expect(await screen.findByText("Renaming now… Done.")).toBeInTheDocument();
    await waitFor(() => expect(screen.queryByTestId("chat-working")).not.toBeInTheDocument());
    expect(screen.getByTestId("chat-turn-end")).toHaveTextContent("Done");
    // One message, not three.
    expect(items().filter((item) => item.dataset.type === "agent")).toHaveLength(1);
  });

  it("blocks sending while the agent works, and Cancel ends the turn", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    await user.type(composer(), "And now?{Enter}");
    await screen.findByTestId("chat-working");
    expect(api.calls.filter((call) => call.method === "send").at(-1)?.args).toEqual([{ workspaceId: "w-api", sessionId: "s-1", agent: null, text: "And now?" }]);

    await user.type(composer(), "one more");
    expect(sendButton()).toBeDisabled();
    expect(screen.getByTestId("chat-composer-note")).toHaveTextContent("The agent is working — cancel or wait");
    expect(within(screen.getByTestId("chat-session-header")).getByTestId("chat-state-badge")).toHaveTextContent("Working");

    await user.click(within(screen.getByTestId("chat-working")).getByRole("button", { name: "Cancel" }));
    expect(api.calls.some((call) => call.method === "cancel" && call.args[0] === "s-1")).toBe(true);
    await waitFor(() => expect(screen.queryByTestId("chat-working")).not.toBeInTheDocument());
    expect(screen.getAllByTestId("chat-turn-end").at(-1)).toHaveTextContent("Cancelled");
    expect(sendButton()).toBeEnabled();
    expect(composer().value).toBe("one more");
  });

  it("gives the text back when sending fails", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    vi.spyOn(api, "send").mockRejectedValueOnce(new Error("The agent is not installed"));
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    await user.type(composer(), "try this{Enter}");
    expect(await screen.findByTestId("chat-composer-error")).toHaveTextContent("Could not send: The agent is not installed");
    expect(composer().value).toBe("try this");
  });

  it("recalls this session's prompts with ArrowUp", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    await user.type(composer(), "first prompt{Enter}");
    await screen.findByTestId("chat-working");
    act(() => {
      api.emit("s-1", ev.turnEnded(2));
    });
    await waitFor(() => expect(screen.queryByTestId("chat-working")).not.toBeInTheDocument());
    await user.click(composer());
    await user.keyboard("{ArrowUp}");
    expect(composer().value).toBe("first prompt");
  });

  it("retries a prompt by sending its text again", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    await user.click(screen.getByRole("button", { name: "Retry this prompt" }));
    await waitFor(() =>
      expect(api.calls.filter((call) => call.method === "send").at(-1)?.args).toEqual([
        { workspaceId: "w-api", sessionId: "s-1", agent: null, text: "Why does the build fail?" },
      ]),
    );
    await screen.findByTestId("chat-working");
    expect(screen.getAllByText("Why does the build fail?")).toHaveLength(2);
  });

  it("forks from an item and opens the fork", async () => {
    const { api, user, onSessionChange } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    const reply = (await screen.findByText("this")).closest("article")!;
    await user.click(within(reply as HTMLElement).getByRole("button", { name: "Fork from here" }));
    await waitFor(() => expect(openId()).toMatch(/^s-fork-/));
    expect(api.calls.find((call) => call.method === "fork")?.args).toEqual(["s-1", 3]);
    expect(onSessionChange).toHaveBeenLastCalledWith(openId());
    await waitFor(() => expect(screen.getByTestId("chat-session-title")).toHaveTextContent("Fix the build (fork)"));
    // The fork holds everything up to the reply, not the turn's end.
    await waitFor(() => expect(items().map((item) => item.dataset.type)).toEqual(["started", "user", "agent"]));
  });

  it("answers a permission request and shows who answered", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    await user.type(composer(), "clean up{Enter}");
    await screen.findByTestId("chat-working");
    act(() => {
      api.emit("s-1", ev.permission(1, { toolCallId: "t1", title: "rm -rf target", kind: "delete" }));
    });
    const prompt = await screen.findByTestId("chat-permission");
    expect(screen.getByTestId("chat-waiting")).toHaveTextContent("The agent is waiting for your answer.");
    await waitFor(() => expect(within(screen.getByTestId("chat-session-header")).getByTestId("chat-state-badge")).toHaveTextContent("Needs you"));
    await user.click(within(prompt).getByRole("button", { name: "Allow once" }));
    expect(api.calls.find((call) => call.method === "answerPermission")?.args).toEqual(["s-1", 1, "allow"]);
    expect(await screen.findByTestId("chat-permission-resolution")).toHaveTextContent("Allowed once · answered in SAM Desktop");
    expect(screen.queryByTestId("chat-waiting")).not.toBeInTheDocument();
  });

  it("shows usage, the agent's title and a silent agent", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    act(() => {
      api.emit("s-1", [ev.usage(12_300, 200_000, { amount: 0.42, currency: "USD" }), ev.info({ title: "Build repaired" }), ev.prompt(2, "x"), ev.silent(300_000)]);
    });
    expect(await screen.findByTestId("chat-usage")).toHaveTextContent("12k / 200k tokens · $0.42");
    expect(screen.getByTestId("chat-session-title")).toHaveTextContent("Build repaired");
    expect(await screen.findByTestId("chat-working-silent")).toHaveTextContent("Silent for 5 min");
  });

  it("restarts an agent that exited", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    act(() => {
      api.emit("s-1", ev.exited(101, "thread 'main' panicked"));
    });
    const exit = await screen.findByTestId("chat-exit");
    await user.click(within(exit).getByRole("button", { name: "Restart with history" }));
    expect(api.calls.find((call) => call.method === "restart")?.args).toEqual(["s-1"]);
    await waitFor(() => expect(within(screen.getByTestId("chat-exit")).queryByRole("button", { name: "Restart with history" })).not.toBeInTheDocument());
  });

  it("opens locations in the chat's workspace", async () => {
    const { api, user } = setup({
      sessions: [{ ...READY_SESSION, events: [...READY_SESSION.events, ev.tool({ toolCallId: "t", title: "Read", kind: "read", locations: [{ path: "src/lib.rs", line: 7 }] })] }],
    });
    await openSession(user, "Fix the build");
    await user.click(await screen.findByRole("button", { name: "Open src/lib.rs:7" }));
    expect(api.calls.find((call) => call.method === "openLocation")?.args).toEqual(["w-api", "src/lib.rs", 7]);
  });

  it("keeps a deleted workspace's chat readable but not continuable", async () => {
    const { user } = setup({ sessions: [{ ...READY_SESSION, workspace_id: "w-old" }] }, { workspaceId: null });
    await openSession(user, "Fix the build");
    expect(await screen.findByTestId("chat-workspace-gone")).toHaveTextContent("Workspace deleted — history kept");
    await screen.findByText("this");
    await user.type(composer(), "hello");
    expect(sendButton()).toBeDisabled();
    expect(screen.getByTestId("chat-composer-note")).toHaveTextContent("The workspace was deleted");
    // Listing every workspace's chats groups them by workspace.
    expect(screen.getByRole("navigation", { name: "Chats" })).toHaveTextContent("old-site");
  });

  it("continues a deleted workspace's chat in another workspace with its whole history", async () => {
    const { api, user } = setup({ sessions: [{ ...READY_SESSION, workspace_id: "w-old" }] }, { workspaceId: null });
    await openSession(user, "Fix the build");
    await screen.findByText("this");
    expect(screen.getByTestId("chat-continue-target")).toHaveTextContent("api");
    await user.click(screen.getByTestId("chat-continue"));
    const lastSeq = READY_SESSION.events.length;
    await waitFor(() => expect(api.calls.find((call) => call.method === "fork")?.args).toEqual(["s-1", lastSeq, "w-api"]));
    // The continuation is open, in the workspace that exists, so it can be sent to.
    await waitFor(() => expect(screen.queryByTestId("chat-workspace-gone")).not.toBeInTheDocument());
    await user.type(composer(), "go on");
    expect(sendButton()).toBeEnabled();
  });

  it("searches every chat and opens a result at its event", async () => {
    const { api, user } = setup({
      sessions: [READY_SESSION, { id: "s-9", workspace_id: "w-api", title: "Deploy", events: [ev.prompt(1, "ship it"), ev.text("Deploying the needle app")] }],
    });
    await user.type(screen.getByRole("searchbox", { name: "Search chats" }), "needle");
    const results = await screen.findByRole("list", { name: "Search results" });
    expect(api.calls.find((call) => call.method === "search")?.args).toEqual(["needle"]);
    const hit = within(results).getByRole("button", { name: /Deploy/ });
    expect(hit).toHaveTextContent("Deploying the needle app");
    await user.click(hit);
    await waitFor(() => expect(openId()).toBe("s-9"));
    const reply = (await screen.findByText("Deploying the needle app")).closest("[data-index]");
    await waitFor(() => expect(reply).toHaveClass("chat-transcript__row--focus"));
    expect(screen.queryByRole("list", { name: "Search results" })).not.toBeInTheDocument();
  });

  it("lets voice input (or anything else) fill the composer through the store", async () => {
    setup();
    await screen.findByRole("combobox", { name: "Agent" });
    act(() => useChatStore.getState().setActiveDraft("spoken words"));
    expect(composer().value).toBe("spoken words");
  });

  it("opens the session it is given", async () => {
    setup({ sessions: [READY_SESSION] }, { workspaceId: "w-api", sessionId: "s-1" });
    expect(await screen.findByText("this")).toBeInTheDocument();
  });

  it("shows a load failure with a way to try again", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    const events = vi.spyOn(api, "events").mockRejectedValueOnce(new Error("database is locked"));
    await openSession(user, "Fix the build");
    expect(await screen.findByText("database is locked")).toBeInTheDocument();
    events.mockRestore();
    await user.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("this")).toBeInTheDocument();
  });
});

describe("ChatView's changes panel", () => {
  it("opens beside the chat with the chat's workspace's changes, and closes", async () => {
    const { api, user } = setup({ sessions: [READY_SESSION] });
    const changes = {
      changes: vi.fn(async () => ({
        base: "abc",
        insertions: 1,
        deletions: 0,
        truncated: false,
        files: [{ path: "src/a.rs", oldPath: null, status: "modified" as const, insertions: 1, deletions: 0, binary: false }],
      })),
      fileDiff: vi.fn(async () => ({ path: "src/a.rs", binary: false, truncated: false, diff: "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,0 +1,1 @@\n+fn main() {}\n" })),
      ship: vi.fn(),
      turnChanges: vi.fn(async () => ({ prompt: 1, files: [], insertions: 0, deletions: 0, truncated: false })),
      revertTurn: vi.fn(),
    };
    api.changes = changes;
    await openSession(user, "Fix the build");
    await user.click(await screen.findByTestId("chat-changes-toggle"));
    const panel = await screen.findByTestId("changes-panel");
    expect(changes.changes).toHaveBeenCalledWith("w-api");
    expect(await within(panel).findByTestId("changes-summary")).toHaveTextContent("1 file · +1 −0");
    // The open chat's finished turns are offered as a filter.
    expect(within(panel).getByLabelText("Turn")).toHaveTextContent("Turn 1");
    await user.selectOptions(within(panel).getByLabelText("Turn"), "1");
    await waitFor(() => expect(changes.turnChanges).toHaveBeenCalledWith("w-api", READY_SESSION.id, 1));
    await user.click(screen.getByTestId("chat-changes-toggle"));
    expect(screen.queryByTestId("changes-panel")).not.toBeInTheDocument();
  });

  it("is not offered without a core that computes changes", async () => {
    const { user } = setup({ sessions: [READY_SESSION] });
    await openSession(user, "Fix the build");
    expect(screen.queryByTestId("chat-changes-toggle")).not.toBeInTheDocument();
  });
});
