import { fireEvent, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState, type ComponentProps } from "react";
import { describe, expect, it, vi } from "vitest";
import { Composer } from "./Composer";
import { FAKE_AGENTS } from "./testing/fakeChatApi";

type Props = Partial<ComponentProps<typeof Composer>>;

function Harness({ initial = "", ...props }: Props & { initial?: string }) {
  const [value, setValue] = useState(initial);
  return <Composer value={value} onChange={setValue} onSend={vi.fn()} blockedReason={null} {...props} />;
}

function setup(props: Props & { initial?: string } = {}) {
  const onSend = props.onSend ?? vi.fn();
  const user = userEvent.setup();
  render(<Harness {...props} onSend={onSend} />);
  const input = screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
  return { user, onSend, input };
}

describe("Composer", () => {
  it("sends on Enter, and Shift+Enter starts a new line", async () => {
    const { user, onSend, input } = setup();
    await user.type(input, "first line{Shift>}{Enter}{/Shift}second line");
    expect(input.value).toBe("first line\nsecond line");
    expect(onSend).not.toHaveBeenCalled();
    await user.keyboard("{Enter}");
    expect(onSend).toHaveBeenCalledExactlyOnceWith("first line\nsecond line");
  });

  it("sends with the Send button too, but never blank text", async () => {
    const { user, onSend, input } = setup();
    const send = screen.getByRole("button", { name: "Send" });
    expect(send).toBeDisabled();
    await user.type(input, "   {Enter}");
    expect(onSend).not.toHaveBeenCalled();
    await user.type(input, "go");
    await user.click(send);
    expect(onSend).toHaveBeenCalledWith("   go");
  });

  it("walks the history with ArrowUp at the start and ArrowDown at the end, then gives the draft back", async () => {
    const { user, input } = setup({ history: ["oldest", "middle", "newest"], initial: "my draft" });
    input.focus();
    input.setSelectionRange(3, 3);
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("my draft"); // the caret was not at the start
    input.setSelectionRange(0, 0);
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("newest");
    expect(input.selectionStart).toBe(0);
    await user.keyboard("{ArrowUp}{ArrowUp}");
    expect(input.value).toBe("oldest");
    await user.keyboard("{ArrowUp}");
    expect(input.value).toBe("oldest"); // nothing older
    input.setSelectionRange(input.value.length, input.value.length);
    await user.keyboard("{ArrowDown}");
    expect(input.value).toBe("middle");
    expect(input.selectionStart).toBe("middle".length);
    await user.keyboard("{ArrowDown}{ArrowDown}");
    expect(input.value).toBe("my draft");
  });

  it("ArrowDown does nothing when not walking the history", async () => {
    const { user, input } = setup({ history: ["a"], initial: "text" });
    input.focus();
    input.setSelectionRange(4, 4);
    await user.keyboard("{ArrowDown}");
    expect(input.value).toBe("text");
  });

  it("blocks sending while the agent works, says why, and still lets you type", async () => {
    const { user, onSend, input } = setup({ blockedReason: "The agent is working — cancel or wait" });
    await user.type(input, "next question{Enter}");
    expect(input.value).toBe("next question");
    expect(onSend).not.toHaveBeenCalled();
    const send = screen.getByRole("button", { name: "Send" });
    expect(send).toBeDisabled();
    expect(send).toHaveAccessibleDescription("The agent is working — cancel or wait");
    expect(screen.getByTestId("chat-composer-note")).toBeVisible();
  });

  it("clears on Escape, and lets Escape through when there is nothing to clear", async () => {
    const outer = vi.fn();
    const user = userEvent.setup();
    render(
      <div onKeyDown={(event) => event.key === "Escape" && outer()}>
        <Harness initial="half a thought" />
      </div>,
    );
    const input = screen.getByRole("textbox", { name: "Message" }) as HTMLTextAreaElement;
    await user.click(input);
    await user.keyboard("{Escape}");
    expect(input.value).toBe("");
    expect(outer).not.toHaveBeenCalled();
    await user.keyboard("{Escape}");
    expect(outer).toHaveBeenCalledOnce();
  });

  it("does not send while an input method is composing", () => {
    const { onSend, input } = setup({ initial: "日本" });
    fireEvent.keyDown(input, { key: "Enter", isComposing: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it("offers the agents for a new chat, unavailable ones disabled with their reason", async () => {
    const onAgent = vi.fn();
    const { user, onSend, input } = setup({ agentPicker: { agents: FAKE_AGENTS, value: "claude-code", onChange: onAgent } });
    const picker = screen.getByRole("combobox", { name: "Agent" });
    const options = screen.getAllByRole("option") as HTMLOptionElement[];
    expect(options.map((option) => [option.textContent, option.disabled])).toEqual([
      ["Claude Code", false],
      ["Codex", false],
      ["Gemini CLI — add a Google AI key", true],
    ]);
    await user.selectOptions(picker, "codex");
    expect(onAgent).toHaveBeenCalledWith("codex");
    await user.type(input, "hello{Enter}");
    expect(onSend).toHaveBeenCalledWith("hello");
  });

  it("will not send a new chat without an available agent", async () => {
    const agents = FAKE_AGENTS.map((agent) => ({ ...agent, available: false, reason: "add a key" }));
    const { user, onSend, input } = setup({ agentPicker: { agents, value: null, onChange: vi.fn() } });
    await user.type(input, "hello{Enter}");
    expect(onSend).not.toHaveBeenCalled();
    expect(screen.getByTestId("chat-composer-note")).toHaveTextContent("Pick an available agent first");
  });

  it("is fully disabled without a workspace", () => {
    setup({ disabled: true });
    expect(screen.getByRole("textbox", { name: "Message" })).toBeDisabled();
    expect(screen.getByRole("button", { name: "Send" })).toBeDisabled();
  });
});
