import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../../shared/ipc";
import { createQueryClient } from "../../shared/queries";
import { useUiStore } from "../../shared/store";
import { workspace } from "../../test/fakeWorkspaces";
import { openTarget } from "./attention";
import { QuitDialog } from "./QuitDialog";

vi.mock("../../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../shared/ipc")>();
  return { ...actual, listWorkspaces: vi.fn(), appQuit: vi.fn() };
});
const mocked = vi.mocked(ipc);

function renderDialog() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <QuitDialog />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.listWorkspaces.mockResolvedValue([
    workspace({ id: "w1", spec: { name: "laptop-api" } }),
    workspace({
      id: "w2",
      spec: { name: "gpu-box", provider: "hetzner" },
      cost: { currency: "EUR", hourly: 0.0123, monthly: 7.5, spent: 0.42 },
    }),
    workspace({ id: "w3", spec: { name: "old-box", provider: "scaleway" }, state: "deleted" }),
    workspace({ id: "w4", spec: { name: "half-made", provider: "scaleway" }, state: "failed" }),
  ]);
  mocked.appQuit.mockResolvedValue(undefined);
  useUiStore.setState({ quitOpen: false, confirmDeleteId: null, view: "chat", workspaceId: null });
});

describe("quitting with cloud workspaces running", () => {
  it("opens when the tray asks, lists what keeps running with its cost, and deletes them before quitting", async () => {
    openTarget({ kind: "app" }, "confirmQuit");
    const { user } = renderDialog();
    const list = await screen.findByTestId("quit-workspaces");
    await waitFor(() => expect(within(list).getAllByRole("listitem")).toHaveLength(2));
    // Local and deleted workspaces cost nothing; a failed cloud one may still hold a server.
    const rows = within(list).getAllByRole("listitem").map((li) => li.textContent);
    expect(rows[0]).toMatch(/gpu-box — Hetzner.*0\.42.*so far/);
    expect(rows[1]).toMatch(/half-made — Scaleway/);
    expect(screen.getByTestId("quit-dialog")).toHaveTextContent(/an hour/);

    await user.click(screen.getByTestId("quit-delete"));
    expect(mocked.appQuit).toHaveBeenCalledWith(true);
  });

  it("stays open with the reason when a deletion fails, and Cancel closes it", async () => {
    mocked.appQuit.mockRejectedValueOnce(new ipc.IpcError("unavailable", "SAM kept running because gpu-box: 503"));
    useUiStore.setState({ quitOpen: true });
    const { user } = renderDialog();
    await user.click(await screen.findByTestId("quit-delete"));
    expect(await screen.findByRole("alert")).toHaveTextContent("gpu-box: 503");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(useUiStore.getState().quitOpen).toBe(false);
    expect(screen.queryByTestId("quit-dialog")).not.toBeInTheDocument();
  });

  it("can quit and leave them running", async () => {
    useUiStore.setState({ quitOpen: true });
    const { user } = renderDialog();
    await user.click(await screen.findByRole("button", { name: "Quit, keep them" }));
    expect(mocked.appQuit).toHaveBeenCalledWith(false);
  });

  it("the tray's Delete workspace… opens that workspace asking to confirm", () => {
    openTarget({ kind: "workspace", workspaceId: "w2" }, "deleteWorkspace");
    expect(useUiStore.getState()).toMatchObject({ view: "workspace", workspaceId: "w2", confirmDeleteId: "w2" });
  });
});
