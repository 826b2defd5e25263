import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { IpcError } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import type { ShippedItem } from "./reducer";
import { ShippedCard } from "./ShippedCard";

const PULL = { number: 7, url: "https://github.com/ada/app/pull/7", state: "open", created: true };

function item(fields: Partial<ShippedItem> = {}): ShippedItem {
  return { key: "4", seq: 4, endSeq: 4, prompt: 1, atMs: 0, type: "shipped", branch: "sam/greet-louder", commit: "0123456789abcdef", pushed: true, pushError: null, pullRequest: PULL, ...fields } as ShippedItem;
}

function renderCard(shipped: ShippedItem, pullRequestState?: (url: string) => Promise<string>) {
  const onOpenLink = vi.fn();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <ShippedCard item={shipped} onOpenLink={onOpenLink} {...(pullRequestState ? { pullRequestState } : {})} />
    </QueryClientProvider>,
  );
  return { onOpenLink };
}

describe("ShippedCard", () => {
  it("shows the commit, the branch and the pull request, whose link opens in the browser", async () => {
    const { onOpenLink } = renderCard(item());
    expect(screen.getByTestId("chat-shipped")).toHaveTextContent("Shipped 0123456789 on sam/greet-louder, pushed · Pull request #7 open");
    await userEvent.setup().click(screen.getByTestId("chat-shipped-pr"));
    expect(onOpenLink).toHaveBeenCalledWith("https://github.com/ada/app/pull/7");
  });

  it("reads the pull request's state again, so a merge shows as merged", async () => {
    const state = vi.fn(async () => "merged");
    renderCard(item(), state);
    await waitFor(() => expect(screen.getByTestId("chat-shipped-state")).toHaveTextContent("merged"));
    expect(state).toHaveBeenCalledWith("https://github.com/ada/app/pull/7");
  });

  it("keeps the recorded state when GitHub cannot be asked", async () => {
    const state = vi.fn(async () => {
      throw new IpcError("invalid_input", "Reading the pull request needs a GitHub token");
    });
    renderCard(item(), state);
    await waitFor(() => expect(state).toHaveBeenCalled());
    expect(screen.getByTestId("chat-shipped-state")).toHaveTextContent("open");
  });

  it("says when the push failed, and that there is no pull request", () => {
    renderCard(item({ pushed: false, pushError: "remote: Permission denied", pullRequest: null }));
    expect(screen.getByTestId("chat-shipped")).toHaveTextContent("Shipped 0123456789 on sam/greet-louder");
    expect(screen.getByRole("note")).toHaveTextContent("The push failed: remote: Permission denied");
    expect(screen.queryByTestId("chat-shipped-pr")).not.toBeInTheDocument();
  });
});
