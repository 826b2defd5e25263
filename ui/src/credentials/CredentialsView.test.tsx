import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import * as ipc from "../shared/ipc";
import type { CredentialSummary } from "../shared/ipc";
import { createQueryClient } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { credential, installFakeCredentials, nowSeconds, type FakeCredentials } from "../test/fakeCredentials";
import { CredentialsView } from "./CredentialsView";

vi.mock("../shared/ipc", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../shared/ipc")>();
  return {
    ...actual,
    getCredentialKinds: vi.fn(),
    listCredentials: vi.fn(),
    addCredential: vi.fn(),
    checkCredential: vi.fn(),
    renameCredential: vi.fn(),
    setCredentialActive: vi.fn(),
    removeCredential: vi.fn(),
    openConsole: vi.fn(),
  };
});

const mocked = vi.mocked(ipc);
const { IpcError } = ipc;

const HETZNER = credential({
  id: "c-hetzner",
  label: "Hetzner main",
  masked: "••••9f3c",
  lastCheck: "valid",
  lastMessage: "Read & write access to project “default”.",
  lastCheckedAt: nowSeconds() - 120,
  usedBy: ["billing-api", "gpu-box"],
});
const CLAUDE = credential({
  id: "c-claude",
  kind: "anthropic_api_key",
  label: "Work Claude",
  masked: "••••1a2b",
  scope: { scope: "project", project: "billing-api" },
  lastCheck: "rate_limited",
  lastMessage: "Anthropic answered 429; try again in a minute.",
  lastCheckedAt: nowSeconds() - 3 * 3600,
});
const GITHUB = credential({ id: "c-github", kind: "github_token", label: "GitHub personal", masked: "••••beef" });

let fake: FakeCredentials;

