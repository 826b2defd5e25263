import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";
import * as ipc from "./shared/ipc";
import type { AppInfo, DoctorReport, Preferences } from "./shared/ipc";
import type { EditorChoice, EditorSettings } from "./bindings";
import { createQueryClient } from "./shared/queries";
import { useUiStore } from "./shared/store";
import { installFakeCredentials } from "./test/fakeCredentials";
import { installFakeWorkspaces, step, workspace } from "./test/fakeWorkspaces";

vi.mock("./shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("./shared/ipc")>();
  return {
    ...actual,
    getAppInfo: vi.fn(),
    runDoctor: vi.fn(),
    getPreferences: vi.fn(),
    setPreferences: vi.fn(),
    listWorkspaces: vi.fn(),
    getWorkspace: vi.fn(),
    createWorkspace: vi.fn(),
    retryWorkspace: vi.fn(),
    deleteWorkspace: vi.fn(),
    getCloudLocations: vi.fn(),
    getCloudSizes: vi.fn(),
    sendTestNotification: vi.fn(),
    notifyUiReady: vi.fn(),
    getCredentialKinds: vi.fn(),
    listCredentials: vi.fn(),
    addCredential: vi.fn(),
    checkCredential: vi.fn(),
    renameCredential: vi.fn(),
    setCredentialActive: vi.fn(),
    removeCredential: vi.fn(),
    openConsole: vi.fn(),
    orphansGet: vi.fn(async () => ({ checkedAt: null, deleteAutomatically: false, report: null })),
    editorGet: vi.fn(),
    editorSet: vi.fn(),
    attentionWait: vi.fn(),
    remoteEditingGet: vi.fn(),
    budgetGet: vi.fn(async () => ({ limit: null, spent: 0, currency: "EUR", percent: null })),
    idlePolicyGet: vi.fn(async () => ({ idleMinutes: 30, warnMinutes: 5, maxLifetimeHours: 24 })),
    voiceDevices: vi.fn(),
    voiceSettingsGet: vi.fn(),
    attentionSetView: vi.fn(),
    attentionSetDnd: vi.fn(),
  };
});

const mocked = vi.mocked(ipc);

const EDITORS: EditorSettings = {
  choice: { kind: "auto" },
  detected: [
    { id: "vscode", name: "VS Code", choice: { kind: "editor", id: "vscode" }, kind: "gui", program: "/usr/bin/code", opensAtLine: true, supportsRemote: true },
    { id: "zed", name: "Zed", choice: { kind: "editor", id: "zed" }, kind: "gui", program: "/usr/bin/zed", opensAtLine: true, supportsRemote: true },
    { id: "neovim", name: "Neovim", choice: { kind: "editor", id: "neovim" }, kind: "terminal", program: "/usr/bin/nvim", opensAtLine: true, supportsRemote: false },
  ],
};
const { IpcError } = ipc;

const APP_INFO: AppInfo = {
  name: "SAM Desktop",
  version: "0.3.1-test",
  dataDir: "/home/ada/.local/share/sam",
  logDir: "/home/ada/.local/state/sam/logs",
  trayAvailable: true,
  platform: "linux",
  database: { state: "ok" },
};

const DOCTOR: DoctorReport = {
  checks: [
    { id: "database", label: "Database", status: "ok", detail: "Opened sam.db (schema 3)", fix: null },
    {
      id: "tray",
      label: "System tray",
      status: "warning",
      detail: "libayatana-appindicator3-1 not found",
      fix: "sudo apt install libayatana-appindicator3-1",
    },
    {
      id: "notifications",
      label: "Notifications",
      status: "error",
      detail: "No notification daemon on the session bus",
      fix: "Start a notification daemon such as dunst",
    },
  ],
};

