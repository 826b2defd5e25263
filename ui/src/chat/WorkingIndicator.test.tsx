import { act, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { formatElapsed } from "./format";
import { WorkingIndicator } from "./WorkingIndicator";

describe("WorkingIndicator", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "setTimeout", "clearTimeout", "Date"] });
    vi.setSystemTime(new Date("2026-03-01T10:00:00Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ticks the elapsed time every second as m:ss", () => {
    const since = Date.now() - 5_000;
    render(<WorkingIndicator since={since} silentMs={null} onCancel={vi.fn()} />);
    const elapsed = screen.getByTestId("chat-working-elapsed");
    expect(elapsed).toHaveTextContent("0:05");
    act(() => vi.advanceTimersByTime(1000));
    expect(elapsed).toHaveTextContent("0:06");
    act(() => vi.advanceTimersByTime(60_000));
    expect(elapsed).toHaveTextContent("1:06");
    expect(screen.getByRole("status")).toHaveTextContent("The agent is working");
    expect(screen.queryByTestId("chat-working-silent")).not.toBeInTheDocument();
  });

  it("flags an agent that went silent", () => {
    render(<WorkingIndicator since={Date.now()} silentMs={300_000} onCancel={vi.fn()} />);
    expect(screen.getByTestId("chat-working-silent")).toHaveTextContent("Silent for 5 min");
  });

  it("cancels inline, and shows it is cancelling", async () => {
    vi.useRealTimers();
    const onCancel = vi.fn();
    const user = userEvent.setup();
    const { rerender } = render(<WorkingIndicator since={Date.now()} silentMs={null} onCancel={onCancel} />);
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onCancel).toHaveBeenCalledOnce();
    rerender(<WorkingIndicator since={Date.now()} silentMs={null} onCancel={onCancel} cancelling />);
    expect(screen.getByRole("button", { name: "Cancel" })).toBeDisabled();
    expect(screen.getByRole("status")).toHaveTextContent("Cancelling…");
  });

  it("formats elapsed times", () => {
    expect([0, 999, 59_999, 60_000, 605_000, 3_599_000, 3_600_000, 3_725_000, -5].map(formatElapsed)).toEqual([
      "0:00",
      "0:00",
      "0:59",
      "1:00",
      "10:05",
      "59:59",
      "1:00:00",
      "1:02:05",
      "0:00",
    ]);
  });
});
