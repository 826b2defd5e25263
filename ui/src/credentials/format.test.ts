import { describe, expect, it } from "vitest";
import { relativeTime, scopeLabel } from "./format";

describe("relativeTime", () => {
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  const ago = (seconds: number) => relativeTime(now / 1000 - seconds, now);

  it.each([
    [0, "just now"],
    [30, "just now"],
    [60, "1 min ago"],
    [125, "2 min ago"],
    [59 * 60, "59 min ago"],
    [60 * 60, "1 hour ago"],
    [5 * 3600, "5 hours ago"],
    [24 * 3600, "yesterday"],
    [3 * 86400, "3 days ago"],
  ])("%i seconds ago reads %s", (seconds, text) => {
    expect(ago(seconds)).toBe(text);
  });

  it("treats a time in the future (clock skew) as just now", () => {
    expect(ago(-300)).toBe("just now");
  });

  it("gives a date after a month", () => {
    expect(ago(60 * 86400)).toMatch(/^on /);
  });
});

describe("scopeLabel", () => {
  it("names global and project scopes", () => {
    expect(scopeLabel({ scope: "global" })).toBe("Global");
    expect(scopeLabel({ scope: "project", project: "billing-api" })).toBe("Project: billing-api");
  });
});