function renderApp() {
  const client = createQueryClient();
  const user = userEvent.setup();
  const utils = render(
    <QueryClientProvider client={client}>
      <App />
    </QueryClientProvider>,
  );
  return { ...utils, user, client };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

beforeEach(() => {
  mocked.getAppInfo.mockResolvedValue(APP_INFO);
  mocked.getPreferences.mockResolvedValue({ theme: "system", fluidBackground: true });
  mocked.setPreferences.mockImplementation(async (preferences: Preferences) => preferences);
  installFakeWorkspaces(mocked);
  mocked.runDoctor.mockResolvedValue(DOCTOR);
  mocked.sendTestNotification.mockResolvedValue(undefined);
  mocked.notifyUiReady.mockResolvedValue(undefined);
  mocked.editorGet.mockResolvedValue(EDITORS);
  mocked.editorSet.mockImplementation(async (choice: EditorChoice) => ({ ...EDITORS, choice }));
  installFakeCredentials(mocked);
  // The queue: one snapshot with a request waiting, then no change (the long poll hangs).
  mocked.attentionWait.mockImplementation(async (after: number) =>
    after === 0
      ? {
          revision: 1,
          doNotDisturb: false,
          open: null,
          items: [
            {
              ageMs: 60_000,
              request: { sessionId: "s1", workspaceId: "w1", request: 1, seq: 4, title: "Write notes.md", options: [], requestedAtMs: 0 },
            },
          ],
        }
      : new Promise(() => undefined),
  );
  mocked.attentionSetView.mockResolvedValue(undefined);
  mocked.remoteEditingGet.mockResolvedValue({ enabled: false, userConfig: "/home/ada/.ssh/config", includeLine: 'Include "/x/ssh/config"', agentAvailable: true });
  mocked.voiceDevices.mockResolvedValue([{ id: "default", name: "Default microphone", isDefault: true }]);
  mocked.voiceSettingsGet.mockResolvedValue({
    settings: { device: null, mode: "push_to_talk", silenceMs: 800, credential: null, model: null, language: null, engine: "cloud", localModel: null, shortcut: null },
    credentials: [],
    shortcutProblem: null,
  });
  useUiStore.setState({ view: "chat", addCredentialKind: null, workspaceId: null, newWorkspaceOpen: false });
  document.documentElement.removeAttribute("data-theme");
  localStorage.clear();
});

describe("shell", () => {
  it("counts the requests that wait for the user on the navigation, and opens the queue", async () => {
    const { user } = renderApp();
    expect(await screen.findByTestId("needs-you-count")).toHaveTextContent("1");
    await user.click(screen.getByTestId("nav-needs-you"));
    expect(await screen.findByTestId("needs-you-item")).toHaveTextContent("Write notes.md");
    // No chat is on screen in the queue view: notifications for every chat may show.
    await waitFor(() => expect(mocked.attentionSetView).toHaveBeenLastCalledWith(null));
  });

  it("shows the sidebar and chat empty states when there are no workspaces", async () => {
    renderApp();
    expect(screen.getByTestId("app-shell")).toBeInTheDocument();

    const empty = await screen.findByTestId("workspaces-empty");
    expect(within(screen.getByTestId("sidebar")).getByTestId("workspaces-empty")).toBe(empty);
    expect(empty).toHaveTextContent(/folder on this computer/i);
    expect(empty).toHaveTextContent(/Hetzner or Scaleway/);
    expect(within(empty).getByRole("button", { name: /use this computer/i })).not.toHaveAttribute("aria-disabled");
    expect(within(empty).getByRole("button", { name: /add a cloud account/i })).not.toHaveAttribute("aria-disabled");

    const main = screen.getByTestId("main-empty");
    expect(main).toHaveTextContent("Pick or create a workspace to start a chat with an agent");
    for (const agent of ["Claude Code", "Codex", "Gemini CLI", "Mistral Vibe", "OpenCode"]) {
      expect(main).toHaveTextContent(agent);
    }
    expect(screen.getByRole("textbox", { name: "Message" })).toBeDisabled();
    expect(screen.getByRole("main")).toBeInTheDocument();
    expect(screen.getByRole("navigation", { name: "Main" })).toBeInTheDocument();
    expect(screen.getByRole("complementary", { name: "Sidebar" })).toBeInTheDocument();
  });

  it("lists workspaces when there are some, and shows the one picked in the main area", async () => {
    installFakeWorkspaces(mocked, [
      workspace({ id: "1", spec: { name: "billing-api" }, state: "ready", steps: [step("start_host", "done", 80), step("checkout", "done", 20)] }),
      workspace({ id: "2", spec: { name: "gpu-box", provider: "hetzner" }, state: "deleted" }),
    ]);
    const { user } = renderApp();
    const sidebar = screen.getByTestId("sidebar");
    expect(await within(sidebar).findByText("billing-api")).toBeInTheDocument();
    expect(within(sidebar).getByText("gpu-box")).toBeInTheDocument();
    expect(screen.queryByTestId("workspaces-empty")).not.toBeInTheDocument();

    await user.click(within(sidebar).getByRole("button", { name: /billing-api/ }));
    const view = await screen.findByTestId("workspace-view");
    expect(within(view).getByRole("heading", { level: 1 })).toHaveTextContent("billing-api");
    expect(await within(view).findByTestId("workspace-state")).toHaveTextContent("Ready");
    expect(screen.getByTestId("nav-chat")).not.toHaveAttribute("aria-current");

    // Escape leaves the workspace for its chat.
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("workspace-view")).not.toBeInTheDocument();
    expect(screen.getByTestId("nav-chat")).toHaveAttribute("aria-current");
    expect(screen.getByRole("textbox", { name: "Message" })).toBeInTheDocument();
  });

  it("opens the New workspace dialog from the chat, the sidebar and Ctrl+N; Escape closes only the dialog", async () => {
    const { user } = renderApp();
    await user.click(within(screen.getByTestId("main-empty")).getByRole("button", { name: "New workspace" }));
    expect(await screen.findByRole("dialog", { name: "New workspace" })).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("nav-settings"));
    await user.keyboard("{Control>}n{/Control}");
    expect(await screen.findByRole("dialog", { name: "New workspace" })).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    expect(screen.getByTestId("settings-view")).toBeInTheDocument();
  });

  it("shows an inline alert worded by error code when workspaces fail to load", async () => {
    mocked.listWorkspaces.mockRejectedValue(new IpcError("database", "database is locked"));
    renderApp();
    const alert = await within(screen.getByTestId("sidebar")).findByRole("alert");
    expect(alert).toHaveTextContent("database is locked");
    expect(alert).toHaveTextContent(/database error/i);
  });

  it("calls uiReady once after the first render", async () => {
    renderApp();
    await waitFor(() => expect(mocked.notifyUiReady).toHaveBeenCalledTimes(1));
  });
});

