import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { ChatApi } from "./api";
import { Markdown, safeUrl } from "./Markdown";
import { createFakeChatApi, type FakeChatApi, type FakeChatApiOptions } from "./testing/fakeChatApi";
import { PROJECT_FILES, renderWithPathLinks } from "./testing/pathLinks";

function renderMarkdown(text: string, onOpenLink = vi.fn()) {
  const { container } = render(<Markdown text={text} onOpenLink={onOpenLink} />);
  return { container, onOpenLink };
}

/** Every attribute of every element, as "tag[attr]". */
function attributes(container: HTMLElement): string[] {
  return Array.from(container.querySelectorAll("*")).flatMap((element) =>
    Array.from(element.attributes).map((attribute) => `${element.tagName.toLowerCase()}[${attribute.name}=${attribute.value}]`),
  );
}

const DANGEROUS_TAGS = "script, iframe, object, embed, svg, math, style, link, meta, form, img, video, audio, source, base";

function expectInert(container: HTMLElement) {
  expect(container.querySelectorAll(DANGEROUS_TAGS)).toHaveLength(0);
  for (const attribute of attributes(container)) {
    expect(attribute).not.toMatch(/\[on\w+=/i);
    expect(attribute).not.toMatch(/(javascript|data|vbscript|file):/i);
    expect(attribute).not.toMatch(/\[(srcdoc|formaction|style)=/i);
  }
}

const HOSTILE: [string, string][] = [
  ["script tag", "Hello <script>window.pwned = true</script> there"],
  ["img onerror", '<img src="x" onerror="window.pwned = true">'],
  ["svg onload", '<svg onload="window.pwned = true"><circle r="4"/></svg>'],
  ["iframe", '<iframe src="https://evil.example" srcdoc="<script>1</script>"></iframe>'],
  ["raw HTML block", '<div onclick="window.pwned = true">\n\n**bold inside**\n\n</div>'],
  ["javascript: link", "[click me](javascript:window.pwned=true)"],
  ["obfuscated javascript: link", "[click me](JaVaScRiPt&#58;alert(1)) and [tab](java\tscript:alert(1))"],
  ["data: link", "[open](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"],
  ["autolink javascript", "<javascript:alert(1)>"],
  ["markdown image with javascript src", "![x](javascript:alert(1))"],
  ["reference-style data link", "[a][r]\n\n[r]: data:text/html,<script>alert(1)</script>"],
  ["inline style and form", '<form action="https://evil.example"><button formaction="javascript:alert(1)">go</button></form><p style="position:fixed">x</p>'],
  ["object/embed", '<object data="evil.swf"></object><embed src="evil.swf">'],
  ["meta refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example">'],
];

describe("Markdown sanitisation", () => {
  it.each(HOSTILE)("renders %s inert", (_name, payload) => {
    const { container } = renderMarkdown(payload);
    expectInert(container);
    expect((window as unknown as { pwned?: boolean }).pwned).toBeUndefined();
  });

  it("keeps raw HTML visible as text rather than dropping it silently", () => {
    const { container } = renderMarkdown("Before <b onclick=x>bold?</b> after");
    expect(container.querySelector("b")).toBeNull();
    expect(container).toHaveTextContent("Before <b onclick=x>bold?</b> after");
  });

  it("shows a blocked link's text without a link", () => {
    const { container } = renderMarkdown("[click me](javascript:alert(1))");
    expect(screen.getByText("click me").tagName).toBe("SPAN");
    expect(container.querySelector("a")).toBeNull();
  });

  it("shows an image's alt text and URL instead of loading it", () => {
    const { container } = renderMarkdown("![The diagram](https://example.com/d.png)");
    expect(container.querySelector("img")).toBeNull();
    const image = screen.getByTestId("md-image");
    expect(image).toHaveTextContent("The diagram");
    expect(image).toHaveTextContent("(https://example.com/d.png)");
  });

  it("opens http(s) and mailto links through the callback, never by navigating", async () => {
    const user = userEvent.setup();
    const { onOpenLink } = renderMarkdown("See [the docs](https://example.com/a?b=1) or [mail](mailto:ada@example.com).");
    const link = screen.getByRole("link", { name: "the docs" });
    expect(link).toHaveAttribute("href", "https://example.com/a?b=1");
    const click = new MouseEvent("click", { bubbles: true, cancelable: true });
    link.dispatchEvent(click);
    expect(click.defaultPrevented).toBe(true);
    expect(onOpenLink).toHaveBeenLastCalledWith("https://example.com/a?b=1");
    await user.click(screen.getByRole("link", { name: "mail" }));
    expect(onOpenLink).toHaveBeenLastCalledWith("mailto:ada@example.com");
  });

  it("shows a finished message the same from its kept rendering, with the links of the instance on screen", async () => {
    const user = userEvent.setup();
    const text = "Kept: **bold**, `code`, and [a link](https://example.com/kept).";
    const first = renderMarkdown(text);
    const html = first.container.innerHTML;
    first.container.remove();
    // A second message with the same text (a reopened chat): the same output, and its own callback.
    const second = renderMarkdown(text);
    expect(second.container.innerHTML).toBe(html);
    await user.click(within(second.container).getByRole("link", { name: "a link" }));
    expect(second.onOpenLink).toHaveBeenCalledWith("https://example.com/kept");
    expect(first.onOpenLink).not.toHaveBeenCalled();
  });

  it("allows only http, https and mailto URLs", () => {
    expect(safeUrl("https://example.com")).toBe("https://example.com");
    expect(safeUrl(" HTTP://example.com ")).toBe("HTTP://example.com");
    expect(safeUrl("mailto:a@b.c")).toBe("mailto:a@b.c");
    for (const url of ["javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "/relative", "#anchor", "vbscript:x", "java\nscript:x", "http\u0000s://x"]) {
      expect(safeUrl(url)).toBe("");
    }
  });
});

describe("Markdown rendering", () => {
  it("renders lists, emphasis, tables and task lists (GFM)", () => {
    renderMarkdown(
      ["# Title", "", "Some **bold** and _em_ and ~~gone~~.", "", "- one", "- two", "", "1. first", "", "| a | b |", "|---|---|", "| 1 | 2 |", "", "- [x] done", "- [ ] todo"].join("\n"),
    );
    expect(screen.getByRole("heading", { level: 1, name: "Title" })).toBeInTheDocument();
    expect(screen.getByText("bold").tagName).toBe("STRONG");
    expect(screen.getByText("gone").tagName).toBe("DEL");
    const lists = screen.getAllByRole("list");
    expect(within(lists[0]!).getAllByRole("listitem").map((item) => item.textContent)).toEqual(["one", "two"]);
    const table = screen.getByRole("table");
    expect(within(table).getAllByRole("columnheader").map((cell) => cell.textContent)).toEqual(["a", "b"]);
    expect(within(table).getAllByRole("cell").map((cell) => cell.textContent)).toEqual(["1", "2"]);
    const boxes = screen.getAllByRole("checkbox");
    expect(boxes.map((box) => (box as HTMLInputElement).checked)).toEqual([true, false]);
    expect(boxes[0]).toBeDisabled();
  });

  it("highlights fenced code of a known language, with its language and a copy button", async () => {
    // user-event puts a clipboard stub in place for the test.
    const user = userEvent.setup();
    const { container } = renderMarkdown("```rust\nfn main() { let x = 1; }\n```\n\nand `inline`");
    const code = container.querySelector("pre code")!;
    expect(code).toHaveClass("hljs", "language-rust");
    expect(code.querySelector(".hljs-keyword")).toHaveTextContent("fn");
    expect(container.querySelector(".md-code__language")).toHaveTextContent("rust");
    expect(screen.getByText("inline").tagName).toBe("CODE");

    await user.click(screen.getByRole("button", { name: "Copy code" }));
    expect(await navigator.clipboard.readText()).toBe("fn main() { let x = 1; }");
    expect(await screen.findByRole("button", { name: "Copied" })).toBeInTheDocument();
  });

  it("shows code of an unknown language plain, and skips highlighting while streaming", () => {
    const { container, rerender } = render(<Markdown text={"```klingon\nqapla'\n```\n```ts\nconst a = 1\n```"} highlight={false} />);
    expect(container.querySelectorAll("pre code")).toHaveLength(2);
    expect(container.querySelector(".hljs-keyword")).toBeNull();
    rerender(<Markdown text={"```klingon\nqapla'\n```\n```ts\nconst a = 1\n```"} />);
    expect(container.querySelector(".hljs-keyword")).toHaveTextContent("const");
    expect(container.querySelectorAll("pre code")[0]).not.toHaveClass("hljs");
  });
});

describe("Markdown file paths", () => {
  function setup(text: string, options: FakeChatApiOptions = {}) {
    const api = createFakeChatApi({ files: PROJECT_FILES, ...options });
    const user = userEvent.setup();
    const view = renderWithPathLinks(api, <Markdown text={text} />);
    return { api, user, ...view };
  }

  const calls = (api: FakeChatApi, method: keyof ChatApi) => api.calls.filter((call) => call.method === method).map((call) => call.args);

  it("links a path the workspace confirmed, and leaves one it did not as text", async () => {
    const { api, container } = setup("I changed src/main.rs and src/nowhere.rs.");
    const link = await screen.findByRole("button", { name: "Open src/main.rs in your editor" });
    expect(link).toHaveTextContent("src/main.rs");
    expect(link).toHaveAttribute("title", "Open src/main.rs in your editor");
    expect(screen.getAllByTestId("path-link")).toHaveLength(1);
    expect(container).toHaveTextContent("I changed src/main.rs and src/nowhere.rs.");
    // Both were asked about, in one call.
    expect(calls(api, "resolvePaths")).toEqual([["w-api", ["src/main.rs", "src/nowhere.rs"]]]);
  });

  it("opens at the line and column, and says where it opened", async () => {
    const { api, user } = setup("It fails at `src/main.rs:2:5`.");
    await user.click(await screen.findByRole("button", { name: "Open src/main.rs at line 2 in your editor" }));
    expect(calls(api, "openLocation")).toEqual([["w-api", "src/main.rs", 2, 5]]);
    expect(await screen.findByTestId("path-status")).toHaveTextContent("Opened in VS Code at line 2");
  });

  it("is reachable and activated with the keyboard", async () => {
    const { api, user } = setup("See Cargo.toml");
    const link = await screen.findByRole("button", { name: "Open Cargo.toml in your editor" });
    await user.tab();
    expect(link).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(calls(api, "openLocation")).toEqual([["w-api", "Cargo.toml", null]]);
  });

  it("opens an absolute path at its workspace-relative path", async () => {
    const { api, user } = setup("Wrote /home/ada/api/src/lib.rs#L10-L12");
    await user.click(await screen.findByRole("button", { name: "Open src/lib.rs at line 10 in your editor" }));
    expect(calls(api, "openLocation")).toEqual([["w-api", "src/lib.rs", 10]]);
  });

  it("takes a line written after inline code", async () => {
    const { api, user } = setup("In `src/lib.rs` (line 8) the loop starts.");
    await user.click(await screen.findByRole("button", { name: "Open src/lib.rs at line 8 in your editor" }));
    expect(calls(api, "openLocation")).toEqual([["w-api", "src/lib.rs", 8]]);
    expect(screen.getByText("src/lib.rs").closest("code")).not.toBeNull();
  });

  it("opens a Markdown link to a workspace path instead of following it", async () => {
    const { api, user, container } = setup("The handler is in [upload](src/api/upload.rs#L42).");
    const link = await screen.findByRole("button", { name: "Open src/api/upload.rs at line 42 in your editor" });
    expect(link).toHaveTextContent("upload");
    expect(container.querySelector("a")).toBeNull();
    await user.click(link);
    expect(calls(api, "openLocation")).toEqual([["w-api", "src/api/upload.rs", 42]]);
  });

  it("keeps a Markdown link to a missing path a blocked link", async () => {
    const { api } = setup("[gone](src/gone.rs)");
    await waitFor(() => expect(calls(api, "resolvePaths")).toHaveLength(1));
    expect(screen.getByText("gone").tagName).toBe("SPAN");
    expect(screen.getByText("gone")).toHaveClass("md-link--blocked");
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
  });

  it("never turns a javascript: or file:// link target into an open, even when the core says yes to everything", async () => {
    const api = createFakeChatApi({ files: PROJECT_FILES });
    api.resolvePaths = async (_workspaceId, candidates) => candidates.map((requested) => ({ requested, path: requested }));
    const user = userEvent.setup();
    const { container } = renderWithPathLinks(
      api,
      <Markdown text={"[a](javascript:alert(1)) [b](file:///home/ada/api/src/main.rs) [c](JaVaScRiPt&#58;alert(1)) [d](java\tscript:x) [real](src/main.rs)"} />,
    );
    await screen.findByRole("button", { name: "Open src/main.rs in your editor" });
    for (const name of ["a", "b", "c"]) {
      const text = screen.getByText(name);
      expect(text.tagName).toBe("SPAN");
      await user.click(text);
    }
    expect(screen.getAllByRole("button")).toHaveLength(1);
    expect(api.calls.filter((call) => call.method === "openLocation")).toEqual([]);
    expectInert(container);
  });

  it("keeps hostile Markdown inert with links on", async () => {
    const api = createFakeChatApi({ files: PROJECT_FILES });
    api.resolvePaths = async (_workspaceId, candidates) => candidates.map((requested) => ({ requested, path: requested }));
    for (const [, payload] of HOSTILE) {
      const { container, unmount } = renderWithPathLinks(api, <Markdown text={`${payload}\n\nsrc/main.rs`} />);
      await screen.findAllByTestId("path-link");
      expectInert(container);
      unmount();
    }
  });

  it("does not link paths in code blocks", async () => {
    const { api } = setup("```\nsrc/main.rs:1\n```\n\nand README.md");
    await screen.findByRole("button", { name: "Open README.md in your editor" });
    expect(calls(api, "resolvePaths")).toEqual([["w-api", ["README.md"]]]);
  });

  it("waits for a streaming message to complete before looking its paths up", async () => {
    const api = createFakeChatApi({ files: PROJECT_FILES });
    const view = renderWithPathLinks(api, <Markdown text="Editing src/main.rs" highlight={false} />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls(api, "resolvePaths")).toEqual([]);
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
    view.rerender(<Markdown text="Editing src/main.rs" />);
    expect(await screen.findByRole("button", { name: "Open src/main.rs in your editor" })).toBeInTheDocument();
  });

  it("asks once per path across messages, and again after the agent's turn ends", async () => {
    const files: Record<string, string | null> = { ...PROJECT_FILES };
    const api = createFakeChatApi({ files });
    const messages = (
      <>
        <Markdown text="New: src/new.rs and src/main.rs" />
        <Markdown text="Also src/main.rs" />
      </>
    );
    const view = renderWithPathLinks(api, messages, { agentWorking: true });
    await waitFor(() => expect(screen.getAllByTestId("path-link")).toHaveLength(2));
    expect(calls(api, "resolvePaths")).toEqual([["w-api", ["src/new.rs", "src/main.rs"]]]);
    // The agent creates the file; when its turn ends the paths are asked about again.
    files["src/new.rs"] = "pub fn new() {}";
    view.rerender(messages, false);
    expect(await screen.findByRole("button", { name: "Open src/new.rs in your editor" })).toBeInTheDocument();
    expect(calls(api, "resolvePaths")).toHaveLength(2);
    // Links already shown stayed while asking.
    expect(screen.getAllByTestId("path-link")).toHaveLength(3);
  });

  it("says when a read-only copy was opened, and shows an error", async () => {
    const openOutcome = vi
      .fn()
      .mockResolvedValueOnce({ how: "mirror", editor: "Zed", message: "" })
      .mockRejectedValueOnce(Object.assign(new Error("VS Code is not installed."), { code: "not_found" }));
    const { user } = setup("See Cargo.toml", { openOutcome });
    const link = await screen.findByRole("button", { name: "Open Cargo.toml in your editor" });
    await user.click(link);
    expect(await screen.findByText("Opened a read-only copy of Cargo.toml in Zed (this editor cannot open remote files)")).toBeInTheDocument();
    await user.click(link);
    expect(await screen.findByText("Could not open Cargo.toml: VS Code is not installed.")).toBeInTheDocument();
    expect(screen.getByTestId("path-status")).toHaveClass("path-status--error");
  });

  it("shows the quick view when the core chose it, and when there is no editor", async () => {
    const openOutcome = vi
      .fn()
      .mockResolvedValueOnce({ how: "quick_view", editor: null, message: "No editor is configured" })
      .mockRejectedValueOnce(Object.assign(new Error("No editor"), { code: "no_editor" }));
    const { user } = setup("Look at src/main.rs:2", { openOutcome });
    const link = await screen.findByRole("button", { name: "Open src/main.rs at line 2 in your editor" });
    await user.click(link);
    let view = await screen.findByRole("dialog", { name: "src/main.rs" });
    expect(view).toHaveTextContent("No editor is configured");
    expect(await within(view).findByText('println!("hi");')).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(link).toHaveFocus();
    await user.click(link);
    view = await screen.findByRole("dialog", { name: "src/main.rs" });
    expect(view).toHaveTextContent("No editor is set up to open it: choose one in Settings");
  });

  it("links nothing without a resolver, nor outside a provider", async () => {
    const api = createFakeChatApi();
    renderWithPathLinks(api, <Markdown text="src/main.rs" />);
    render(<Markdown text="src/lib.rs" />);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(screen.queryByRole("button")).not.toBeInTheDocument();
    expect(screen.getByText("src/main.rs")).toBeInTheDocument();
  });
});
