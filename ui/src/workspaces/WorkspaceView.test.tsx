import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { Workspace } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { installFakeWorkspaces, step, workspace, type FakeWorkspaces } from "../test/fakeWorkspaces";
import { WorkspaceView } from "./WorkspaceView";

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
    workspaceOpenTerminal: vi.fn(),
    workspaceOpenVscode: vi.fn(),
    remoteEditingSet: vi.fn(),
  };
});

const mocked = vi.mocked(ipc);
const { IpcError } = ipc;

const CLOUD = workspace({
  id: "w-gpu",
  spec: { name: "gpu-box", provider: "hetzner", repo: { kind: "url", url: "https://github.com/acme/gpu" }, size: "cx33", locations: ["fsn1"] },
  state: "provisioning",
  steps: [step("ensure_ssh_key", "done", 310), step("create_server", "done", 1840), step("wait_for_ip", "running")],
});

let fake: FakeWorkspaces;

function setup(initial: Workspace) {
  fake = installFakeWorkspaces(mocked, [initial]);
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <WorkspaceView id={initial.id} />
    </QueryClientProvider>,
  );
  return { user };
}

const rows = () =>
  screen.getAllByTestId("workspace-step").map((row) => `${row.dataset.step}:${row.dataset.state}:${within(row).getByTestId("workspace-step-time").textContent}`);

beforeEach(() => {
  vi.useRealTimers();
});