describe("navigation", () => {
  it("switches views by clicking the nav buttons", async () => {
    const { user } = renderApp();
    expect(screen.getByTestId("nav-chat")).toHaveAttribute("aria-current", "page");

    await user.click(screen.getByTestId("nav-settings"));
    expect(screen.getByTestId("settings-view")).toBeInTheDocument();
    expect(screen.getByTestId("nav-settings")).toHaveAttribute("aria-current", "page");
    expect(screen.getByTestId("nav-chat")).not.toHaveAttribute("aria-current");

    await user.click(screen.getByTestId("nav-about"));
    expect(screen.getByTestId("about-view")).toBeInTheDocument();
    expect(screen.queryByTestId("settings-view")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("nav-credentials"));
    expect(await screen.findByTestId("credentials-view")).toBeInTheDocument();
    expect(screen.getByTestId("nav-credentials")).toHaveAttribute("aria-current", "page");

    await user.click(screen.getByTestId("nav-chat"));
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();
  });

  it("lists Needs you after Chat, and Credentials before Settings with its shortcut", () => {
    renderApp();
    const nav = screen.getByRole("navigation", { name: "Main" });
    const ids = within(nav)
      .getAllByRole("button")
      .map((button) => button.dataset.testid);
    expect(ids).toEqual(["nav-chat", "nav-needs-you", "nav-credentials", "nav-settings", "nav-about"]);
    expect(screen.getByTestId("nav-credentials")).toHaveTextContent(/Credentials.*\+2/);
    expect(screen.getByTestId("nav-credentials")).toHaveAttribute("aria-keyshortcuts", "Control+2");
  });

  it("switches views with keyboard shortcuts and Escape", async () => {
    const { user } = renderApp();

    await user.keyboard("{Control>},{/Control}");
    expect(screen.getByTestId("settings-view")).toBeInTheDocument();

    await user.keyboard("{Control>}1{/Control}");
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();

    await user.keyboard("{Control>}2{/Control}");
    expect(screen.getByTestId("credentials-view")).toBeInTheDocument();
    await user.keyboard("{Escape}");
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();

    await user.keyboard("{Meta>},{/Meta}");
    expect(screen.getByTestId("settings-view")).toBeInTheDocument();

    await user.keyboard("{Escape}");
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();

    await user.click(screen.getByTestId("nav-about"));
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("about-view")).not.toBeInTheDocument();
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();
  });

  it("moves focus between nav items with the arrow keys", async () => {
    const { user } = renderApp();
    screen.getByTestId("nav-chat").focus();

    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-needs-you")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-credentials")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-settings")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-about")).toHaveFocus();
    await user.keyboard("{ArrowDown}");
    expect(screen.getByTestId("nav-chat")).toHaveFocus();
    await user.keyboard("{ArrowUp}");
    expect(screen.getByTestId("nav-about")).toHaveFocus();

    await user.keyboard("{Enter}");
    expect(screen.getByTestId("about-view")).toBeInTheDocument();
  });

  it("starts the tab order with a skip link that focuses the main area", async () => {
    const { user } = renderApp();
    await user.tab();
    const skip = screen.getByRole("link", { name: "Skip to main content" });
    expect(skip).toHaveFocus();
    await user.keyboard("{Enter}");
    expect(screen.getByRole("main")).toHaveFocus();
  });
});

