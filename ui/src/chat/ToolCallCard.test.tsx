import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { computeDiff } from "./DiffView";
import { mergeToolCall, type ToolCallInfo } from "./reducer";
import { createFakeChatApi } from "./testing/fakeChatApi";
import { PROJECT_FILES, renderWithPathLinks } from "./testing/pathLinks";
import { ToolCallCard } from "./ToolCallCard";

function call(fields: Record<string, unknown>): ToolCallInfo {
  return mergeToolCall(
    { toolCallId: "t1", title: "", kind: "other", status: "pending", locations: [], content: [], rawInput: undefined, rawOutput: undefined },
    fields,
  );
}

function setup(info: ToolCallInfo) {
  const onOpenLocation = vi.fn();
  const user = userEvent.setup();
  render(<ToolCallCard id="7" call={info} onOpenLocation={onOpenLocation} />);
  return { user, onOpenLocation, card: screen.getByTestId("chat-tool") };
}

describe("ToolCallCard", () => {
  it("shows kind, title and status", () => {
    const { card } = setup(call({ title: "cargo test", kind: "execute", status: "in_progress" }));
    expect(card).toHaveAccessibleName("Run: cargo test");
    expect(within(card).getByTestId("chat-tool-status")).toHaveTextContent("Running");
    expect(card).toHaveAttribute("data-status", "in_progress");
  });

  it("opens each location with its path and line", async () => {
    const { user, onOpenLocation } = setup(
      call({ title: "Read files", kind: "read", status: "completed", locations: [{ path: "src/main.rs", line: 42 }, { path: "README.md" }] }),
    );
    await user.click(screen.getByRole("button", { name: "Open src/main.rs:42" }));
    expect(onOpenLocation).toHaveBeenLastCalledWith("src/main.rs", 42);
    await user.click(screen.getByRole("button", { name: "Open README.md" }));
    expect(onOpenLocation).toHaveBeenLastCalledWith("README.md", null);
  });

  it("renders its output only once opened", async () => {
    const { user, card } = setup(
      call({
        title: "ls",
        kind: "execute",
        status: "completed",
        rawInput: { command: "ls -la" },
        content: [{ type: "content", content: { type: "text", text: "total 0\nfile.txt" } }, { type: "terminal", terminalId: "term-9" }],
      }),
    );
    expect(screen.queryByTestId("chat-tool-output")).not.toBeInTheDocument();
    expect(card).not.toHaveTextContent("file.txt");
    const toggle = screen.getByRole("button", { name: "Show details" });
    expect(toggle).toHaveAttribute("aria-expanded", "false");
    await user.click(toggle);
    const output = screen.getByTestId("chat-tool-output");
    expect(screen.getByRole("button", { name: "Hide details" })).toHaveAttribute("aria-expanded", "true");
    expect(output).toHaveTextContent("file.txt");
    expect(output).toHaveTextContent('"command": "ls -la"');
    expect(output).toHaveTextContent("term-9");
    await user.click(screen.getByRole("button", { name: "Hide details" }));
    expect(screen.queryByTestId("chat-tool-output")).not.toBeInTheDocument();
  });

  it("shows the raw output when there is no content", async () => {
    const { user } = setup(call({ title: "fetch", kind: "fetch", status: "failed", rawOutput: { error: "404" } }));
    expect(screen.getByTestId("chat-tool-status")).toHaveTextContent("Failed");
    await user.click(screen.getByRole("button", { name: "Show details" }));
    expect(screen.getByTestId("chat-tool-output")).toHaveTextContent('"error": "404"');
  });

  it("has no details button when there is nothing to show", () => {
    setup(call({ title: "Thinking", kind: "think" }));
    expect(screen.queryByRole("button", { name: "Show details" })).not.toBeInTheDocument();
  });

  it("shows an edit as a unified diff, a new file as all additions", () => {
    setup(
      call({
        title: "Edit",
        kind: "edit",
        status: "completed",
        content: [
          { type: "diff", path: "a.txt", oldText: "one\ntwo\nthree\n", newText: "one\n2\nthree\n" },
          { type: "diff", path: "new.txt", oldText: null, newText: "hello\nworld\n" },
        ],
      }),
    );
    const [edit, created] = screen.getAllByTestId("chat-diff");
    const lines = (figure: HTMLElement) => Array.from(figure.querySelectorAll(".chat-diff__line")).map((line) => line.textContent?.trimEnd());
    expect(lines(edit!)).toEqual(["@@ -1,3 +1,3 @@", " one", "-two", "+2", " three"]);
    expect(edit).toHaveTextContent("+1 −1");
    expect(lines(created!).slice(1)).toEqual(["+hello", "+world"]);
    expect(created).toHaveTextContent("new file");
    // Diffs are not behind the details toggle.
    expect(screen.queryByRole("button", { name: "Show details" })).not.toBeInTheDocument();
  });

  it("computes diffs with counts, and says when there is no change", () => {
    expect(computeDiff("a\nb\n", "a\nc\nd\n")).toMatchObject({ added: 2, removed: 1 });
    expect(computeDiff("same", "same")).toEqual({ lines: [], added: 0, removed: 0 });
  });
});

