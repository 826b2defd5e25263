import { QueryClientProvider } from "@tanstack/react-query";
import { act, render, renderHook, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { useChatStore } from "../../chat/store";
import * as ipc from "../../shared/ipc";
import { createQueryClient } from "../../shared/queries";
import { useUiStore } from "../../shared/store";
import { workspace } from "../../test/fakeWorkspaces";
import { formatAge, useAttentionPoll, useAttentionStore, type AttentionSnapshot, type QueueItem } from "./attention";
import { NeedsYouView } from "./NeedsYouView";

vi.mock("../../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../shared/ipc")>();
  return { ...actual, listWorkspaces: vi.fn(), chatAnswer: vi.fn(), attentionSetDnd: vi.fn(), attentionWait: vi.fn() };
});
const mocked = vi.mocked(ipc);

function item(sessionId: string, request: number, title: string, ageMs: number, workspaceId = "w1"): QueueItem {
  return {
    ageMs,
    request: {
      sessionId,
      workspaceId,
      request,
      seq: 10 + request,
      title,
      requestedAtMs: Date.now() - ageMs,
      options: [
        { optionId: `allow-${request}`, name: "Allow once", kind: "allow_once" },
        { optionId: `always-${request}`, name: "Always allow", kind: "allow_always" },
        { optionId: `reject-${request}`, name: "Reject", kind: "reject_once" },
      ],
    },
  };
}

function snapshot(items: QueueItem[], extra: Partial<AttentionSnapshot> = {}): AttentionSnapshot {
  return { revision: 1, items, doNotDisturb: false, open: null, ...extra };
}

function renderView() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <NeedsYouView />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.listWorkspaces.mockResolvedValue([
    workspace({ id: "w1", spec: { name: "billing-api" } }),
    workspace({ id: "w2", spec: { name: "gpu-box", provider: "hetzner" } }),
  ]);
  mocked.chatAnswer.mockResolvedValue(undefined);
  mocked.attentionSetDnd.mockResolvedValue(undefined);
  useAttentionStore.setState({ snapshot: null, receivedAt: 0 });
  useUiStore.setState({ view: "needs-you", workspaceId: null, newWorkspaceOpen: false, addCredentialKind: null });
  useChatStore.setState({ openSessionId: null, focus: null });
});

describe("the needs-you queue", () => {
  it("lists every open request oldest first with its workspace and age, and answers one with the agent's option", async () => {
    useAttentionStore.getState().setSnapshot(
      snapshot([item("s1", 1, "Write e2e.txt", 12 * 60_000), item("s2", 3, "Run cargo test", 5_000, "w2")]),
    );
    const { user } = renderView();
    const rows = await screen.findAllByTestId("needs-you-item");
    expect(rows).toHaveLength(2);
    await waitFor(() => expect(rows[0]).toHaveTextContent("billing-api · asked 12 min ago"));
    expect(rows[0]).toHaveTextContent("Write e2e.txt");
    expect(rows[1]).toHaveTextContent("gpu-box · asked just now");

    await user.click(within(rows[1]!).getByRole("button", { name: "Reject" }));
    expect(mocked.chatAnswer).toHaveBeenCalledWith("s2", 3, "reject-3");
  });

  it("says why an answer failed and lets the user try again", async () => {
    mocked.chatAnswer.mockRejectedValueOnce(new ipc.IpcError("unavailable", "The workspace host is not reachable."));
    useAttentionStore.getState().setSnapshot(snapshot([item("s1", 1, "Write e2e.txt", 0)]));
    const { user } = renderView();
    const row = await screen.findByTestId("needs-you-item");
    await user.click(within(row).getByRole("button", { name: "Allow once" }));
    expect(await within(row).findByRole("alert")).toHaveTextContent("The workspace host is not reachable.");
    expect(within(row).getByRole("button", { name: "Allow once" })).toBeEnabled();
  });

  it("opens the request's chat at its event", async () => {
    useAttentionStore.getState().setSnapshot(snapshot([item("s1", 2, "Edit main.rs", 0)]));
    const { user } = renderView();
    await user.click(await screen.findByRole("button", { name: "Open chat" }));
    expect(useUiStore.getState().view).toBe("chat");
    expect(useChatStore.getState().openSessionId).toBe("s1");
    expect(useChatStore.getState().focus).toMatchObject({ sessionId: "s1", seq: 12 });
  });

  it("shows an empty state, and turns do-not-disturb on", async () => {
    useAttentionStore.getState().setSnapshot(snapshot([]));
    const { user } = renderView();
    expect(await screen.findByTestId("needs-you-empty")).toHaveTextContent("Nothing waits for you");
    await user.click(screen.getByTestId("dnd-toggle"));
    expect(mocked.attentionSetDnd).toHaveBeenCalledWith(true);
  });
});

describe("the attention poll", () => {
  it("follows a notification click that arrives after the first snapshot, once per token", async () => {
    const answers = [
      snapshot([], { revision: 1, open: { token: 1, target: { kind: "queue" }, action: "open" } }),
      snapshot([], { revision: 2, open: { token: 2, target: { kind: "workspace", workspaceId: "w2" }, action: "open" } }),
      snapshot([], { revision: 3, open: { token: 2, target: { kind: "workspace", workspaceId: "w2" }, action: "open" } }),
    ];
    const seen: number[] = [];
    const wait = vi.fn(async (after: number) => {
      seen.push(after);
      const next = answers.shift();
      if (next) return next;
      return new Promise<AttentionSnapshot>(() => undefined);
    });
    useUiStore.setState({ view: "settings" });
    const { unmount } = renderHook(() => useAttentionPoll(wait));
    await waitFor(() => expect(wait).toHaveBeenCalledTimes(4));
    // The token from before the page loaded is not followed; the next one is, once.
    expect(useUiStore.getState()).toMatchObject({ view: "workspace", workspaceId: "w2" });
    expect(seen).toEqual([0, 1, 2, 3]);
    act(() => useUiStore.setState({ view: "settings" }));
    unmount();
    expect(useUiStore.getState().view).toBe("settings");
  });

  it("words ages", () => {
    expect(formatAge(5_000)).toBe("just now");
    expect(formatAge(4 * 60_000)).toBe("4 min");
    expect(formatAge(125 * 60_000)).toBe("2 h 5 min");
    expect(formatAge(120 * 60_000)).toBe("2 h");
    expect(formatAge(3 * 24 * 60 * 60_000)).toBe("3 days");
    expect(formatAge(-1)).toBe("just now");
  });
});
