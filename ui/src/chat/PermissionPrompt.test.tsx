import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { PermissionPrompt } from "./PermissionPrompt";
import { applyEvents, createChatState, type PermissionItem } from "./reducer";
import { ev, makeEvents } from "./testing/events";
import type { ChatEventBody, PermissionOutcome } from "./types";

const OPTIONS = [
  { option_id: "opt-allow", name: "Allow once", kind: "allow_once" },
  { option_id: "opt-always", name: "Always allow", kind: "allow_always" },
  { option_id: "opt-reject", name: "Reject", kind: "reject_once" },
  { option_id: "opt-never", name: "Never", kind: "reject_always" },
];

function permissionItem(outcome?: PermissionOutcome | "turn-ended"): PermissionItem {
  const bodies: ChatEventBody[] = [
    ev.prompt(1, "fix it"),
    ev.permission(
      42,
      {
        toolCallId: "t1",
        title: "Edit src/lib.rs",
        kind: "edit",
        locations: [{ path: "src/lib.rs", line: 10 }],
        content: [{ type: "diff", path: "src/lib.rs", oldText: "let a = 1;\n", newText: "let a = 2;\n" }],
      },
      OPTIONS,
    ),
  ];
  if (outcome === "turn-ended") bodies.push(ev.turnEnded(1, "cancelled"));
  else if (outcome) bodies.push(ev.resolved(42, outcome));
  const state = applyEvents(createChatState(), makeEvents(bodies));
  return state.items[1] as PermissionItem;
}

function setup(item: PermissionItem, onAnswer = vi.fn().mockResolvedValue(undefined)) {
  const onOpenLocation = vi.fn();
  const user = userEvent.setup();
  const view = render(<PermissionPrompt item={item} onAnswer={onAnswer} onOpenLocation={onOpenLocation} />);
  return { user, onAnswer, onOpenLocation, ...view };
}

describe("PermissionPrompt", () => {
  it("shows what the agent wants to do and its options, allow and reject styled apart", () => {
    setup(permissionItem());
    const prompt = screen.getByTestId("chat-permission");
    expect(prompt).toHaveAccessibleName("The agent asks to edit: Edit src/lib.rs");
    expect(within(prompt).getByTestId("chat-diff")).toHaveTextContent("-let a = 1;");
    expect(within(prompt).getByTestId("chat-diff")).toHaveTextContent("+let a = 2;");
    const group = within(prompt).getByRole("group", { name: "Your answer" });
    const buttons = within(group).getAllByRole("button");
    expect(buttons.map((button) => button.textContent)).toEqual(["Allow once", "Always allow", "Reject", "Never"]);
    expect(buttons[0]).toHaveClass("button--primary");
    expect(buttons[2]).toHaveClass("button--danger-text");
    expect(buttons[3]).toHaveClass("button--danger-text");
    expect(buttons[1]).not.toHaveClass("button--danger-text");
  });

  it("answers with the request number and the option id, disabled while the answer travels", async () => {
    let finish!: () => void;
    const onAnswer = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    const { user, rerender, onOpenLocation } = setup(permissionItem(), onAnswer);
    await user.click(screen.getByRole("button", { name: "Always allow" }));
    expect(onAnswer).toHaveBeenCalledExactlyOnceWith(42, "opt-always");
    for (const button of within(screen.getByRole("group", { name: "Your answer" })).getAllByRole("button")) expect(button).toBeDisabled();
    expect(screen.getByRole("button", { name: "Always allow…" })).toBeInTheDocument();
    finish();
    // The resolution arrives as an event.
    rerender(<PermissionPrompt item={permissionItem({ outcome: "selected", option_id: "opt-always", by: "desktop" })} onAnswer={onAnswer} onOpenLocation={onOpenLocation} />);
    expect(screen.queryByRole("group", { name: "Your answer" })).not.toBeInTheDocument();
    expect(screen.getByTestId("chat-permission-resolution")).toHaveTextContent("Always allowed · answered in SAM Desktop");
  });

  it("gives the buttons back and says so when the answer fails", async () => {
    const onAnswer = vi.fn().mockRejectedValue(new Error("The agent is gone"));
    const { user } = setup(permissionItem(), onAnswer);
    await user.click(screen.getByRole("button", { name: "Reject" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not answer: The agent is gone");
    await waitFor(() => expect(screen.getByRole("button", { name: "Reject" })).toBeEnabled());
  });

  it.each<[PermissionOutcome | "turn-ended", string]>([
    [{ outcome: "selected", option_id: "opt-allow", by: "desktop" }, "Allowed once · answered in SAM Desktop"],
    [{ outcome: "selected", option_id: "opt-reject", by: "cli" }, "Rejected · answered from the terminal"],
    [{ outcome: "selected", option_id: "opt-never", by: "notification" }, "Always rejected · answered from a notification"],
    [{ outcome: "selected", option_id: "mystery", by: "phone" }, "Chose “mystery” · answered by phone"],
    [{ outcome: "expired" }, "Expired"],
    [{ outcome: "cancelled" }, "Cancelled"],
    ["turn-ended", "No answer: the turn ended first"],
  ])("shows the resolution %j as “%s”", (outcome, text) => {
    setup(permissionItem(outcome));
    expect(screen.getByTestId("chat-permission-resolution")).toHaveTextContent(text);
    expect(screen.queryByRole("button", { name: "Allow once" })).not.toBeInTheDocument();
    expect(screen.getByTestId("chat-permission")).toHaveAccessibleName("The agent asked to edit: Edit src/lib.rs");
  });

  it("opens the locations it is about", async () => {
    const { user, onOpenLocation } = setup(permissionItem());
    await user.click(screen.getByRole("button", { name: "Open src/lib.rs:10" }));
    expect(onOpenLocation).toHaveBeenCalledWith("src/lib.rs", 10);
  });
});
