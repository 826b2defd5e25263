import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { IdlePolicy } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { IdlePolicySection } from "./IdlePolicySection";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, idlePolicyGet: vi.fn(), idlePolicySet: vi.fn() };
});
const mocked = vi.mocked(ipc);

const DEFAULTS: IdlePolicy = { idleMinutes: 30, warnMinutes: 5, maxLifetimeHours: 24 };

function renderIt() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <IdlePolicySection />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.idlePolicyGet.mockResolvedValue(DEFAULTS);
  mocked.idlePolicySet.mockImplementation(async (thresholds: IdlePolicy) => thresholds);
});

describe("the idle policy settings", () => {
  it("shows the defaults and saves new thresholds", async () => {
    const { user } = renderIt();
    expect(await screen.findByTestId("idle-policy-summary")).toHaveTextContent(
      "Deleted after 30 minutes idle, warned 5 minutes before; at most 24 hours old.",
    );
    const idle = screen.getByLabelText("Delete after (minutes idle)");
    await waitFor(() => expect(idle).toHaveValue("30"));
    expect(screen.getByTestId("idle-policy-save")).toBeDisabled();
    await user.clear(idle);
    await user.type(idle, "45");
    await user.clear(screen.getByLabelText("Maximum lifetime (hours)"));
    await user.type(screen.getByLabelText("Maximum lifetime (hours)"), "8");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(mocked.idlePolicySet).toHaveBeenCalledWith({ idleMinutes: 45, warnMinutes: 5, maxLifetimeHours: 8 });
    expect(await screen.findByTestId("idle-policy-summary")).toHaveTextContent("45 minutes idle");
    expect(screen.getByTestId("idle-policy-summary")).toHaveTextContent("at most 8 hours old");
  });

  it("shows the core's refusal of a hostile value and keeps what the user typed", async () => {
    mocked.idlePolicySet.mockRejectedValueOnce(
      new ipc.IpcError("invalid_input", "The warning must come before the deletion: warn fewer than 30 minutes before (you asked for 30), or delete later."),
    );
    const { user } = renderIt();
    const warn = await screen.findByLabelText("Warn before (minutes)");
    await waitFor(() => expect(warn).toHaveValue("5"));
    await user.clear(warn);
    await user.type(warn, "30");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(mocked.idlePolicySet).toHaveBeenCalledWith({ idleMinutes: 30, warnMinutes: 30, maxLifetimeHours: 24 });
    expect(await screen.findByRole("alert")).toHaveTextContent("before the deletion");
    expect(warn).toHaveValue("30");
    // The summary still shows what is in force.
    expect(screen.getByTestId("idle-policy-summary")).toHaveTextContent("warned 5 minutes before");
  });

  it("asks for a number in each field before calling the core", async () => {
    const { user } = renderIt();
    const idle = await screen.findByLabelText("Delete after (minutes idle)");
    await waitFor(() => expect(idle).toHaveValue("30"));
    await user.clear(idle);
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByTestId("idle-policy-incomplete")).toHaveTextContent("Enter a number in each field.");
    await user.type(idle, "abc");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(screen.getByTestId("idle-policy-incomplete")).toBeInTheDocument();
    expect(mocked.idlePolicySet).not.toHaveBeenCalled();
    // Negative and zero values go to the core, which refuses them with the reason.
    mocked.idlePolicySet.mockRejectedValueOnce(new ipc.IpcError("invalid_input", "Delete after (minutes idle) must be a whole number of minutes from 2 to 1440 (got -5)."));
    await user.clear(idle);
    await user.type(idle, "-5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(mocked.idlePolicySet).toHaveBeenCalledWith({ idleMinutes: -5, warnMinutes: 5, maxLifetimeHours: 24 });
    expect(await screen.findByText(/from 2 to 1440/)).toBeInTheDocument();
  });
});
