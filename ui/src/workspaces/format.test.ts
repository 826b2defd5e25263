import { describe, expect, it } from "vitest";
import { SIZES, step, workspace } from "../test/fakeWorkspaces";
import {
  defaultLocation,
  defaultSize,
  deriveName,
  formatMillis,
  looksLikeUrl,
  sizeLabel,
  specOf,
  stepRows,
  validateWorkspace,
  type WorkspaceForm,
} from "./format";

const form = (overrides: Partial<WorkspaceForm> = {}): WorkspaceForm => ({
  provider: "local",
  repo: "/home/ada/code/api",
  branch: "",
  name: "api",
  location: null,
  size: null,
  ...overrides,
});

const none = new Set<string>();

describe("validateWorkspace mirrors the core's rules", () => {
  it("accepts a local folder and a cloned URL", () => {
    expect(validateWorkspace(form(), none)).toEqual({});
    expect(validateWorkspace(form({ repo: "https://github.com/acme/api", branch: "dev" }), none)).toEqual({});
    expect(validateWorkspace(form({ repo: "git@github.com:acme/api.git" }), none)).toEqual({});
    expect(
      validateWorkspace(form({ provider: "hetzner", repo: "ssh://git@host/api", location: "fsn1", size: "cx33" }), none),
    ).toEqual({});
  });

  it.each([
    ["", /1 to 40 lower-case letters/],
    ["API", /1 to 40 lower-case letters/],
    ["-api", /not starting or ending with a dash/],
    ["api-", /not starting or ending with a dash/],
    ["my api", /1 to 40/],
    ["a".repeat(41), /1 to 40/],
  ])("refuses the name %j", (name, message) => {
    expect(validateWorkspace(form({ name }), none).name).toMatch(message);
  });

  it("refuses a name a live workspace has", () => {
    expect(validateWorkspace(form({ name: "api" }), new Set(["api"])).name).toBe(
      'A workspace named "api" already exists. Pick another name.',
    );
  });

  it.each([
    ["", "Enter a git URL or the path of a folder on this computer."],
    ["code/api", "The folder must be an absolute path."],
    ["~/code/api", "Write the folder's full path (starting with /): SAM does not expand ~."],
    ["ftp://host/api", /is not a repository URL/],
    ["https://host/my repo", /is not a repository URL/],
  ])("refuses the repository %j", (repo, message) => {
    expect(validateWorkspace(form({ repo }), none).repo).toMatch(message);
  });

  it("keeps folders to local workspaces and branches to clones", () => {
    expect(validateWorkspace(form({ provider: "scaleway", location: "fr-par-1", size: "DEV1-L" }), none).repo).toMatch(
      /a folder on this computer can only be a local workspace/,
    );
    expect(validateWorkspace(form({ branch: "main" }), none).branch).toBe(
      "A folder is used as it is: switch its branch with git.",
    );
    expect(validateWorkspace(form({ repo: "https://h/x", branch: "-rf" }), none).branch).toBe('"-rf" is not a branch name.');
    expect(validateWorkspace(form({ repo: "https://h/x", branch: "a b" }), none).branch).toMatch(/not a branch name/);
  });

  it("asks a cloud workspace for a location and a size", () => {
    const problems = validateWorkspace(form({ provider: "hetzner", repo: "https://h/x" }), none);
    expect(problems).toEqual({ location: "Pick a location.", size: "Pick a size." });
  });
});

describe("deriveName", () => {
  it.each([
    ["https://github.com/acme/Billing_API.git", "billing-api"],
    ["git@github.com:acme/api.git", "api"],
    ["/home/ada/code/My Project/", "my-project"],
    ["/", "workspace"],
    ["", "workspace"],
    [`/x/${"a".repeat(39)}-b`, "a".repeat(39)],
  ])("names %j %j", (repo, name) => {
    expect(deriveName(repo, none)).toBe(name);
  });

  it("adds a number when the name is taken", () => {
    expect(deriveName("/code/api", new Set(["api", "api-2"]))).toBe("api-3");
  });

  it("always gives a name the rules accept", () => {
    for (const repo of ["https://x/--weird--.git", "/tmp/.tmpAbC_12", `/${"z".repeat(60)}`]) {
      const name = deriveName(repo, new Set([deriveName(repo, none)]));
      expect(validateWorkspace(form({ name }), none).name).toBeUndefined();
    }
  });
});

describe("specOf", () => {
  it("sends a folder without a branch, size or locations", () => {
    expect(specOf(form({ repo: " /home/ada/code/api ", name: " api " }))).toEqual({
      name: "api",
      provider: "local",
      repo: { kind: "folder", path: "/home/ada/code/api" },
      branch: null,
      size: null,
      locations: [],
    });
  });

  it("sends a cloud workspace's size and location", () => {
    expect(specOf(form({ provider: "hetzner", repo: "https://github.com/acme/api", branch: "dev", location: "fsn1", size: "cx33" }))).toEqual({
      name: "api",
      provider: "hetzner",
      repo: { kind: "url", url: "https://github.com/acme/api" },
      branch: "dev",
      size: "cx33",
      locations: ["fsn1"],
    });
  });
});

describe("formatting", () => {
  it("formats step timings", () => {
    expect(formatMillis(0)).toBe("0 ms");
    expect(formatMillis(420)).toBe("420 ms");
    expect(formatMillis(1260)).toBe("1.3 s");
    expect(formatMillis(125_000)).toBe("2 min 5 s");
  });

  it("labels a size with vCPU, memory and prices", () => {
    const [, medium, arm] = SIZES;
    expect(sizeLabel(medium!)).toMatch(/^cx33 · 4 vCPU · 8 GB · .*0\.0097\/h · .*5\.99\/month \(recommended\)$/);
    expect(sizeLabel(arm!)).toMatch(/^cax21 · 4 vCPU · 8 GB · arm64 · .*\(out of stock\)$/);
  });

  it("defaults to the medium size and the preferred location", () => {
    expect(defaultSize(SIZES)).toBe("cx33");
    expect(defaultSize(SIZES.filter((s) => s.preset !== "medium"))).toBe("cx23");
    expect(defaultSize([])).toBeNull();
    expect(defaultLocation("hetzner", ["hel1", "fsn1"])).toBe("fsn1");
    expect(defaultLocation("scaleway", ["pl-waw-1"])).toBe("pl-waw-1");
  });

  it("tells URLs from folders the way the CLI does", () => {
    expect(looksLikeUrl("https://x/y")).toBe(true);
    expect(looksLikeUrl("git@host:path")).toBe(true);
    expect(looksLikeUrl("/home/ada/code")).toBe(false);
  });
});

describe("stepRows", () => {
  it("lists the expected steps in order with what is recorded, then unknown ones", () => {
    const rows = stepRows(
      workspace({
        spec: { provider: "hetzner", repo: { kind: "url", url: "https://h/x" } },
        steps: [step("create_server", "done", 900), step("ensure_ssh_key", "done", 120), step("future_step", "running")],
      }),
    );
    expect(rows.map((row) => `${row.step}:${row.state}`)).toEqual([
      "ensure_ssh_key:done",
      "create_server:done",
      "wait_for_ip:pending",
      "wait_for_ssh:pending",
      "upload_host:pending",
      "start_host:pending",
      "checkout:pending",
      "future_step:running",
    ]);
  });
});
