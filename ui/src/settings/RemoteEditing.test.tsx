import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { RemoteEditing as Status } from "../bindings";
import * as ipc from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { RemoteEditing } from "./RemoteEditing";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, remoteEditingGet: vi.fn(), remoteEditingSet: vi.fn() };
});
const mocked = vi.mocked(ipc);

const OFF: Status = {
  enabled: false,
  userConfig: "/home/ada/.ssh/config",
  includeLine: 'Include "/home/ada/.local/share/sam/ssh/config"',
  agentAvailable: true,
};

function renderIt() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <RemoteEditing />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.remoteEditingGet.mockResolvedValue(OFF);
  mocked.remoteEditingSet.mockImplementation(async (on: boolean) => ({ ...OFF, enabled: on }));
});

describe("remote editing", () => {
  it("shows the exact line it adds to the user's ssh config before it is turned on, then turns it on", async () => {
    const { user } = renderIt();
    expect(await screen.findByTestId("remote-editing-line")).toHaveTextContent('Include "/home/ada/.local/share/sam/ssh/config"');
    expect(screen.getByTestId("remote-editing")).toHaveTextContent("/home/ada/.ssh/config");
    const toggle = screen.getByTestId("remote-editing-toggle");
    expect(toggle).not.toBeChecked();
    await user.click(toggle);
    expect(mocked.remoteEditingSet).toHaveBeenCalledWith(true);
    expect(await screen.findByTestId("remote-editing-toggle")).toBeChecked();
  });

  it("says files stay copies without an ssh-agent, and shows a refused change", async () => {
    mocked.remoteEditingGet.mockResolvedValue({ ...OFF, agentAvailable: false });
    mocked.remoteEditingSet.mockRejectedValueOnce(new ipc.IpcError("invalid_input", "could not write /home/ada/.ssh/config: Permission denied"));
    const { user } = renderIt();
    expect(await screen.findByTestId("remote-editing-no-agent")).toHaveTextContent("ssh-agent");
    await user.click(screen.getByTestId("remote-editing-toggle"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Permission denied");
    expect(screen.getByTestId("remote-editing-toggle")).not.toBeChecked();
  });
});