describe("credentials onboarding", () => {
  it("opens the add form for a cloud kind from the sidebar's empty state", async () => {
    const { user } = renderApp();
    const empty = await screen.findByTestId("workspaces-empty");
    await user.click(within(empty).getByTestId("workspaces-add-cloud"));

    expect(screen.getByTestId("credentials-view")).toBeInTheDocument();
    expect(screen.getByTestId("nav-credentials")).toHaveAttribute("aria-current", "page");
    const kind = await screen.findByTestId<HTMLSelectElement>("credential-kind");
    expect(kind.value).toBe("hetzner_token");
    expect(screen.getByTestId("credential-field-secret")).toHaveAttribute("type", "password");
  });

  it("closes the form with Escape before Escape leaves the view", async () => {
    const { user } = renderApp();
    await user.click(await screen.findByTestId("workspaces-add-cloud"));
    await screen.findByTestId("credential-form");

    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("credential-form")).not.toBeInTheDocument();
    expect(screen.getByTestId("credentials-view")).toBeInTheDocument();

    await user.keyboard("{Escape}");
    expect(screen.getByTestId("main-empty")).toBeInTheDocument();
  });

  it("opens the credentials view from settings", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    const section = screen.getByRole("region", { name: "Credentials" });
    expect(section).toHaveTextContent(/keyring/);
    await user.click(within(section).getByRole("button", { name: /manage credentials/i }));
    expect(screen.getByTestId("credentials-view")).toBeInTheDocument();
  });
});