describe("the workspace view", () => {
  it("shows each step in words with its timing, and the bar as done over expected steps", async () => {
    setup(CLOUD);
    const bar = await screen.findByRole("progressbar", { name: "Setup progress" });
    expect(bar).toHaveAttribute("max", "7");
    expect(bar).toHaveAttribute("value", "2");
    expect(bar).toHaveAttribute("aria-valuetext", "2 of 7 steps done");
    expect(rows()).toEqual([
      "ensure_ssh_key:done:310 ms",
      "create_server:done:1.8 s",
      "wait_for_ip:running:running…",
      "wait_for_ssh:pending:",
      "upload_host:pending:",
      "start_host:pending:",
      "checkout:pending:",
    ]);
    const items = screen.getAllByTestId("workspace-step");
    expect(items[0]).toHaveTextContent("Register SAM's SSH key");
    expect(items[2]).toHaveTextContent("Wait for its IP address: running");
    expect(items[6]).toHaveTextContent("Clone the repository");
    expect(screen.getByTestId("workspace-state")).toHaveTextContent("Setting up");
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("gpu-box");
  });

  it("follows provisioning by polling until the workspace is ready", async () => {
    setup(workspace({ state: "requested", steps: [] }));
    const bar = await screen.findByRole("progressbar");
    expect(bar).toHaveAttribute("value", "0");
    expect(bar).toHaveAttribute("max", "2");

    fake.update("w-api", { state: "provisioning", steps: [step("start_host", "done", 84), step("checkout", "running")] });
    await waitFor(() => expect(bar).toHaveAttribute("value", "1"), { timeout: 2000 });
    expect(screen.getByTestId("workspace-state")).toHaveTextContent("Setting up");

    fake.update("w-api", {
      state: "ready",
      checkoutDir: "/home/ada/code/api",
      steps: [step("start_host", "done", 84), step("checkout", "done", 1260)],
    });
    await waitFor(() => expect(screen.getByTestId("workspace-state")).toHaveTextContent("Ready"), { timeout: 2000 });
    expect(bar).toHaveAttribute("value", "2");
    expect(rows()).toEqual(["start_host:done:84 ms", "checkout:done:1.3 s"]);
    expect(screen.getByTestId("workspace-progress")).toHaveTextContent("1.3 s in all");
    expect(screen.getByText("Check the folder")).toBeInTheDocument();
    expect(screen.getByTestId("workspace-checkout")).toHaveTextContent("/home/ada/code/api");

    // Ready: no more polling.
    const calls = mocked.getWorkspace.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(mocked.getWorkspace.mock.calls.length).toBe(calls);
  });

  it("shows why it failed, and Retry starts it again", async () => {
    const reason = "Setting up the workspace failed: git clone: repository not found";
    const { user } = setup(
      workspace({
        state: "failed",
        failure: reason,
        spec: { repo: { kind: "url", url: "https://github.com/acme/nope" } },
        steps: [step("start_host", "done", 90), step("checkout", "failed", 640, "repository not found")],
      }),
    );
    const failure = await screen.findByTestId("workspace-failure");
    expect(failure).toHaveRole("alert");
    expect(failure).toHaveTextContent("Setting it up failed");
    expect(screen.getByTestId("workspace-failure-reason")).toHaveTextContent(reason);
    expect(screen.getByRole("progressbar")).toHaveAttribute("value", "1");
    const checkout = screen.getAllByTestId("workspace-step")[1]!;
    expect(checkout).toHaveAttribute("data-state", "failed");
    expect(checkout).toHaveTextContent("Clone the repository: failed");
    expect(checkout).toHaveTextContent("repository not found");

    await user.click(within(failure).getByRole("button", { name: "Retry" }));
    expect(mocked.retryWorkspace).toHaveBeenCalledWith("w-api");
    await waitFor(() => expect(screen.queryByTestId("workspace-failure")).not.toBeInTheDocument());
    expect(screen.getByTestId("workspace-state")).toHaveTextContent("Setting up");
  });

  it("says a failure once when the failed step's detail is the same text", async () => {
    const reason = "The workspace host did not answer: no handshake within 20 s";
    setup(workspace({ state: "failed", failure: reason, steps: [step("start_host", "failed", 20_000, reason)] }));
    expect(await screen.findAllByText(reason)).toHaveLength(1);
    expect(screen.getAllByTestId("workspace-step")[0]).toHaveAttribute("data-state", "failed");
    expect(screen.getByTestId("workspace-failure")).toHaveTextContent("Every step is safe to run again.");
  });

  it("shows the core's error when a retry is refused", async () => {
    const { user } = setup(workspace({ state: "failed", failure: "The workspace host did not answer: timeout" }));
    mocked.retryWorkspace.mockRejectedValueOnce(new IpcError("invalid_input", "This workspace is being set up already."));
    await user.click(await screen.findByTestId("workspace-retry"));
    const failure = screen.getByTestId("workspace-failure");
    await waitFor(() => expect(failure).toHaveTextContent("This workspace is being set up already."));
    // A workspace whose steps did not fail says so differently.
    expect(failure).toHaveTextContent("It needs attention");
  });

  it("asks before deleting a local folder workspace, says the folder and the chat history stay", async () => {
    const { user } = setup(workspace({ state: "ready", steps: [step("start_host", "done", 70), step("checkout", "done", 12)] }));
    await user.click(await screen.findByTestId("workspace-delete"));
    const dialog = screen.getByRole("alertdialog", { name: "Delete “api”?" });
    expect(dialog).toHaveTextContent("Your folder /home/ada/code/api stays as it is.");
    expect(dialog).toHaveTextContent("The chat history stays on this computer.");
    expect(within(dialog).getByRole("button", { name: "Cancel" })).toHaveFocus();

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(mocked.deleteWorkspace).not.toHaveBeenCalled();

    await user.click(screen.getByTestId("workspace-delete"));
    await user.click(screen.getByTestId("confirm-delete-workspace"));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(mocked.deleteWorkspace).toHaveBeenCalledWith("w-api");
    expect(screen.getByTestId("workspace-state")).toHaveTextContent("Deleted");
    expect(screen.getByTestId("workspace-deleted")).toHaveTextContent("Its chat history stays on this computer.");
    expect(screen.queryByTestId("workspace-delete")).not.toBeInTheDocument();
    expect(screen.getByRole("heading", { level: 1 })).toHaveFocus();
  });

  it("opens with the Delete confirmation when the tray asked for it, once", async () => {
    useUiStore.setState({ confirmDeleteId: "w-api" });
    const { user } = setup(workspace({ state: "ready" }));
    expect(await screen.findByRole("alertdialog", { name: "Delete “api”?" })).toBeInTheDocument();
    expect(useUiStore.getState().confirmDeleteId).toBeNull();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(mocked.deleteWorkspace).not.toHaveBeenCalled();
  });

  it("says a cloud workspace's server is deleted, also while it is being set up", async () => {
    const { user } = setup({ ...CLOUD, address: "203.0.113.7" });
    await user.click(await screen.findByTestId("workspace-delete"));
    const dialog = screen.getByRole("alertdialog");
    expect(dialog).toHaveTextContent("Setting it up stops first.");
    expect(within(dialog).getByTestId("delete-workspace-server")).toHaveTextContent(
      "SAM deletes the server (203.0.113.7) in your Hetzner Cloud account",
    );
    expect(dialog).toHaveTextContent("The chat history stays on this computer.");

    mocked.deleteWorkspace.mockRejectedValueOnce(new IpcError("unavailable", "Hetzner is unreachable; try again."));
    await user.click(within(dialog).getByTestId("confirm-delete-workspace"));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("Hetzner is unreachable; try again.");
  });

  it("shows a cloud workspace's place, address and cost", async () => {
    setup({
      ...CLOUD,
      state: "ready",
      address: "203.0.113.7",
      cost: { currency: "EUR", hourly: 0.0097, monthly: 5.99, spent: 0.02 },
    });
    const details = await screen.findByTestId("workspace-details");
    expect(details).toHaveTextContent("Hetzner Cloud · fsn1 · cx33");
    expect(details).toHaveTextContent("203.0.113.7");
    expect(screen.getByTestId("workspace-cost")).toHaveTextContent(/0\.0097\/h · .*5\.99\/month at most · about .*0\.02 so far/);
  });

  it("shows an error when the workspace cannot be loaded", async () => {
    fake = installFakeWorkspaces(mocked, []);
    mocked.getWorkspace.mockRejectedValue(new IpcError("not_found", 'No workspace named "gone".'));
    render(
      <QueryClientProvider client={createQueryClient()}>
        <WorkspaceView id="gone" />
      </QueryClientProvider>,
    );
    expect(await screen.findByRole("alert")).toHaveTextContent('No workspace named "gone".');
  });

  it("opens a ready local workspace in a terminal and in VS Code, and shows what started", async () => {
    mocked.workspaceOpenTerminal.mockResolvedValue({
      kind: "opened",
      message: "Opened gnome-terminal in /home/ada/code/api",
      argv: ["/usr/bin/gnome-terminal"],
    });
    mocked.workspaceOpenVscode.mockRejectedValueOnce(
      new IpcError("invalid_input", "Visual Studio Code (code) was not found on your PATH. In VS Code, run \"Shell Command: Install 'code' command in PATH\""),
    );
    const { user } = setup(workspace({ state: "ready", checkoutDir: "/home/ada/code/api" }));
    const tools = await screen.findByTestId("workspace-tools");
    expect(tools).toHaveTextContent("The terminal starts in the workspace's folder");
    await user.click(within(tools).getByRole("button", { name: "Open terminal" }));
    expect(mocked.workspaceOpenTerminal).toHaveBeenCalledWith("w-api");
    expect(await screen.findByTestId("workspace-open-done")).toHaveTextContent("Opened gnome-terminal in /home/ada/code/api");

    await user.click(within(tools).getByRole("button", { name: "Open in VS Code" }));
    expect(await within(tools).findByRole("alert")).toHaveTextContent("Install 'code' command in PATH");
  });

  it("asks before turning on remote editing for VS Code on a cloud workspace, then opens it", async () => {
    mocked.workspaceOpenVscode
      .mockResolvedValueOnce({
        kind: "needsRemoteEditing",
        message: "VS Code reaches \"gpu-box\" as the SSH host sam-gpu-box from your ssh config, which does not include SAM's entries yet.",
        userConfig: "/home/ada/.ssh/config",
        includeLine: "Include /home/ada/.local/share/sam/ssh/config",
      })
      .mockResolvedValueOnce({
        kind: "opened",
        message: "Opened gpu-box on sam-gpu-box in Visual Studio Code (Remote-SSH)",
        argv: ["/usr/bin/code", "--remote", "ssh-remote+sam-gpu-box", "/root/.sam/w-gpu/checkout"],
      });
    mocked.remoteEditingSet.mockResolvedValue({
      enabled: true,
      userConfig: "/home/ada/.ssh/config",
      includeLine: "Include /home/ada/.local/share/sam/ssh/config",
      agentAvailable: true,
    });
    const { user } = setup({ ...CLOUD, state: "ready", checkoutDir: "/root/.sam/w-gpu/checkout" });
    const tools = await screen.findByTestId("workspace-tools");
    expect(tools).toHaveTextContent("ssh sam-gpu-box");
    await user.click(within(tools).getByTestId("workspace-open-vscode"));
    const asking = await screen.findByTestId("workspace-needs-remote-editing");
    expect(asking).toHaveTextContent("does not include SAM's entries yet");
    expect(asking).toHaveTextContent("Include /home/ada/.local/share/sam/ssh/config");
    expect(asking).toHaveTextContent("ssh -F");
    expect(mocked.remoteEditingSet).not.toHaveBeenCalled();

    await user.click(within(asking).getByRole("button", { name: "Turn on remote editing and open" }));
    expect(mocked.remoteEditingSet).toHaveBeenCalledWith(true);
    expect(await screen.findByTestId("workspace-open-done")).toHaveTextContent("Remote-SSH");
    expect(screen.queryByTestId("workspace-needs-remote-editing")).not.toBeInTheDocument();
    expect(mocked.workspaceOpenVscode).toHaveBeenCalledTimes(2);
  });

  it("offers no terminal or VS Code before a workspace is ready", async () => {
    setup(CLOUD);
    await screen.findByRole("progressbar");
    expect(screen.queryByTestId("workspace-tools")).not.toBeInTheDocument();
  });
});
