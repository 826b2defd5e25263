import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { CredentialSummary, Workspace } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { credential, installFakeCredentials } from "../test/fakeCredentials";
import { installFakeWorkspaces, workspace } from "../test/fakeWorkspaces";
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
  };
});

const mocked = vi.mocked(ipc);
const { IpcError } = ipc;

const HETZNER = credential({ id: "c-hetzner", kind: "hetzner_token", label: "Hetzner main" });

function setup({ workspaces = [] as Workspace[], credentials = [] as CredentialSummary[] } = {}) {
  installFakeCredentials(mocked, credentials);
  const fake = installFakeWorkspaces(mocked, workspaces);
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <WorkspaceList />
    </QueryClientProvider>,
  );
  return { user, fake };
}

async function openDialog(user: ReturnType<typeof userEvent.setup>) {
  await user.click(screen.getByRole("button", { name: "New workspace" }));
  return screen.findByRole("dialog", { name: "New workspace" });
}

beforeEach(() => {
  useUiStore.setState({ view: "chat", workspaceId: null, newWorkspaceOpen: false, addCredentialKind: null });
});

describe("the New workspace dialog", () => {
  it("opens on the repository field, names the workspace after it, and closes with Escape", async () => {
    const { user } = setup();
    const opener = screen.getByRole("button", { name: "New workspace" });
    const dialog = await openDialog(user);
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(dialog).toHaveAccessibleDescription(/where an agent works/);

    const repo = within(dialog).getByRole("textbox", { name: "Repository" });
    expect(repo).toHaveFocus();
    expect(within(dialog).getByRole("radio", { name: /This computer/ })).toBeChecked();

    await user.type(repo, "https://github.com/acme/Billing_API.git");
    const name = within(dialog).getByRole("textbox", { name: "Name" });
    expect(name).toHaveValue("billing-api");
    // Once edited, the name is the user's.
    await user.clear(name);
    await user.type(name, "billing");
    await user.type(repo, "2");
    expect(name).toHaveValue("billing");

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(opener).toHaveFocus();
    expect(mocked.createWorkspace).not.toHaveBeenCalled();
  });

  it("checks the form like the core does before sending anything, and follows edits", async () => {
    const { user } = setup({ workspaces: [workspace({ spec: { name: "api" } })] });
    const dialog = await openDialog(user);
    const create = within(dialog).getByTestId("workspace-create");

    await user.click(create);
    const repo = within(dialog).getByRole("textbox", { name: "Repository" });
    expect(repo).toHaveAttribute("aria-invalid", "true");
    expect(repo).toHaveAccessibleDescription("Enter a git URL or the path of a folder on this computer.");
    expect(repo).toHaveFocus();

    await user.type(repo, "code/api");
    expect(repo).toHaveAccessibleDescription("The folder must be an absolute path.");

    await user.clear(repo);
    await user.type(repo, "/home/ada/code/api");
    expect(repo).not.toHaveAttribute("aria-invalid");
    // "api" is taken, so the suggested name is the next free one.
    const name = within(dialog).getByRole("textbox", { name: "Name" });
    expect(name).toHaveValue("api-2");
    await user.clear(name);
    await user.type(name, "api");
    expect(name).toHaveAccessibleDescription('A workspace named "api" already exists. Pick another name.');
    await user.clear(name);
    await user.type(name, "Api!");
    expect(name).toHaveAccessibleDescription(/1 to 40 lower-case letters, digits or dashes/);
    await user.click(create);
    expect(name).toHaveFocus();

    // A folder keeps its own branch.
    expect(within(dialog).getByRole("textbox", { name: /Branch/ })).toBeDisabled();
    expect(mocked.createWorkspace).not.toHaveBeenCalled();
  });

  it("creates a local workspace from a folder and opens it", async () => {
    const { user } = setup();
    const dialog = await openDialog(user);
    await user.type(within(dialog).getByRole("textbox", { name: "Repository" }), "/home/ada/code/api");
    await user.click(within(dialog).getByTestId("workspace-create"));

    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
    expect(mocked.createWorkspace).toHaveBeenCalledWith({
      name: "api",
      provider: "local",
      repo: { kind: "folder", path: "/home/ada/code/api" },
      branch: null,
      size: null,
      locations: [],
    });
    expect(useUiStore.getState()).toMatchObject({ view: "workspace", workspaceId: "new-1" });
    const item = await screen.findByTestId("workspace-item");
    expect(item).toHaveTextContent("api");
    expect(item).toHaveTextContent("Starting");
  });

  it("shows the core's answer when it disagrees, keeping what was typed", async () => {
    const { user } = setup();
    mocked.createWorkspace.mockRejectedValueOnce(new IpcError("invalid_input", "There is no folder at /home/ada/gone."));
    const dialog = await openDialog(user);
    const repo = within(dialog).getByRole("textbox", { name: "Repository" });
    await user.type(repo, "/home/ada/gone");
    await user.click(within(dialog).getByTestId("workspace-create"));

    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("There is no folder at /home/ada/gone.");
    expect(alert).toHaveTextContent(/could not create the workspace/i);
    expect(repo).toHaveValue("/home/ada/gone");
    expect(within(dialog).getByTestId("workspace-create")).toBeEnabled();
  });

  it("offers a cloud only with its credential, and sends the way there otherwise", async () => {
    const { user } = setup();
    const dialog = await openDialog(user);
    const hetzner = within(dialog).getByRole("radio", { name: "Hetzner Cloud" });
    await waitFor(() => expect(hetzner).toHaveAccessibleDescription(/Needs a Hetzner Cloud API token in Credentials/));
    expect(hetzner).toBeDisabled();
    expect(within(dialog).getByRole("radio", { name: "Scaleway" })).toBeDisabled();

    await user.click(within(dialog).getByTestId("workspace-add-hetzner"));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(useUiStore.getState()).toMatchObject({ view: "credentials", addCredentialKind: "hetzner_token" });
  });

  it("picks a location and a size with prices for a cloud workspace, the medium one by default", async () => {
    const { user } = setup({ credentials: [HETZNER] });
    const dialog = await openDialog(user);
    const hetzner = within(dialog).getByRole("radio", { name: "Hetzner Cloud" });
    await waitFor(() => expect(hetzner).toBeEnabled());
    expect(within(dialog).getByRole("radio", { name: "Scaleway" })).toBeDisabled();
    await user.click(hetzner);

    const location = await within(dialog).findByRole<HTMLSelectElement>("combobox", { name: "Location" });
    await waitFor(() => expect(location.value).toBe("fsn1"));
    expect(mocked.getCloudLocations).toHaveBeenCalledWith("hetzner");
    const size = within(dialog).getByRole<HTMLSelectElement>("combobox", { name: "Size" });
    await waitFor(() => expect(size.value).toBe("cx33"));
    expect(mocked.getCloudSizes).toHaveBeenCalledWith("hetzner", "fsn1");
    const options = within(size).getAllByRole<HTMLOptionElement>("option");
    expect(options.map((o) => o.textContent)).toEqual([
      expect.stringMatching(/^cx23 · 2 vCPU · 4 GB · .*0\.0063\/h · .*3\.79\/month$/),
      expect.stringMatching(/^cx33 · 4 vCPU · 8 GB · .*0\.0097\/h · .*5\.99\/month \(recommended\)$/),
      expect.stringMatching(/^cax21 .*\(out of stock\)$/),
    ]);
    expect(options[2]).toBeDisabled();

    // A folder cannot go to the cloud.
    const repo = within(dialog).getByRole("textbox", { name: "Repository" });
    await user.type(repo, "/home/ada/code/api");
    await user.click(within(dialog).getByTestId("workspace-create"));
    expect(repo).toHaveAccessibleDescription(/can only be a local workspace/);

    await user.clear(repo);
    await user.type(repo, "https://github.com/acme/api");
    await user.type(within(dialog).getByRole("textbox", { name: /Branch/ }), "dev");
    await user.selectOptions(location, "hel1");
    await waitFor(() => expect(mocked.getCloudSizes).toHaveBeenCalledWith("hetzner", "hel1"));
    await user.selectOptions(await within(dialog).findByRole("combobox", { name: "Size" }), "cx23");
    await user.click(within(dialog).getByTestId("workspace-create"));

    await waitFor(() =>
      expect(mocked.createWorkspace).toHaveBeenCalledWith({
        name: "api",
        provider: "hetzner",
        repo: { kind: "url", url: "https://github.com/acme/api" },
        branch: "dev",
        size: "cx23",
        locations: ["hel1"],
      }),
    );
  });

  it("says why the catalogue is missing and tries again", async () => {
    const { user } = setup({ credentials: [HETZNER] });
    mocked.getCloudLocations.mockRejectedValueOnce(
      new IpcError("unavailable", "Hetzner rejected the token (read-only)."),
    );
    const dialog = await openDialog(user);
    const hetzner = within(dialog).getByRole("radio", { name: "Hetzner Cloud" });
    await waitFor(() => expect(hetzner).toBeEnabled());
    await user.click(hetzner);

    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent("Hetzner rejected the token (read-only).");
    await user.click(within(dialog).getAllByRole("button", { name: "Try again" })[0]!);
    const location = await within(dialog).findByRole<HTMLSelectElement>("combobox", { name: "Location" });
    await waitFor(() => expect(location.value).toBe("fsn1"));
    expect(within(dialog).queryByRole("alert")).not.toBeInTheDocument();
  });
});
