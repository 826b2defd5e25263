import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { BudgetSection } from "./BudgetSection";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return { ...actual, budgetGet: vi.fn(), budgetSet: vi.fn() };
});
const mocked = vi.mocked(ipc);

function renderIt() {
  const user = userEvent.setup();
  render(
    <QueryClientProvider client={createQueryClient()}>
      <BudgetSection />
    </QueryClientProvider>,
  );
  return { user };
}

beforeEach(() => {
  mocked.budgetGet.mockResolvedValue({ limit: null, spent: 3.2, currency: "EUR", percent: null });
  mocked.budgetSet.mockImplementation(async (limit: number | null) => ({
    limit,
    spent: 3.2,
    currency: "EUR",
    percent: limit === null ? null : Math.floor((3.2 / limit) * 100),
  }));
});

describe("the cloud budget", () => {
  it("shows this month's spending, sets a budget and says when it is used up", async () => {
    const { user } = renderIt();
    expect(await screen.findByTestId("budget-spent")).toHaveTextContent("3.20 this month");
    await user.type(screen.getByTestId("budget-limit"), "3");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(mocked.budgetSet).toHaveBeenCalledWith(3);
    expect(await screen.findByTestId("budget-exhausted")).toHaveTextContent("new cloud workspaces are refused");
    expect(screen.getByTestId("budget-spent")).toHaveTextContent("(106%)");
  });

  it("removes the budget when the field is emptied, and shows a refusal", async () => {
    mocked.budgetGet.mockResolvedValue({ limit: 20, spent: 3.2, currency: "EUR", percent: 16 });
    mocked.budgetSet.mockRejectedValueOnce(new ipc.IpcError("invalid_input", "A monthly budget must be an amount above 0"));
    const { user } = renderIt();
    const field = await screen.findByTestId("budget-limit");
    await waitFor(() => expect(field).toHaveValue("20"));
    await user.clear(field);
    await user.type(field, "-5");
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("above 0");
    await user.clear(field);
    await user.click(screen.getByRole("button", { name: "Save" }));
    expect(mocked.budgetSet).toHaveBeenLastCalledWith(null);
  });
});
