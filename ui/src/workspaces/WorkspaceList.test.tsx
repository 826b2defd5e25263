import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { Workspace } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { installFakeCredentials } from "../test/fakeCredentials";
import { installFakeWorkspaces, workspace, type FakeWorkspaces } from "../test/fakeWorkspaces";
import { WorkspaceList } from "./WorkspaceList";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return {
    ...actual,
    listWorkspaces: vi.fn(),
    getWorkspace: vi.fn(),
    createWorkspace: vi.fn(),
    retryWorkspace: vi.fn(),
    deleteWorkspace: vi.fn(),
    getCloudLocations: vi.fn(),
    getCloudSizes: vi.fn(),
    getCredentialKinds: vi.fn(),
    listCredentials: vi.fn(),
    addCredential: vi.fn(),
    checkCredential: vi.fn(),
    renameCredential: vi.fn(),
    setCredentialActive: vi.fn(),
    removeCredential: vi.fn(),
    openConsole: vi.fn(),
    orphansGet: vi.fn(async () => ({ checkedAt: null, deleteAutomatically: false, report: null })),
  };
});

const mocked = vi.mocked(ipc);

let fake: FakeWorkspaces;

function setup(initial: Workspace[]) {
  installFakeCredentials(mocked, []);
  fake = installFakeWorkspaces(mocked, initial);
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <WorkspaceList />
    </QueryClientProvider>,
  );
  return { user };
}

const items = () =>
  screen.getAllByTestId("workspace-item").map((item) => `${item.dataset.name}: ${within(item).getByTestId("workspace-item-state").textContent}`);

beforeEach(() => {
  useUiStore.setState({ view: "chat", workspaceId: null, newWorkspaceOpen: false, addCredentialKind: null });
});

describe("the sidebar's workspace list", () => {
  it("shows each workspace with its state and where it runs, and opens the one picked", async () => {
    const { user } = setup([
      workspace({ id: "w1", spec: { name: "billing-api" }, state: "ready" }),
      workspace({ id: "w2", spec: { name: "gpu-box", provider: "scaleway" }, state: "failed", failure: "quota" }),
      workspace({ id: "w3", spec: { name: "old-api" }, state: "deleted" }),
    ]);
    await screen.findAllByTestId("workspace-item");
    expect(items()).toEqual(["billing-api: Ready", "gpu-box: Failed", "old-api: Deleted"]);

    const gpu = screen.getByRole("button", { name: /gpu-box/ });
    expect(gpu).toHaveAccessibleName("gpu-box, Scaleway, Failed");
    await user.click(gpu);
    expect(useUiStore.getState()).toMatchObject({ view: "workspace", workspaceId: "w2" });
    expect(gpu).toHaveAttribute("aria-current", "page");
    expect(screen.getByRole("button", { name: /billing-api/ })).not.toHaveAttribute("aria-current");
  });

  it("polls while a workspace is busy, so its state in the list stays true", async () => {
    setup([workspace({ id: "w1", state: "provisioning" })]);
    await screen.findByTestId("workspace-item");
    expect(items()).toEqual(["api: Setting up"]);
    fake.update("w1", { state: "ready" });
    await waitFor(() => expect(items()).toEqual(["api: Ready"]), { timeout: 2500 });
  });

  it("starts with a way to use this computer or add a cloud account", async () => {
    const { user } = setup([]);
    const empty = await screen.findByTestId("workspaces-empty");
    expect(empty).toHaveTextContent(/folder on this computer/);
    await user.click(within(empty).getByRole("button", { name: /use this computer/i }));
    const dialog = await screen.findByRole("dialog", { name: "New workspace" });
    expect(within(dialog).getByRole("radio", { name: /This computer/ })).toBeChecked();

    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    await user.click(within(empty).getByRole("button", { name: /add a cloud account/i }));
    expect(useUiStore.getState()).toMatchObject({ view: "credentials", addCredentialKind: "hetzner_token" });
  });
});
