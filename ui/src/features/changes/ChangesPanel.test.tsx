import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { IpcError } from "../../shared/ipc";
import { createQueryClient } from "../../shared/queries";
import { ChangesPanel } from "./ChangesPanel";
import { commentPrompt, diffRows } from "./parse";
import type { ChangesApi, ChangesSummary, FileDiff } from "./types";

const DIFF = `diff --git a/src/app.py b/src/app.py
--- a/src/app.py
+++ b/src/app.py
@@ -1,4 +1,5 @@
 import os
-print('hi')
+print('hello')
+print('again')
 x = 1
 y = 2
@@ -20,2 +21,2 @@ def f():
-    return 1
+    return 2
     # end
`;

const SUMMARY: ChangesSummary = {
  base: "abc123",
  insertions: 3,
  deletions: 2,
  truncated: false,
  files: [
    { path: "src/app.py", oldPath: null, status: "modified", insertions: 3, deletions: 2, binary: false },
    { path: "docs/new.md", oldPath: "docs/old.md", status: "renamed", insertions: 0, deletions: 0, binary: false },
    { path: "logo.png", oldPath: null, status: "added", insertions: null, deletions: null, binary: true },
  ],
};

let api: {
  changes: ReturnType<typeof vi.fn>;
  fileDiff: ReturnType<typeof vi.fn>;
  ship: ReturnType<typeof vi.fn>;
  turnChanges: ReturnType<typeof vi.fn>;
  revertTurn: ReturnType<typeof vi.fn>;
};
const onOpenFile = vi.fn();
const onSendPrompt = vi.fn(async (_text: string) => undefined);

function renderPanel(sendPrompt: ((text: string) => Promise<void>) | null = onSendPrompt, chat: { sessionId?: string | null; turns?: number[] } = {}) {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <ChangesPanel
        api={api as unknown as ChangesApi}
        workspaceId="w1"
        draftMessage="Greet louder"
        onOpenFile={onOpenFile}
        onSendPrompt={sendPrompt}
        onClose={() => undefined}
        {...chat}
      />
    </QueryClientProvider>,
  );
  return { user };
}

// jsdom has no layout: give elements a panel's size, so the virtualised diff shows rows.
const sizes = ["offsetHeight", "offsetWidth", "clientHeight", "clientWidth"] as const;
const original = sizes.map((name) => Object.getOwnPropertyDescriptor(HTMLElement.prototype, name));
beforeAll(() => {
  for (const name of sizes)
    Object.defineProperty(HTMLElement.prototype, name, {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains("changes__diff-scroll") ? 600 : 20;
      },
    });
});
afterAll(() => {
  sizes.forEach((name, i) => {
    if (original[i]) Object.defineProperty(HTMLElement.prototype, name, original[i]!);
  });
});

beforeEach(() => {
  onOpenFile.mockReset();
  onSendPrompt.mockClear();
  api = {
    changes: vi.fn(async () => SUMMARY),
    fileDiff: vi.fn(async (_w: string, path: string): Promise<FileDiff> => ({ path, binary: path === "logo.png", diff: path === "logo.png" ? "" : DIFF, truncated: false })),
    turnChanges: vi.fn(async (_w: string, _s: string, prompt: number) => ({
      prompt,
      insertions: 1,
      deletions: 0,
      truncated: false,
      files: [{ path: `turn${prompt}.txt`, oldPath: null, status: "added", insertions: 1, deletions: 0, binary: false }],
    })),
    revertTurn: vi.fn(async (_w: string, _s: string, prompt: number) => ({ prompt, restored: [`turn${prompt}.txt`] })),
    ship: vi.fn(async () => ({ branch: "sam/greet-louder", commit: "0123456789abcdef", pushed: true, pushError: null, pullRequest: { url: "https://github.com/ada/app/pull/7", number: 7, existing: false } })),
  };
});

