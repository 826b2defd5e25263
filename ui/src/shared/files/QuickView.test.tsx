import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import type { FileContent } from "./files";
import { LINE_CHAR_LIMIT, QuickView, type QuickViewProps } from "./QuickView";

const LONG = Array.from({ length: 5000 }, (_, i) => `line ${i + 1}`).join("\n");

function setup(content: FileContent | Error, props: Partial<QuickViewProps> = {}) {
  const readFile = vi.fn(async () => {
    if (content instanceof Error) throw content;
    return content;
  });
  const onClose = vi.fn();
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <button type="button">Before</button>
      <QuickView api={{ readFile }} workspaceId="w-api" path="src/big.rs" onClose={onClose} {...props} />
    </QueryClientProvider>,
  );
  return { readFile, onClose, user };
}

const renderedLines = () => screen.queryAllByText(/^line \d+$/).map((text) => Number(text.closest("[data-line]")!.getAttribute("data-line")));

describe("QuickView", () => {
  it("scrolls to the requested line of a long file, highlights it, and keeps the DOM small", async () => {
    const { readFile } = setup({ path: "src/big.rs", text: LONG, truncated: false, sizeBytes: LONG.length }, { line: 3000 });
    const target = await screen.findByText("line 3000");
    const row = target.closest("[data-line]")!;
    expect(row).toHaveAttribute("data-line", "3000");
    expect(row).toHaveAttribute("aria-current", "location");
    expect(row).toHaveClass("quick-view__line--target");
    expect(within(row as HTMLElement).getByText("3000")).toHaveClass("quick-view__number");
    // Only the neighbourhood is rendered, not 5,000 rows.
    const lines = renderedLines();
    expect(lines.length).toBeLessThan(200);
    expect(Math.min(...lines)).toBeGreaterThan(2800);
    expect(screen.getAllByText(/^line \d+$/).filter((line) => line.closest(".quick-view__line--target"))).toHaveLength(1);
    expect(readFile).toHaveBeenCalledWith("w-api", "src/big.rs");
    expect(screen.getByRole("dialog", { name: "src/big.rs" })).toHaveTextContent("Read-only · line 3000");
  });

  it("highlights a range", async () => {
    setup({ path: "src/big.rs", text: LONG, truncated: false, sizeBytes: LONG.length }, { line: 10, endLine: 12 });
    await screen.findByText("line 10");
    const highlighted = Array.from(document.querySelectorAll(".quick-view__line--target")).map((row) => row.getAttribute("data-line"));
    expect(highlighted).toEqual(["10", "11", "12"]);
    expect(screen.getByRole("dialog")).toHaveTextContent("lines 10–12");
  });

  it("says when the file was cut short, and cuts very long lines", async () => {
    const text = `short\n${"x".repeat(LINE_CHAR_LIMIT + 5)}`;
    setup({ path: "src/big.rs", text, truncated: true, sizeBytes: 3 * 1024 * 1024 });
    expect(await screen.findByTestId("quick-view-truncated")).toHaveTextContent("The file is 3.0 MB: only its beginning is shown.");
    expect(screen.getByText(/more characters\)$/)).toHaveTextContent("… (5 more characters)");
  });

  it("does not show a binary file", async () => {
    setup({ path: "assets/logo.png", text: null, truncated: false, sizeBytes: 2048 }, { path: "assets/logo.png" });
    expect(await screen.findByTestId("quick-view-binary")).toHaveTextContent("assets/logo.png is a binary file (2 KB); it cannot be shown here.");
    expect(screen.queryByTestId("quick-view-lines")).not.toBeInTheDocument();
  });

  it("says why a file could not be read", async () => {
    setup(new Error("src/big.rs does not exist in the workspace."));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not read src/big.rs: src/big.rs does not exist in the workspace.");
  });

  it("closes on Escape and with its button, and focuses its close button when it opens", async () => {
    const { user, onClose } = setup({ path: "src/big.rs", text: "fn main() {}", truncated: false, sizeBytes: 12 });
    const close = screen.getByRole("button", { name: "Close the quick view" });
    expect(close).toHaveFocus();
    await screen.findByText("fn main() {}");
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledTimes(1);
    await user.click(close);
    expect(onClose).toHaveBeenCalledTimes(2);
  });

  it("says so when the core cannot read files", () => {
    render(
      <QueryClientProvider client={new QueryClient()}>
        <QuickView api={{}} workspaceId="w-api" path="src/a.rs" onClose={vi.fn()} />
      </QueryClientProvider>,
    );
    expect(screen.getByRole("dialog")).toHaveTextContent("This workspace cannot show files in SAM.");
  });
});
