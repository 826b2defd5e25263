import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { Markdown, safeUrl } from "./Markdown";

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

describe("Markdown sanitisation", () => {
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