describe("ToolCallCard locations as file links", () => {
  const READ = call({
    title: "Read files",
    kind: "read",
    status: "completed",
    locations: [{ path: "/home/ada/api/src/lib.rs", line: 42 }, { path: "/home/ada/api/src/deleted.rs" }, { path: "/etc/passwd" }],
  });

  it("opens a location the workspace confirmed, at its workspace-relative path", async () => {
    const api = createFakeChatApi({ files: PROJECT_FILES });
    const onOpenLocation = vi.fn();
    const user = userEvent.setup();
    renderWithPathLinks(api, <ToolCallCard id="7" call={READ} onOpenLocation={onOpenLocation} />);
    const button = await screen.findByRole("button", { name: "Open /home/ada/api/src/lib.rs:42" });
    expect(button).toHaveAttribute("title", "Open src/lib.rs at line 42 in your editor");
    await user.click(button);
    expect(api.calls.filter((c) => c.method === "openLocation").map((c) => c.args)).toEqual([["w-api", "src/lib.rs", 42]]);
    expect(onOpenLocation).not.toHaveBeenCalled();
    expect(await screen.findByTestId("path-status")).toHaveTextContent("Opened in VS Code at line 42");
    // All three were asked about in one call; the two that are not in the workspace stay text.
    expect(api.calls.filter((c) => c.method === "resolvePaths").map((c) => c.args)).toEqual([
      ["w-api", ["/home/ada/api/src/lib.rs", "/home/ada/api/src/deleted.rs", "/etc/passwd"]],
    ]);
    const texts = screen.getAllByTestId("chat-location-text");
    expect(texts.map((text) => text.textContent)).toEqual(["/home/ada/api/src/deleted.rs", "/etc/passwd"]);
    expect(texts[0]).toHaveAttribute("title", "/home/ada/api/src/deleted.rs is not in the workspace");
    expect(screen.getAllByRole("button", { name: /^Open / })).toHaveLength(1);
  });

  it("opens locations as given when the core cannot check paths", async () => {
    const api = createFakeChatApi();
    const user = userEvent.setup();
    renderWithPathLinks(api, <ToolCallCard id="7" call={READ} onOpenLocation={vi.fn()} />);
    await user.click(screen.getByRole("button", { name: "Open /home/ada/api/src/deleted.rs" }));
    expect(api.calls.filter((c) => c.method === "openLocation").map((c) => c.args)).toEqual([["w-api", "/home/ada/api/src/deleted.rs", null]]);
  });

  it("is keyboard reachable", async () => {
    const api = createFakeChatApi({ files: PROJECT_FILES });
    const user = userEvent.setup();
    renderWithPathLinks(api, <ToolCallCard id="7" call={READ} onOpenLocation={vi.fn()} />);
    const button = await screen.findByRole("button", { name: "Open /home/ada/api/src/lib.rs:42" });
    await user.tab();
    expect(button).toHaveFocus();
    await user.keyboard(" ");
    expect(api.calls.some((c) => c.method === "openLocation")).toBe(true);
  });
});
