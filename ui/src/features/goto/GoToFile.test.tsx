import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import type { FileApi, FileMatches, OpenOutcome } from "../../shared/files/files";
import { parseGoToQuery } from "../../shared/files/files";
import { GoToFile, HighlightedPath, useGoToFileShortcut } from "./GoToFile";

const FILES = ["src/main.rs", "src/lib.rs", "src/api/upload.rs", "README.md", "Cargo.toml"];

/** Subsequence matching like the core's, with its positions. */
function match(query: string): FileMatches {
  const matches = FILES.flatMap((path) => {
    const positions: number[] = [];
    let at = 0;
    for (const char of query.toLowerCase()) {
      at = path.toLowerCase().indexOf(char, at);
      if (at < 0) return [];
      positions.push(at++);
    }
    return [{ path, positions }];
  });
  return { matches, indexedFiles: FILES.length };
}

type Setup = { findFiles?: FileApi["findFiles"]; openLocation?: FileApi["openLocation"]; readFile?: FileApi["readFile"]; workspaceId?: string | null };

function setup({ findFiles, openLocation, readFile, workspaceId = "w-api" }: Setup = {}) {
  const api: FileApi = {
    findFiles: findFiles ?? vi.fn(async (_workspace: string, query: string) => match(query)),
    openLocation: openLocation ?? vi.fn(async (): Promise<OpenOutcome> => ({ how: "editor", editor: "VS Code", message: "" })),
    readFile: readFile ?? vi.fn(async (_workspace: string, path: string) => ({ path, text: "one\ntwo\nthree\n", truncated: false, sizeBytes: 14 })),
  };
  const onOpened = vi.fn();
  const user = userEvent.setup();

  function Host() {
    const [open, setOpen] = useState(false);
    useGoToFileShortcut(() => setOpen(true));
    return (
      <>
        <button type="button">Before</button>
        <GoToFile api={api} workspaceId={workspaceId} open={open} onClose={() => setOpen(false)} onOpened={onOpened} />
      </>
    );
  }
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <Host />
    </QueryClientProvider>,
  );
  return { api, user, onOpened };
}

async function openFinder(user: ReturnType<typeof userEvent.setup>) {
  await user.click(screen.getByRole("button", { name: "Before" }));
  await user.keyboard("{Control>}p{/Control}");
  return screen.getByRole("combobox", { name: "File name, optionally :line" });
}

const options = () => screen.queryAllByRole("option").map((option) => option.textContent);

