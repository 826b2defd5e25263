import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Orphans_Serialize as Orphans } from "../bindings";
import { openTarget } from "../features/attention/attention";
import * as ipc from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { OrphansBanner, OrphansDialog } from "./Orphans";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, orphansGet: vi.fn(), orphansReconcile: vi.fn() };
});
const mocked = vi.mocked(ipc);

const FOUND: Orphans = {
  checkedAt: 1_700_000_000,
  deleteAutomatically: false,
  report: {
    unchecked: ["scaleway: no credential"],
    orphans: [
      { provider: "hetzner", location: "fsn1", serverId: "4711", name: "sam-old-api", workspaceId: "w9", deleted: false },
      { provider: "hetzner", location: "nbg1", serverId: "4712", name: "sam-gone", workspaceId: null, deleted: true },
    ],
  },
};

function renderIt() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <OrphansBanner />
      <OrphansDialog />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.orphansGet.mockResolvedValue(FOUND);
  mocked.orphansReconcile.mockImplementation(async (deleteThem: boolean, auto: boolean | null) => ({
    checkedAt: 1_700_000_100,
    deleteAutomatically: auto ?? false,
    report: { unchecked: [], orphans: FOUND.report!.orphans.map((o) => ({ ...o, deleted: o.deleted || deleteThem })) },
  }));
  useUiStore.setState({ orphansOpen: false });
});

describe("servers without a workspace", () => {
  it("shows a banner for the ones still there, lists them, and deletes them (and always, when asked)", async () => {
    const { user } = renderIt();
    const banner = await screen.findByTestId("orphans-banner");
    expect(banner).toHaveTextContent("1 cloud server has no workspace");
    await user.click(within(banner).getByRole("button", { name: "Review" }));
    const dialog = await screen.findByTestId("orphans-dialog");
    const rows = within(screen.getByTestId("orphans-list")).getAllByRole("listitem");
    expect(rows.map((r) => r.textContent)).toEqual(["sam-old-api — hetzner, fsn1 (server 4711)"]);
    expect(dialog).toHaveTextContent("Not checked: scaleway: no credential.");
    await user.click(screen.getByTestId("orphans-auto"));
    await user.click(screen.getByTestId("orphans-delete"));
    expect(mocked.orphansReconcile).toHaveBeenCalledWith(true, true);
    expect(await screen.findByTestId("orphans-none")).toBeInTheDocument();
    expect(screen.queryByTestId("orphans-banner")).not.toBeInTheDocument();
    expect(screen.getByTestId("orphans-auto")).toBeChecked();
  });

  it("opens from the notification's target", async () => {
    renderIt();
    openTarget({ kind: "orphans" });
    expect(await screen.findByTestId("orphans-dialog")).toBeInTheDocument();
  });

  it("shows nothing when nothing was found", async () => {
    mocked.orphansGet.mockResolvedValue({ checkedAt: null, deleteAutomatically: false, report: null });
    renderIt();
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByTestId("orphans-banner")).not.toBeInTheDocument();
  });
});