describe("the changes panel", () => {
  it("lists the changed files with their status and counts, and shows the first one's diff with line numbers", async () => {
    renderPanel();
    expect(await screen.findByTestId("changes-summary")).toHaveTextContent("3 files · +3 −2");
    const files = screen.getAllByTestId("changes-file").map((f) => f.textContent);
    expect(files).toEqual(["Msrc/app.py+3 −2", "Rdocs/old.md → docs/new.md+0 −0", "Alogo.pngbinary"]);
    const diff = await screen.findByTestId("changes-diff");
    const rows = await within(diff).findAllByRole("row");
    // Hunk, context, deletion (old line 2), two additions (new lines 2 and 3), …
    expect(rows[2]).toHaveClass("changes__row--del");
    expect(within(rows[2]!).getByRole("button")).toHaveTextContent("2");
    expect(rows[3]).toHaveClass("changes__row--add");
    expect(rows[3]).toHaveTextContent("print('hello')");
    expect(api.fileDiff).toHaveBeenCalledWith("w1", "src/app.py", null, null);
  });

  it("opens a hunk in the editor at its first new line", async () => {
    const { user } = renderPanel();
    const hunks = await screen.findAllByTestId("changes-open-hunk");
    await user.click(hunks[1]!);
    expect(onOpenFile).toHaveBeenCalledWith("src/app.py", 21);
  });

  it("says a binary file is binary", async () => {
    const { user } = renderPanel();
    await user.click((await screen.findAllByTestId("changes-file"))[2]!);
    expect(await screen.findByTestId("changes-binary")).toHaveTextContent("logo.png is a binary file");
  });

  it("sends a comment on selected lines to the agent with the file and lines attached", async () => {
    const { user } = renderPanel();
    await user.click(await screen.findByRole("button", { name: "Select removed line 2" }));
    await user.keyboard("{Shift>}");
    await user.click(screen.getByRole("button", { name: "Select line 3" }));
    await user.keyboard("{/Shift}");
    const box = screen.getByTestId("changes-comment");
    expect(box).toHaveTextContent("Comment to the agent on 3 lines");
    await user.type(within(box).getByRole("textbox"), "Keep the old greeting.");
    await user.click(within(box).getByRole("button", { name: "Send to the agent" }));
    const prompt = onSendPrompt.mock.calls[0]![0];
    expect(prompt).toContain("About src/app.py:2-3 in the current changes:");
    expect(prompt).toContain("-print('hi')\n+print('hello')\n+print('again')");
    expect(prompt.endsWith("Keep the old greeting.")).toBe(true);
    await waitFor(() => expect(screen.queryByTestId("changes-comment")).not.toBeInTheDocument());
  });

  it("ships: the drafted message, a branch when given, the pull request, and shows the result", async () => {
    const { user } = renderPanel();
    await user.click(await screen.findByTestId("changes-ship"));
    const dialog = screen.getByTestId("ship-dialog");
    expect(within(dialog).getByLabelText("Commit message")).toHaveValue("Greet louder");
    await user.click(screen.getByTestId("ship-confirm"));
    expect(api.ship).toHaveBeenCalledWith("w1", { message: "Greet louder", branch: null, pullRequest: true, sessionId: null });
    expect(await screen.findByTestId("ship-result")).toHaveTextContent("Committed 0123456789 on sam/greet-louder and pushed it.");
    expect(screen.getByTestId("ship-pr")).toHaveTextContent("https://github.com/ada/app/pull/7");
  });

  it("drafts the message from the chat unless the user typed first, and ships for the open chat", async () => {
    const draftMessage = vi.fn(async () => "Greet louder\n\nAsked of the agent (claude):\n- greet louder");
    Object.assign(api, { draftMessage });
    const { user } = renderPanel(onSendPrompt, { sessionId: "s1", turns: [1] });
    await user.click(await screen.findByTestId("changes-ship"));
    const box = screen.getByTestId("ship-message");
    await waitFor(() => expect(box).toHaveValue("Greet louder\n\nAsked of the agent (claude):\n- greet louder"));
    expect(draftMessage).toHaveBeenCalledWith("w1", "s1");
    await user.click(screen.getByTestId("ship-confirm"));
    expect(api.ship).toHaveBeenCalledWith("w1", { message: "Greet louder\n\nAsked of the agent (claude):\n- greet louder", branch: null, pullRequest: true, sessionId: "s1" });
  });

  it("keeps what the user typed when the draft comes late", async () => {
    let release: (text: string) => void = () => undefined;
    Object.assign(api, { draftMessage: vi.fn(() => new Promise<string>((resolve) => (release = resolve))) });
    const { user } = renderPanel();
    await user.click(await screen.findByTestId("changes-ship"));
    const box = screen.getByTestId("ship-message");
    await user.clear(box);
    await user.type(box, "My own words");
    release("The draft");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(box).toHaveValue("My own words");
  });

  it("copies every text file's diff as one patch for users without a forge, naming the binary files left out", async () => {
    // user-event stands in a clipboard for the test: read back what the panel wrote.
    const { user } = renderPanel();
    await user.click(await screen.findByTestId("changes-ship"));
    await user.click(screen.getByTestId("ship-copy-patch"));
    expect(await screen.findByTestId("ship-patch-copied")).toHaveTextContent("Copied (1 binary file left out).");
    expect(await navigator.clipboard.readText()).toBe(DIFF + DIFF);
    expect(api.fileDiff).not.toHaveBeenCalledWith("w1", "logo.png", null);
    expect(api.ship).not.toHaveBeenCalled();
  });

  it("shows the workspace's refusal to push to the default branch", async () => {
    api.ship.mockRejectedValueOnce(new IpcError("invalid_input", "SAM never pushes to the default branch main; pick another branch"));
    const { user } = renderPanel();
    await user.click(await screen.findByTestId("changes-ship"));
    await user.type(screen.getByLabelText("Branch"), "main");
    await user.click(screen.getByRole("checkbox", { name: /pull request/ }));
    await user.click(screen.getByTestId("ship-confirm"));
    expect(api.ship).toHaveBeenCalledWith("w1", { message: "Greet louder", branch: "main", pullRequest: false, sessionId: null });
    expect(await screen.findByRole("alert")).toHaveTextContent("never pushes to the default branch");
  });

  it("renders a 50,000-line diff with only the visible rows in the DOM", async () => {
    const big = ["--- a/big.txt", "+++ b/big.txt", "@@ -0,0 +1,50000 @@", ...Array.from({ length: 50_000 }, (_, i) => `+line ${i + 1}`)].join("\n") + "\n";
    api.fileDiff.mockResolvedValue({ path: "src/app.py", binary: false, diff: big, truncated: false });
    const started = performance.now();
    renderPanel();
    const diff = await screen.findByTestId("changes-diff");
    const rows = await within(diff).findAllByRole("row");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(200);
    // Parsing and the first render stay well inside a second even here (jsdom, debug).
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe("per-turn changes", () => {
  it("offers no turn filter without an open chat", async () => {
    renderPanel(onSendPrompt, { sessionId: null, turns: [1, 2] });
    await screen.findByTestId("changes-summary");
    expect(screen.queryByTestId("changes-turn-filter")).not.toBeInTheDocument();
  });

  it("filters to one turn's files and reverts that turn after a confirmation", async () => {
    const { user } = renderPanel(onSendPrompt, { sessionId: "s1", turns: [1, 2] });
    await screen.findByTestId("changes-summary");
    expect(screen.queryByTestId("changes-revert-turn")).not.toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Turn"), "2");
    await waitFor(() => expect(screen.getAllByTestId("changes-file").map((f) => f.dataset.path)).toEqual(["turn2.txt"]));
    expect(api.turnChanges).toHaveBeenCalledWith("w1", "s1", 2);
    // The diff shown is the file's diff in that turn.
    await waitFor(() => expect(api.fileDiff).toHaveBeenCalledWith("w1", "turn2.txt", null, { sessionId: "s1", prompt: 2 }));
    await user.click(screen.getByTestId("changes-revert-turn"));
    const dialog = screen.getByTestId("revert-turn-dialog");
    expect(dialog).toHaveTextContent("Revert turn 2?");
    expect(dialog).toHaveTextContent("turn2.txt");
    expect(api.revertTurn).not.toHaveBeenCalled();
    await user.click(within(dialog).getByTestId("revert-turn-confirm"));
    expect(api.revertTurn).toHaveBeenCalledWith("w1", "s1", 2);
    expect(await screen.findByTestId("changes-reverted")).toHaveTextContent("Turn 2 reverted: 1 file put back.");
    expect(screen.queryByTestId("revert-turn-dialog")).not.toBeInTheDocument();
  });

  it("cancelling the confirmation reverts nothing", async () => {
    const { user } = renderPanel(onSendPrompt, { sessionId: "s1", turns: [1] });
    await user.selectOptions(await screen.findByLabelText("Turn"), "1");
    await user.click(await screen.findByTestId("changes-revert-turn"));
    await user.click(within(screen.getByTestId("revert-turn-dialog")).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByTestId("revert-turn-dialog")).not.toBeInTheDocument();
    expect(api.revertTurn).not.toHaveBeenCalled();
  });

  it("shows the refusal when files changed since the turn", async () => {
    api.revertTurn.mockRejectedValueOnce(
      new IpcError("invalid_input", "nothing was reverted: 1 of the files this turn changed has changed again since it ended: turn1.txt"),
    );
    const { user } = renderPanel(onSendPrompt, { sessionId: "s1", turns: [1] });
    await user.selectOptions(await screen.findByLabelText("Turn"), "1");
    await user.click(await screen.findByTestId("changes-revert-turn"));
    await user.click(screen.getByTestId("revert-turn-confirm"));
    const dialog = screen.getByTestId("revert-turn-dialog");
    await waitFor(() => expect(dialog).toHaveTextContent("changed again since it ended: turn1.txt"));
    expect(screen.queryByTestId("changes-reverted")).not.toBeInTheDocument();
  });

  it("goes back to all changes", async () => {
    const { user } = renderPanel(onSendPrompt, { sessionId: "s1", turns: [1] });
    await user.selectOptions(await screen.findByLabelText("Turn"), "1");
    await waitFor(() => expect(screen.getAllByTestId("changes-file")).toHaveLength(1));
    await user.selectOptions(screen.getByLabelText("Turn"), "");
    await waitFor(() => expect(screen.getAllByTestId("changes-file")).toHaveLength(3));
  });
});

describe("live refresh", () => {
  // A controllable host watch: each wait resolves when the test says the checkout changed.
  function watchedApi(live = true) {
    let version = 1;
    let wake: (() => void) | null = null;
    const waitChanges = vi.fn(
      (_w: string, after: number) =>
        new Promise<{ version: number; live: boolean }>((resolve) => {
          if (!live || after !== version) return resolve({ version, live });
          wake = () => resolve({ version, live });
        }),
    );
    return {
      waitChanges,
      change() {
        version += 1;
        wake?.();
        wake = null;
      },
    };
  }

  it("reads the changes again when the host sees the checkout change, and does not poll", async () => {
    const watch = watchedApi();
    Object.assign(api, { waitChanges: watch.waitChanges });
    renderPanel();
    await waitFor(() => expect(screen.getByTestId("changes-panel")).toHaveAttribute("data-live", "true"));
    expect(api.changes).toHaveBeenCalledTimes(1);
    expect(screen.getAllByTestId("changes-file")).toHaveLength(3);

    api.changes.mockResolvedValue({ ...SUMMARY, files: [...SUMMARY.files, { path: "new.txt", oldPath: null, status: "added", insertions: 1, deletions: 0, binary: false }] });
    watch.change();
    await waitFor(() => expect(screen.getAllByTestId("changes-file")).toHaveLength(4));
    expect(api.changes).toHaveBeenCalledTimes(2);
    // The open diff was read again too (the same counts may hide a different diff).
    await waitFor(() => expect(api.fileDiff.mock.calls.filter(([, path]) => path === "src/app.py").length).toBeGreaterThan(1));
    // The next wait passes the counter it was given.
    await waitFor(() => expect(watch.waitChanges).toHaveBeenLastCalledWith("w1", 2));
  });

  it("polls when the workspace cannot be watched", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      Object.assign(api, { waitChanges: watchedApi(false).waitChanges });
      renderPanel();
      await waitFor(() => expect(api.changes).toHaveBeenCalledTimes(1));
      expect(screen.getByTestId("changes-panel")).toHaveAttribute("data-live", "false");
      await vi.advanceTimersByTimeAsync(3100);
      await waitFor(() => expect(api.changes).toHaveBeenCalledTimes(2));
    } finally {
      vi.useRealTimers();
    }
  });

  it("polls while the watch fails, and tries it again later", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const waitChanges = vi.fn(async () => {
        throw new IpcError("invalid_input", "unknown request kind");
      });
      Object.assign(api, { waitChanges });
      renderPanel();
      await waitFor(() => expect(waitChanges).toHaveBeenCalledTimes(1));
      await vi.advanceTimersByTimeAsync(3100);
      await waitFor(() => expect(api.changes).toHaveBeenCalledTimes(2));
      await vi.advanceTimersByTimeAsync(15_000);
      await waitFor(() => expect(waitChanges).toHaveBeenCalledTimes(2));
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("diff parsing", () => {
  it("numbers lines and keeps the no-newline note", () => {
    const rows = diffRows("--- a/x\n+++ b/x\n@@ -3,2 +3,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n");
    expect(rows.map((r) => r.kind)).toEqual(["hunk", "ctx", "del", "add", "note"]);
    expect(rows[1]).toMatchObject({ oldLine: 3, newLine: 3 });
    expect(rows[2]).toMatchObject({ oldLine: 4, newLine: null });
    expect(rows[3]).toMatchObject({ oldLine: null, newLine: 4 });
    expect(diffRows("")).toEqual([]);
  });

  it("words a comment on one line", () => {
    const rows = diffRows("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
    expect(commentPrompt("x", rows.slice(2, 3), " Why? ")).toBe("About x:1 in the current changes:\n\n```diff\n+b\n```\n\nWhy?");
  });
});