function setup(initial: CredentialSummary[] = [HETZNER, CLAUDE, GITHUB]) {
  fake = installFakeCredentials(mocked, initial);
  const client = createQueryClient();
  const user = userEvent.setup();
  const utils = render(
    <QueryClientProvider client={client}>
      <CredentialsView />
    </QueryClientProvider>,
  );
  return { ...utils, user, client };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function findRow(label: string): Promise<HTMLElement> {
  return waitFor(() => {
    const row = screen.getAllByTestId("credential-row").find((element) => element.dataset.label === label);
    if (!row) throw new Error(`no row ${label}`);
    return row;
  });
}

function rowLabels(): string[] {
  return screen.queryAllByTestId("credential-row").map((row) => row.dataset.label ?? "");
}

async function openForm(user: ReturnType<typeof userEvent.setup>) {
  const add = await screen.findByTestId("add-credential");
  await waitFor(() => expect(add).toBeEnabled());
  await user.click(add);
  return screen.findByTestId("credential-form");
}

beforeEach(() => {
  useUiStore.setState({ view: "credentials", addCredentialKind: null });
});

describe("credentials list", () => {
  it("groups the rows and shows kind, scope, masked value, status, message and check time", async () => {
    setup();
    const hetzner = await findRow("Hetzner main");

    const cloud = screen.getByRole("region", { name: "Cloud accounts" });
    const agents = screen.getByRole("region", { name: "Agents" });
    const source = screen.getByRole("region", { name: "Source control" });
    expect(within(cloud).getAllByTestId("credential-row").map((row) => row.dataset.label)).toEqual(["Hetzner main"]);
    expect(within(agents).getAllByTestId("credential-row").map((row) => row.dataset.label)).toEqual(["Work Claude"]);
    expect(within(source).getAllByTestId("credential-row").map((row) => row.dataset.label)).toEqual(["GitHub personal"]);

    expect(within(hetzner).getByTestId("credential-masked")).toHaveTextContent(/^••••9f3c$/);
    expect(within(hetzner).getByTestId("credential-status")).toHaveTextContent(/^Valid$/);
    expect(hetzner).toHaveTextContent("Hetzner Cloud API token");
    expect(within(hetzner).getByTestId("credential-scope")).toHaveTextContent(/^Global$/);
    expect(hetzner).toHaveTextContent("Read & write access to project “default”.");
    expect(within(hetzner).getByTestId("credential-checked-at")).toHaveTextContent("checked 2 min ago");
    expect(hetzner).toHaveTextContent("Used by billing-api, gpu-box");

    const claude = await findRow("Work Claude");
    expect(within(claude).getByTestId("credential-status")).toHaveTextContent(/^Rate limited$/);
    expect(within(claude).getByTestId("credential-scope")).toHaveTextContent("Project: billing-api");
    expect(within(claude).getByTestId("credential-checked-at")).toHaveTextContent("checked 3 hours ago");
    expect(within(claude).getByTestId("credential-masked")).toHaveTextContent("••••1a2b");

    const github = await findRow("GitHub personal");
    expect(within(github).getByTestId("credential-status")).toHaveTextContent(/^Not checked$/);
    expect(within(github).queryByTestId("credential-checked-at")).not.toBeInTheDocument();
  });

  it.each([
    ["read_only", "Read-only"],
    ["rejected", "Rejected"],
    ["unreachable", "Unreachable"],
  ] as const)("labels a %s check %s", async (state, text) => {
    setup([credential({ id: "x", lastCheck: state, lastCheckedAt: nowSeconds() })]);
    const row = await findRow("Hetzner main");
    expect(within(row).getByTestId("credential-status")).toHaveTextContent(new RegExp(`^${text}$`));
    expect(within(row).getByTestId("credential-checked-at")).toHaveTextContent("checked just now");
  });

  it("offers to add one in a group that has none", async () => {
    const { user } = setup([HETZNER]);
    const source = await screen.findByRole("region", { name: "Source control" });
    expect(source).toHaveTextContent("No source-control token yet.");
    await user.click(within(source).getByRole("button", { name: /add a source-control token/i }));
    expect(screen.getByTestId<HTMLSelectElement>("credential-kind").value).toBe("github_token");
  });

  it("shows an alert when the list cannot be loaded", async () => {
    fake = installFakeCredentials(mocked);
    mocked.listCredentials.mockRejectedValue(new IpcError("unavailable", "The keyring is locked."));
    render(
      <QueryClientProvider client={createQueryClient()}>
        <CredentialsView />
      </QueryClientProvider>,
    );
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("The keyring is locked.");
  });
});

describe("adding a credential", () => {
  it("switches fields with the kind, masks secrets and follows the kind's label until edited", async () => {
    const { user } = setup();
    const form = await openForm(user);
    const kind = within(form).getByTestId<HTMLSelectElement>("credential-kind");
    expect(kind).toHaveFocus();
    expect(kind).toHaveAccessibleName("Kind");
    expect(kind.value).toBe("hetzner_token");
    const groups = Array.from(kind.querySelectorAll("optgroup")).map((group) => group.label);
    expect(groups).toEqual(["Cloud accounts", "Agents", "Source control"]);

    const token = within(form).getByTestId("credential-field-secret");
    expect(token).toHaveAttribute("type", "password");
    expect(token).toHaveAttribute("autocomplete", "off");
    expect(token).toHaveAccessibleName("API token");
    expect(within(form).getByTestId("credential-label")).toHaveValue("Hetzner Cloud API token");
    expect(form).toHaveTextContent("Security → API tokens");

    await user.selectOptions(kind, "scaleway_keys");
    expect(within(form).getByTestId("credential-field-access_key")).toHaveAttribute("type", "text");
    expect(within(form).getByTestId("credential-field-secret")).toHaveAttribute("type", "password");
    expect(within(form).getByTestId("credential-field-project_id")).toBeInTheDocument();
    expect(within(form).getByLabelText("Default zone (optional)")).toBe(within(form).getByTestId("credential-field-zone"));
    expect(within(form).getByTestId("credential-label")).toHaveValue("Scaleway API key");

    await user.selectOptions(kind, "codex_auth_json");
    const json = within(form).getByTestId("credential-field-secret");
    expect(json.tagName).toBe("TEXTAREA");
    expect(json).toHaveAttribute("autocomplete", "off");
    expect(within(form).queryByTestId("credential-field-access_key")).not.toBeInTheDocument();
    // Backquoted commands in the hint render as code.
    expect(within(form).getByText("codex login").tagName).toBe("CODE");

    const label = within(form).getByTestId("credential-label");
    await user.clear(label);
    await user.type(label, "My Codex");
    await user.selectOptions(kind, "github_token");
    expect(label).toHaveValue("My Codex");
  });

  it("refuses an empty or blank secret without calling the core", async () => {
    const { user } = setup();
    const form = await openForm(user);
    await user.selectOptions(within(form).getByTestId("credential-kind"), "anthropic_api_key");

    await user.click(within(form).getByTestId("credential-save"));
    const secret = within(form).getByTestId("credential-field-secret");
    expect(form).toHaveTextContent("Paste the key; it is empty.");
    expect(secret).toHaveAttribute("aria-invalid", "true");
    expect(secret).toHaveAccessibleDescription("Paste the key; it is empty.");
    expect(secret).toHaveFocus();

    await user.type(secret, "    ");
    await user.click(within(form).getByTestId("credential-save"));
    expect(form).toHaveTextContent("Paste the key; it is empty.");
    expect(mocked.addCredential).not.toHaveBeenCalled();
  });

  it("saves, shows the provider check in progress, closes the form and shows the new row", async () => {
    const { user } = setup([HETZNER]);
    const secretValue = "sk-ant-api03-VERYSECRETVALUE-xyz9";
    const form = await openForm(user);
    await user.selectOptions(within(form).getByTestId("credential-kind"), "anthropic_api_key");
    await user.type(within(form).getByTestId("credential-field-secret"), `  ${secretValue}  `);
    const label = within(form).getByTestId("credential-label");
    await user.clear(label);
    await user.type(label, "Personal Claude");

    const pending = deferred<CredentialSummary>();
    const real = mocked.addCredential.getMockImplementation();
    mocked.addCredential.mockImplementationOnce(async (input) => {
      await pending.promise;
      if (!real) throw new Error("no fake");
      return real(input);
    });
    await user.click(within(form).getByTestId("credential-save"));

    expect(await screen.findByTestId("credential-saving")).toHaveTextContent("Checking with Anthropic…");
    expect(within(form).getByTestId("credential-save")).toBeDisabled();
    expect(mocked.addCredential).toHaveBeenCalledWith({
      kind: "anthropic_api_key",
      label: "Personal Claude",
      scope: { scope: "global" },
      fields: { secret: secretValue },
    });

    pending.resolve(undefined as never);
    await waitFor(() => expect(screen.queryByTestId("credential-form")).not.toBeInTheDocument());
    const row = await findRow("Personal Claude");
    expect(within(row).getByTestId("credential-status")).toHaveTextContent(/^Valid$/);
    expect(within(row).getByTestId("credential-masked")).toHaveTextContent("••••xyz9");
    expect(screen.getByTestId("credentials-announcement")).toHaveTextContent("Added “Personal Claude”: valid.");
    expect(screen.getByTestId("add-credential")).toHaveFocus();

    // The secret is nowhere in the page: not in text, not in attributes, not in an input.
    expect(document.body.innerHTML).not.toContain(secretValue);
    expect(document.body.innerHTML).not.toContain("VERYSECRET");
    for (const input of document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input, textarea")) {
      expect(input.value).not.toContain("VERYSECRET");
    }
  });

  it("sends non-secret fields and a project scope, leaving out empty optional fields", async () => {
    const { user } = setup([]);
    await user.click(await screen.findByTestId("empty-add-cloud"));
    const form = await screen.findByTestId("credential-form");
    await user.selectOptions(within(form).getByTestId("credential-kind"), "scaleway_keys");
    await user.type(within(form).getByTestId("credential-field-access_key"), "SCWABCDEFGHIJKLMNOPQ");
    await user.type(within(form).getByTestId("credential-field-secret"), "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60");
    await user.type(within(form).getByTestId("credential-field-project_id"), "11111111-2222-3333-4444-555555555555");
    await user.click(within(form).getByTestId("credential-scope-project"));

    await user.click(within(form).getByTestId("credential-save"));
    expect(form).toHaveTextContent("Name the project.");
    expect(within(form).getByTestId("credential-project")).toHaveFocus();
    expect(mocked.addCredential).not.toHaveBeenCalled();

    await user.type(within(form).getByTestId("credential-project"), "billing-api");
    await user.click(within(form).getByTestId("credential-save"));
    await waitFor(() =>
      expect(mocked.addCredential).toHaveBeenCalledWith({
        kind: "scaleway_keys",
        label: "Scaleway API key",
        scope: { scope: "project", project: "billing-api" },
        fields: {
          access_key: "SCWABCDEFGHIJKLMNOPQ",
          secret: "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60",
          project_id: "11111111-2222-3333-4444-555555555555",
        },
      }),
    );
    const row = await findRow("Scaleway API key");
    expect(within(row).getByTestId("credential-scope")).toHaveTextContent("Project: billing-api");
  });

  it("shows the core's error inline and keeps what was typed", async () => {
    const { user } = setup();
    const form = await openForm(user);
    await user.type(within(form).getByTestId("credential-field-secret"), "0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60");
    const label = within(form).getByTestId("credential-label");
    await user.clear(label);
    await user.type(label, "Hetzner staging");
    mocked.addCredential.mockRejectedValueOnce(
      new IpcError("invalid_input", "That looks like a Scaleway secret key, not a Hetzner Cloud API token."),
    );

    await user.click(within(form).getByTestId("credential-save"));
    const alert = await within(form).findByRole("alert");
    expect(alert).toHaveTextContent("That looks like a Scaleway secret key, not a Hetzner Cloud API token.");
    expect(alert).toHaveTextContent(/could not add the credential/i);
    expect(screen.getByTestId("credential-form")).toBe(form);
    expect(label).toHaveValue("Hetzner staging");
    expect(within(form).getByTestId("credential-field-secret")).toHaveValue("0f6a0bd4-3c5e-4b6f-9d9a-1c2b3d4e5f60");
    expect(within(form).getByTestId("credential-save")).toBeEnabled();
    expect(rowLabels()).not.toContain("Hetzner staging");
  });

  it("asks the core to open the provider's console for the selected kind", async () => {
    const { user } = setup();
    const form = await openForm(user);
    await user.selectOptions(within(form).getByTestId("credential-kind"), "github_token");
    await user.click(within(form).getByRole("button", { name: "Where do I get this?" }));
    expect(mocked.openConsole).toHaveBeenCalledWith("github_token");
    expect(mocked.openConsole).toHaveBeenCalledTimes(1);
  });

  it("closes on Escape and on Cancel, returning focus to the Add button", async () => {
    const { user } = setup();
    await openForm(user);
    await user.type(screen.getByTestId("credential-field-secret"), "abc");
    await user.keyboard("{Escape}");
    expect(screen.queryByTestId("credential-form")).not.toBeInTheDocument();
    expect(screen.getByTestId("add-credential")).toHaveFocus();

    await openForm(user);
    // A fresh form: nothing typed before survives.
    expect(screen.getByTestId("credential-field-secret")).toHaveValue("");
    await user.click(screen.getByTestId("credential-cancel"));
    expect(screen.queryByTestId("credential-form")).not.toBeInTheDocument();
    expect(screen.getByTestId("add-credential")).toHaveFocus();
  });
});

describe("row actions", () => {
  it("checks a credential again and shows the new status", async () => {
    const { user } = setup();
    const row = await findRow("GitHub personal");
    fake.nextCheck = { state: "rejected", message: "GitHub says the token was revoked." };
    const check = within(row).getByTestId("credential-check");
    expect(check).toHaveAccessibleName("Check GitHub personal");

    await user.click(check);
    expect(mocked.checkCredential).toHaveBeenCalledWith("c-github");
    await waitFor(() => expect(within(row).getByTestId("credential-status")).toHaveTextContent(/^Rejected$/));
    expect(row).toHaveTextContent("GitHub says the token was revoked.");
    expect(within(row).getByTestId("credential-checked-at")).toHaveTextContent("checked just now");
  });

  it("shows a check that fails to run inside the row", async () => {
    const { user } = setup();
    const row = await findRow("GitHub personal");
    mocked.checkCredential.mockRejectedValueOnce(new IpcError("unavailable", "The keyring is locked."));
    await user.click(within(row).getByTestId("credential-check"));
    expect(await within(row).findByRole("alert")).toHaveTextContent("The keyring is locked.");
    expect(within(row).getByTestId("credential-status")).toHaveTextContent(/^Not checked$/);
  });

  it("renames inline; Escape cancels, Enter saves", async () => {
    const { user } = setup();
    const row = await findRow("Hetzner main");
    const renameButton = within(row).getByTestId("credential-rename");

    await user.click(renameButton);
    let input = within(row).getByTestId("credential-rename-input");
    expect(input).toHaveFocus();
    expect(input).toHaveValue("Hetzner main");
    await user.type(input, " typo");
    await user.keyboard("{Escape}");
    expect(within(row).queryByTestId("credential-rename-input")).not.toBeInTheDocument();
    expect(renameButton).toHaveFocus();
    expect(mocked.renameCredential).not.toHaveBeenCalled();

    await user.click(renameButton);
    input = within(row).getByTestId("credential-rename-input");
    await user.clear(input);
    await user.keyboard("{Enter}");
    expect(row).toHaveTextContent("Give it a name.");
    expect(mocked.renameCredential).not.toHaveBeenCalled();

    await user.type(input, "Hetzner personal{Enter}");
    expect(mocked.renameCredential).toHaveBeenCalledWith("c-hetzner", "Hetzner personal");
    const renamed = await findRow("Hetzner personal");
    expect(within(renamed).getByRole("heading", { name: "Hetzner personal" })).toBeInTheDocument();
    expect(within(renamed).getByTestId("credential-rename")).toHaveFocus();
    expect(rowLabels()).not.toContain("Hetzner main");
  });

  it("deactivates and reactivates", async () => {
    const { user } = setup();
    const row = await findRow("Work Claude");
    const toggle = within(row).getByTestId("credential-toggle-active");
    expect(toggle).toHaveTextContent("Deactivate");
    expect(toggle).toHaveAccessibleName("Deactivate Work Claude");
    expect(within(row).getByTestId("credential-remove")).toHaveAccessibleName("Remove Work Claude");
    expect(within(row).getByTestId("credential-rename")).toHaveAccessibleName("Rename Work Claude");
    expect(within(row).queryByTestId("credential-inactive")).not.toBeInTheDocument();

    await user.click(toggle);
    expect(mocked.setCredentialActive).toHaveBeenCalledWith("c-claude", false);
    await waitFor(() => expect(within(row).getByTestId("credential-inactive")).toHaveTextContent("Inactive"));
    expect(toggle).toHaveTextContent("Activate");

    await user.click(toggle);
    expect(mocked.setCredentialActive).toHaveBeenLastCalledWith("c-claude", true);
    await waitFor(() => expect(within(row).queryByTestId("credential-inactive")).not.toBeInTheDocument());
  });

  it("asks before removing, names the workspaces that use it, and can be cancelled", async () => {
    const { user } = setup();
    const row = await findRow("Hetzner main");
    const remove = within(row).getByTestId("credential-remove");
    await user.click(remove);

    const dialog = screen.getByRole("alertdialog", { name: "Remove “Hetzner main”?" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(within(dialog).getByTestId("remove-used-by")).toHaveTextContent("2 workspaces use it and will stop working");
    expect(within(dialog).getByRole("list")).toHaveTextContent("billing-api");
    expect(within(dialog).getByRole("list")).toHaveTextContent("gpu-box");
    expect(within(dialog).getByTestId("cancel-remove")).toHaveFocus();

    // Tab stays inside the dialog.
    await user.tab();
    expect(within(dialog).getByTestId("confirm-remove")).toHaveFocus();
    await user.tab();
    expect(within(dialog).getByTestId("cancel-remove")).toHaveFocus();

    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(remove).toHaveFocus();

    await user.click(remove);
    await user.click(screen.getByTestId("cancel-remove"));
    expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument();
    expect(mocked.removeCredential).not.toHaveBeenCalled();
    expect(rowLabels()).toContain("Hetzner main");
  });

  it("removes after confirmation and moves focus to the Add button", async () => {
    const { user } = setup();
    const row = await findRow("GitHub personal");
    await user.click(within(row).getByTestId("credential-remove"));
    const dialog = screen.getByRole("alertdialog", { name: "Remove “GitHub personal”?" });
    expect(within(dialog).queryByTestId("remove-used-by")).not.toBeInTheDocument();
    expect(dialog).toHaveTextContent("GitHub token");

    await user.click(within(dialog).getByTestId("confirm-remove"));
    expect(mocked.removeCredential).toHaveBeenCalledWith("c-github");
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    expect(rowLabels()).toEqual(["Hetzner main", "Work Claude"]);
    expect(screen.getByTestId("add-credential")).toHaveFocus();
    expect(screen.getByTestId("credentials-announcement")).toHaveTextContent("Removed “GitHub personal”.");
  });

  it("keeps the dialog open with the error when removal fails", async () => {
    const { user } = setup();
    const row = await findRow("GitHub personal");
    mocked.removeCredential.mockRejectedValueOnce(new IpcError("unavailable", "The keyring is locked."));
    await user.click(within(row).getByTestId("credential-remove"));
    await user.click(screen.getByTestId("confirm-remove"));
    const dialog = screen.getByRole("alertdialog");
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("The keyring is locked.");
    expect(rowLabels()).toContain("GitHub personal");
  });
});

describe("empty state", () => {
  it("explains the keyring and preselects a cloud or an agent kind", async () => {
    const { user } = setup([]);
    const empty = await screen.findByTestId("credentials-empty");
    expect(empty).toHaveTextContent(/keyring/);
    expect(empty).toHaveTextContent(/never shows it again/);

    await user.click(within(empty).getByRole("button", { name: "Add a cloud account" }));
    expect(screen.getByTestId<HTMLSelectElement>("credential-kind").value).toBe("hetzner_token");
    expect(screen.queryByTestId("credentials-empty")).not.toBeInTheDocument();
    await user.keyboard("{Escape}");

    await user.click(await screen.findByRole("button", { name: "Add an agent key" }));
    expect(screen.getByTestId<HTMLSelectElement>("credential-kind").value).toBe("anthropic_api_key");
    expect(screen.getByTestId("credential-label")).toHaveValue("Anthropic API key");
  });

  it("opens the form a request from elsewhere in the UI asked for", async () => {
    fake = installFakeCredentials(mocked, []);
    useUiStore.setState({ addCredentialKind: "scaleway_keys" });
    render(
      <QueryClientProvider client={createQueryClient()}>
        <CredentialsView />
      </QueryClientProvider>,
    );
    const kind = await screen.findByTestId<HTMLSelectElement>("credential-kind");
    expect(kind.value).toBe("scaleway_keys");
    expect(useUiStore.getState().addCredentialKind).toBeNull();
  });
});
