import { beforeEach, describe, expect, it, vi } from "vitest";
import { commands } from "../bindings";
import { workspace } from "../test/fakeWorkspaces";
import type { AppInfo } from "./ipc";
import {
  addCredential,
  checkCredential,
  getAppInfo,
  getCredentialKinds,
  IpcError,
  listCredentials,
  openConsole,
  removeCredential,
  renameCredential,
  setCredentialActive,
  listWorkspaces,
  getWorkspace,
  createWorkspace,
  retryWorkspace,
  deleteWorkspace,
  getCloudLocations,
  getCloudSizes,
  notifyUiReady,
  sendTestNotification,
  setPreferences,
  toIpcError,
} from "./ipc";

vi.mock("../bindings", () => ({
  commands: {
    appInfo: vi.fn(),
    doctor: vi.fn(),
    getPreferences: vi.fn(),
    setPreferences: vi.fn(),
    listWorkspaces: vi.fn(),
    getWorkspace: vi.fn(),
    createWorkspace: vi.fn(),
    retryWorkspace: vi.fn(),
    deleteWorkspace: vi.fn(),
    cloudLocations: vi.fn(),
    cloudSizes: vi.fn(),
    sendTestNotification: vi.fn(),
    uiReady: vi.fn(),
    credentialKinds: vi.fn(),
    listCredentials: vi.fn(),
    addCredential: vi.fn(),
    checkCredential: vi.fn(),
    renameCredential: vi.fn(),
    setCredentialActive: vi.fn(),
    removeCredential: vi.fn(),
    openConsole: vi.fn(),
  },
}));

const mocked = vi.mocked(commands);

const appInfo: AppInfo = {
  name: "SAM",
  version: "1.2.3",
  dataDir: "/data",
  logDir: "/logs",
  trayAvailable: true,
  platform: "linux",
  database: { state: "ok" },
};