describe("about", () => {
  it("shows the version and paths from appInfo", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-about"));
    const version = await screen.findByTestId("about-version");
    expect(version.textContent).toBe("0.3.1-test");
    const about = screen.getByTestId("about-view");
    expect(about).toHaveTextContent(APP_INFO.dataDir);
    expect(about).toHaveTextContent(APP_INFO.logDir);
    expect(about).toHaveTextContent("linux");
    expect(about).not.toHaveTextContent("libayatana-appindicator3-1");
  });

  it("explains a missing tray", async () => {
    mocked.getAppInfo.mockResolvedValue({ ...APP_INFO, trayAvailable: false });
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-about"));
    expect(await screen.findByText(/runs without a tray/)).toHaveTextContent("libayatana-appindicator3-1");
  });
});

describe("settings", () => {
  it("saves the theme optimistically and applies data-theme on <html>", async () => {
    const save = deferred<Preferences>();
    mocked.setPreferences.mockReturnValueOnce(save.promise);
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));

    const select = screen.getByTestId<HTMLSelectElement>("theme-select");
    await waitFor(() => expect(select).toBeEnabled());
    expect(select).toHaveAccessibleName("Theme");
    expect(select.value).toBe("system");

    await user.selectOptions(select, "dark");
    expect(mocked.setPreferences).toHaveBeenCalledWith({ theme: "dark", fluidBackground: true });
    // Applied before the core answered.
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "dark"));
    expect(select.value).toBe("dark");
    save.resolve({ theme: "dark", fluidBackground: true });

    await user.selectOptions(select, "light");
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "light"));

    await user.selectOptions(select, "system");
    await waitFor(() => expect(document.documentElement).not.toHaveAttribute("data-theme"));
    expect(mocked.setPreferences).toHaveBeenLastCalledWith({ theme: "system", fluidBackground: true });
  });

  it("rolls the theme back and shows the error when saving fails", async () => {
    mocked.setPreferences.mockRejectedValue(new IpcError("io", "read-only file system"));
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    const select = screen.getByTestId<HTMLSelectElement>("theme-select");
    await waitFor(() => expect(select).toBeEnabled());

    await user.selectOptions(select, "dark");
    const alert = await within(screen.getByTestId("settings-view")).findByRole("alert");
    expect(alert).toHaveTextContent("read-only file system");
    expect(alert).toHaveTextContent(/file system error/i);
    await waitFor(() => expect(select.value).toBe("system"));
    expect(document.documentElement).not.toHaveAttribute("data-theme");
  });

  it("picks the editor files open in, and saves a command of the user's as separate arguments", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    const select = screen.getByTestId<HTMLSelectElement>("editor-select");
    await waitFor(() => expect(select).toBeEnabled());
    expect(select).toHaveTextContent("Automatic (VS Code)");
    expect(select).toHaveTextContent("Neovim (in a terminal)");

    await user.selectOptions(select, "editor:zed");
    await waitFor(() => expect(mocked.editorSet).toHaveBeenCalledWith({ kind: "editor", id: "zed" }));
    await waitFor(() => expect(select.value).toBe("editor:zed"));

    await user.selectOptions(select, "custom");
    const command = screen.getByLabelText("Command, one argument per line");
    await user.type(command, "my editor{Enter}--at{Enter}{{file}:{{line}");
    await user.click(screen.getByRole("button", { name: "Use this command" }));
    await waitFor(() => expect(mocked.editorSet).toHaveBeenLastCalledWith({ kind: "custom", argv: ["my editor", "--at", "{file}:{line}"] }));
  });

  it("turns the fluid background off and on from the appearance settings", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    const toggle = screen.getByTestId<HTMLInputElement>("fluid-toggle");
    await waitFor(() => expect(toggle).toBeEnabled());
    expect(toggle).toBeChecked();
    await user.click(toggle);
    await waitFor(() => expect(mocked.setPreferences).toHaveBeenLastCalledWith({ theme: "system", fluidBackground: false }));
    await waitFor(() => expect(screen.getByTestId("fluid-background")).toHaveAttribute("data-state", "off"));
    expect(toggle).not.toBeChecked();
  });

  it("applies the stored theme preference on load", async () => {
    mocked.getPreferences.mockResolvedValue({ theme: "light", fluidBackground: true });
    renderApp();
    await waitFor(() => expect(document.documentElement).toHaveAttribute("data-theme", "light"));
  });

  it("sends a test notification and reports success", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    expect(screen.queryByTestId("test-notification-result")).not.toBeInTheDocument();

    await user.click(screen.getByTestId("send-test-notification"));
    const result = await screen.findByTestId("test-notification-result");
    expect(result.textContent).toMatch(/^Sent/);
    expect(mocked.sendTestNotification).toHaveBeenCalledTimes(1);
  });

  it("shows the error message when the test notification fails", async () => {
    mocked.sendTestNotification.mockRejectedValue(new IpcError("unavailable", "No notification daemon is running"));
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    await user.click(screen.getByTestId("send-test-notification"));
    const result = await screen.findByTestId("test-notification-result");
    expect(result.textContent).toBe("No notification daemon is running");
  });

  it("renders the doctor report with status and fixes", async () => {
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    const report = await screen.findByTestId("doctor-report");
    const items = within(report).getAllByRole("listitem");
    expect(items).toHaveLength(3);

    expect(items[0]).toHaveTextContent("Database");
    expect(items[0]).toHaveTextContent("OK");
    expect(items[0]).toHaveTextContent("Opened sam.db (schema 3)");
    expect(items[0]).not.toHaveTextContent("Fix:");

    expect(items[1]).toHaveTextContent("Warning");
    expect(items[1]).toHaveTextContent("Fix: sudo apt install libayatana-appindicator3-1");

    expect(items[2]).toHaveTextContent("Error");
    expect(items[2]).toHaveTextContent("No notification daemon on the session bus");
    expect(items[2]).toHaveTextContent("Fix: Start a notification daemon such as dunst");

    expect(screen.getByText("1 error, 1 warning found.")).toBeInTheDocument();
  });

  it("shows an alert when the doctor cannot run", async () => {
    mocked.runDoctor.mockRejectedValue(new IpcError("internal", "doctor crashed"));
    const { user } = renderApp();
    await user.click(screen.getByTestId("nav-settings"));
    expect(await screen.findByText("doctor crashed")).toBeInTheDocument();
    expect(screen.queryByTestId("doctor-report")).not.toBeInTheDocument();
  });
});