describe("GoToFile", () => {
  it("opens on Ctrl+P without letting the print dialog through, and on Cmd+P", () => {
    const onOpen = vi.fn();
    function Probe() {
      useGoToFileShortcut(onOpen);
      return null;
    }
    render(<Probe />);
    const ctrl = new KeyboardEvent("keydown", { key: "p", ctrlKey: true, bubbles: true, cancelable: true });
    window.dispatchEvent(ctrl);
    expect(ctrl.defaultPrevented).toBe(true);
    fireEvent.keyDown(document.body, { key: "P", metaKey: true });
    expect(onOpen).toHaveBeenCalledTimes(2);
    // Not plain P, nor Ctrl+Shift+P.
    fireEvent.keyDown(document.body, { key: "p" });
    fireEvent.keyDown(document.body, { key: "P", ctrlKey: true, shiftKey: true });
    expect(onOpen).toHaveBeenCalledTimes(2);
  });

  it("finds files as you type, picks with the arrows and opens with Enter", async () => {
    const { api, user, onOpened } = setup();
    const input = await openFinder(user);
    expect(input).toHaveFocus();
    await waitFor(() => expect(screen.getByTestId("goto-indexed")).toHaveTextContent("5 files indexed"));
    await user.type(input, "srs");
    await waitFor(() => expect(options()).toEqual(["main.rssrc/", "lib.rssrc/", "upload.rssrc/api/"]));
    const first = screen.getAllByRole("option")[0]!;
    expect(first).toHaveAttribute("aria-selected", "true");
    expect(input).toHaveAttribute("aria-activedescendant", first.id);
    // The matched characters are marked.
    expect(Array.from(first.querySelectorAll("mark")).map((mark) => mark.textContent)).toEqual(["s", "sr"]);
    await user.keyboard("{ArrowDown}{ArrowDown}{ArrowDown}{ArrowUp}");
    expect(screen.getAllByRole("option")[2]).toHaveAttribute("aria-selected", "true");
    await user.keyboard("{Enter}");
    expect(api.openLocation).toHaveBeenCalledWith("w-api", "src/api/upload.rs", null);
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(onOpened).toHaveBeenCalledWith({ how: "editor", editor: "VS Code", message: "" }, "src/api/upload.rs");
    expect(screen.getByTestId("goto-status")).toHaveTextContent("Opened src/api/upload.rs in VS Code");
    // Focus went back where it was.
    expect(screen.getByRole("button", { name: "Before" })).toHaveFocus();
  });

  it("opens at the line typed after a colon", async () => {
    const { api, user } = setup();
    const input = await openFinder(user);
    await user.type(input, "upload:42:7");
    await waitFor(() => expect(options()).toEqual(["upload.rssrc/api/"]));
    expect(screen.getByTestId("goto-file")).toHaveTextContent("Opens at line 42, column 7");
    await user.keyboard("{Enter}");
    expect(api.findFiles).toHaveBeenLastCalledWith("w-api", "upload", 50);
    expect(api.openLocation).toHaveBeenCalledWith("w-api", "src/api/upload.rs", 42, 7);
  });

  it("shows only the latest answer when answers arrive out of order", async () => {
    const pending = new Map<string, (found: FileMatches) => void>();
    const findFiles = vi.fn((_workspace: string, query: string) => new Promise<FileMatches>((resolve) => pending.set(query, resolve)));
    const { user } = setup({ findFiles });
    const input = await openFinder(user);
    await waitFor(() => expect(findFiles).toHaveBeenCalledWith("w-api", "", 50));
    await user.type(input, "m");
    await waitFor(() => expect(findFiles).toHaveBeenCalledWith("w-api", "m", 50));
    await user.type(input, "d");
    await waitFor(() => expect(findFiles).toHaveBeenCalledWith("w-api", "md", 50));
    act(() => pending.get("md")!(match("md")));
    await waitFor(() => expect(options()).toEqual(["README.md"]));
    // The older, slower answers come last and are dropped.
    act(() => pending.get("m")!(match("m")));
    act(() => pending.get("")!(match("")));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(options()).toEqual(["README.md"]);
  });

  it("debounces typing into few searches", async () => {
    const { api, user } = setup();
    const input = await openFinder(user);
    await user.type(input, "upload");
    await waitFor(() => expect(options()).toEqual(["upload.rssrc/api/"]));
    expect(vi.mocked(api.findFiles!).mock.calls.length).toBeLessThan(4);
  });

  it("says when nothing matches, and when the search failed", async () => {
    const findFiles = vi.fn(async (_workspace: string, query: string) => {
      if (query === "boom") throw new Error("The workspace is offline.");
      return match(query);
    });
    const { user } = setup({ findFiles });
    const input = await openFinder(user);
    await user.type(input, "zzz");
    expect(await screen.findByText("No file matches “zzz”.")).toBeInTheDocument();
    await user.clear(input);
    await user.type(input, "boom");
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not search the files: The workspace is offline.");
  });

  it("closes on Escape and gives focus back", async () => {
    const { user } = setup();
    await openFinder(user);
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Before" })).toHaveFocus();
  });

  it("shows the quick view when the core chose it", async () => {
    const openLocation = vi.fn(async (): Promise<OpenOutcome> => ({ how: "quick_view", editor: null, message: "No editor is configured" }));
    const { user } = setup({ openLocation });
    const input = await openFinder(user);
    await user.type(input, "README:2");
    await waitFor(() => expect(options()).toEqual(["README.md"]));
    await user.keyboard("{Enter}");
    const view = await screen.findByRole("dialog", { name: "README.md" });
    expect(view).toHaveTextContent("No editor is configured");
    expect(await within(view).findByText("two")).toBeInTheDocument();
    expect(view.querySelector('[aria-current="location"]')).toHaveAttribute("data-line", "2");
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
  });

  it("shows the quick view when there is no editor, and other open errors in place", async () => {
    const openLocation = vi
      .fn()
      .mockRejectedValueOnce(Object.assign(new Error("Permission denied"), { code: "io" }))
      .mockRejectedValueOnce(Object.assign(new Error("No editor"), { code: "no_editor" }));
    const { user } = setup({ openLocation });
    const input = await openFinder(user);
    await user.type(input, "Cargo");
    await waitFor(() => expect(options()).toEqual(["Cargo.toml"]));
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not open Cargo.toml: Permission denied");
    await user.keyboard("{Enter}");
    expect(await screen.findByRole("dialog", { name: "Cargo.toml" })).toHaveTextContent("No editor is set up");
  });

  it("says when there is no workspace to search", async () => {
    const { user } = setup({ workspaceId: null });
    await openFinder(user);
    expect(screen.getByRole("dialog")).toHaveTextContent("Select a workspace to go to its files.");
  });
});

describe("go-to helpers", () => {
  it.each([
    ["src/a.rs", { query: "src/a.rs", line: null, column: null }],
    ["src/a.rs:12", { query: "src/a.rs", line: 12, column: null }],
    ["src/a.rs:12:3", { query: "src/a.rs", line: 12, column: 3 }],
    ["a.rs:", { query: "a.rs", line: null, column: null }],
    ["a.rs:12:", { query: "a.rs", line: 12, column: null }],
    ["a.rs:x", { query: "a.rs:x", line: null, column: null }],
    [":12", { query: ":12", line: null, column: null }],
  ])("reads %s", (input, parsed) => {
    expect(parseGoToQuery(input)).toEqual(parsed);
  });

  it("marks characters by code point, name before folder", () => {
    const { container } = render(<HighlightedPath path="dé/🚀a.rs" positions={[1, 3, 4]} />);
    expect(Array.from(container.querySelectorAll("mark")).map((mark) => mark.textContent)).toEqual(["🚀a", "é"]);
    expect(container.textContent).toBe("🚀a.rsdé/");
  });
});