describe("shared/ipc", () => {
  beforeEach(() => {
    vi.resetAllMocks();
  });

  it("passes data through on success", async () => {
    mocked.appInfo.mockResolvedValue({ status: "ok", data: appInfo });
    await expect(getAppInfo()).resolves.toEqual(appInfo);

    const ready = workspace({ id: "w1" });
    mocked.listWorkspaces.mockResolvedValue({ status: "ok", data: [ready] });
    await expect(listWorkspaces()).resolves.toEqual([ready]);
  });

  it("forwards arguments to the command", async () => {
    mocked.setPreferences.mockResolvedValue({ status: "ok", data: { theme: "dark", fluidBackground: false } });
    await expect(setPreferences({ theme: "dark", fluidBackground: false })).resolves.toEqual({ theme: "dark", fluidBackground: false });
    expect(mocked.setPreferences).toHaveBeenCalledWith({ theme: "dark", fluidBackground: false });
  });

  it("maps an error result to a thrown IpcError with the same code and message", async () => {
    mocked.appInfo.mockResolvedValue({ status: "error", error: { code: "database", message: "database is locked" } });
    const error = await getAppInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect(error).toMatchObject({ code: "database", message: "database is locked", name: "IpcError" });
  });

  it.each(["internal", "invalid_input", "not_found", "database", "unavailable", "io"] as const)(
    "keeps the %s code",
    async (code) => {
      mocked.sendTestNotification.mockResolvedValue({ status: "error", error: { code, message: `failed: ${code}` } });
      await expect(sendTestNotification()).rejects.toMatchObject({ code, message: `failed: ${code}` });
    },
  );

  it("maps a bare string rejection (unknown command) to an internal IpcError", async () => {
    mocked.listWorkspaces.mockResolvedValue({ status: "error", error: "command list_workspaces not found" as never });
    await expect(listWorkspaces()).rejects.toMatchObject({
      code: "internal",
      message: "command list_workspaces not found",
    });
  });

  it("maps a thrown Error outside the desktop app to an unavailable IpcError", async () => {
    mocked.appInfo.mockRejectedValue(new TypeError("window.__TAURI_INTERNALS__ is undefined"));
    const error = await getAppInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IpcError);
    expect((error as IpcError).code).toBe("unavailable");
  });

  it("maps a thrown Error inside the desktop app to an internal IpcError with its message", async () => {
    vi.stubGlobal("isTauri", true);
    mocked.appInfo.mockRejectedValue(new Error("boom"));
    await expect(getAppInfo()).rejects.toMatchObject({ code: "internal", message: "boom" });
  });

  it("toIpcError leaves IpcErrors alone and rejects unknown codes", () => {
    const original = new IpcError("io", "disk full");
    expect(toIpcError(original)).toBe(original);
    expect(toIpcError({ code: "nope", message: "x" })).toMatchObject({ code: "internal" });
  });

  it("forwards the credential commands' arguments and results", async () => {
    const summary = {
      id: "c1",
      kind: "github_token",
      label: "GitHub",
      scope: { scope: "global" },
      active: true,
      masked: "••••beef",
      createdAt: 1,
      lastCheckedAt: null,
      lastCheck: "unchecked",
      lastMessage: null,
      usedBy: [],
    } as const;
    const ok = { status: "ok", data: { ...summary, usedBy: [] as string[] } } as const;

    mocked.credentialKinds.mockResolvedValue({ status: "ok", data: [] });
    await expect(getCredentialKinds()).resolves.toEqual([]);
    mocked.listCredentials.mockResolvedValue({ status: "ok", data: [ok.data] });
    await expect(listCredentials()).resolves.toEqual([ok.data]);

    const input = { kind: "github_token", label: "GitHub", scope: { scope: "global" }, fields: { secret: "ghp_x" } } as const;
    mocked.addCredential.mockResolvedValue(ok);
    await expect(addCredential({ ...input, fields: { ...input.fields } })).resolves.toEqual(ok.data);
    expect(mocked.addCredential).toHaveBeenCalledWith(input);

    mocked.checkCredential.mockResolvedValue(ok);
    await checkCredential("c1");
    expect(mocked.checkCredential).toHaveBeenCalledWith("c1");
    mocked.renameCredential.mockResolvedValue(ok);
    await renameCredential("c1", "Work");
    expect(mocked.renameCredential).toHaveBeenCalledWith("c1", "Work");
    mocked.setCredentialActive.mockResolvedValue(ok);
    await setCredentialActive("c1", false);
    expect(mocked.setCredentialActive).toHaveBeenCalledWith("c1", false);

    mocked.removeCredential.mockResolvedValue({ status: "ok", data: null });
    await expect(removeCredential("c1")).resolves.toBeUndefined();
    expect(mocked.removeCredential).toHaveBeenCalledWith("c1");
    mocked.openConsole.mockResolvedValue({ status: "ok", data: null });
    await expect(openConsole("hetzner_token")).resolves.toBeUndefined();
    expect(mocked.openConsole).toHaveBeenCalledWith("hetzner_token");
  });

  it("maps a credential command's error to an IpcError", async () => {
    mocked.addCredential.mockResolvedValue({
      status: "error",
      error: { code: "invalid_input", message: "That looks like a GitHub token, not an Anthropic API key." },
    });
    await expect(
      addCredential({ kind: "anthropic_api_key", label: "x", scope: { scope: "global" }, fields: { secret: "ghp_x" } }),
    ).rejects.toMatchObject({ name: "IpcError", code: "invalid_input" });
  });

  it("forwards the workspace commands' arguments and results", async () => {
    const created = workspace({ id: "w2", state: "requested" });
    const spec = {
      name: "api",
      provider: "local",
      repo: { kind: "folder", path: "/home/ada/code/api" },
      branch: null,
      size: null,
      locations: [],
    } as const;
    mocked.createWorkspace.mockResolvedValue({ status: "ok", data: created });
    await expect(createWorkspace({ ...spec, locations: [] })).resolves.toEqual(created);
    expect(mocked.createWorkspace).toHaveBeenCalledWith(spec);

    mocked.getWorkspace.mockResolvedValue({ status: "ok", data: created });
    await getWorkspace("w2");
    expect(mocked.getWorkspace).toHaveBeenCalledWith("w2");
    mocked.retryWorkspace.mockResolvedValue({ status: "ok", data: created });
    await retryWorkspace("w2");
    expect(mocked.retryWorkspace).toHaveBeenCalledWith("w2");
    mocked.deleteWorkspace.mockResolvedValue({ status: "error", error: { code: "not_found", message: "No workspace" } });
    await expect(deleteWorkspace("w2")).rejects.toMatchObject({ name: "IpcError", code: "not_found" });

    mocked.cloudLocations.mockResolvedValue({ status: "ok", data: [] });
    await getCloudLocations("hetzner");
    expect(mocked.cloudLocations).toHaveBeenCalledWith("hetzner");
    mocked.cloudSizes.mockResolvedValue({ status: "ok", data: [] });
    await getCloudSizes("scaleway", "fr-par-1");
    expect(mocked.cloudSizes).toHaveBeenCalledWith("scaleway", "fr-par-1");
  });

  it("notifyUiReady swallows failures", async () => {
    mocked.uiReady.mockRejectedValue("no such command");
    await expect(notifyUiReady()).resolves.toBeUndefined();
    expect(mocked.uiReady).toHaveBeenCalledTimes(1);
  });
});