describe("database banner", () => {
  it("is absent when the database is ok", async () => {
    renderApp();
    await waitFor(() => expect(mocked.getAppInfo).toHaveBeenCalled());
    await screen.findByTestId("workspaces-empty");
    expect(screen.queryByTestId("db-banner")).not.toBeInTheDocument();
  });

  it("shows the message and backup path after a recovery", async () => {
    mocked.getAppInfo.mockResolvedValue({
      ...APP_INFO,
      database: {
        state: "recovered",
        message: "The database was corrupt and has been recreated.",
        backupPath: "/home/ada/.local/share/sam/sam.db.corrupt-2025",
      },
    });
    renderApp();
    const banner = await screen.findByTestId("db-banner");
    expect(banner).toHaveTextContent("The database was corrupt and has been recreated.");
    expect(banner).toHaveTextContent("/home/ada/.local/share/sam/sam.db.corrupt-2025");
    expect(within(screen.getByRole("main")).getByTestId("db-banner")).toBe(banner);
  });

  it("shows the message when the database is unavailable", async () => {
    mocked.getAppInfo.mockResolvedValue({
      ...APP_INFO,
      database: { state: "unavailable", message: "Could not open sam.db: permission denied", backupPath: null },
    });
    renderApp();
    const banner = await screen.findByTestId("db-banner");
    expect(banner).toHaveRole("alert");
    expect(banner).toHaveTextContent("Could not open sam.db: permission denied");
    expect(banner).not.toHaveTextContent("backup");
  });
});
