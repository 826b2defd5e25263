// A small in-memory stand-in for the core's credential commands, installed behind the mocked
// functions of shared/ipc.ts. It mirrors crates/sam-secrets/src/kind.rs.
import type { MockedFunction } from "vitest";
import type * as ipc from "../shared/ipc";
import type { CheckState, CredentialSummary, KindField, KindInfo } from "../shared/ipc";

const secret = (label: string, placeholder: string, extra: Partial<KindField> = {}): KindField => ({
  id: "secret",
  label,
  secret: true,
  multiline: false,
  placeholder,
  optional: false,
  ...extra,
});

const plain = (id: string, label: string, placeholder: string, optional: boolean): KindField => ({
  id,
  label,
  secret: false,
  multiline: false,
  placeholder,
  optional,
});

export const KINDS: KindInfo[] = [
  {
    kind: "hetzner_token",
    group: "cloud",
    label: "Hetzner Cloud API token",
    hint: "In the Hetzner Cloud console, open your project → Security → API tokens and create a Read & Write token.",
    consoleUrl: "https://console.hetzner.cloud/projects",
    fields: [secret("API token", "64 characters")],
  },
  {
    kind: "scaleway_keys",
    group: "cloud",
    label: "Scaleway API key",
    hint: "In the Scaleway console, open IAM → API keys.",
    consoleUrl: "https://console.scaleway.com/iam/api-keys",
    fields: [
      plain("access_key", "Access key", "SCW…", false),
      secret("Secret key", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"),
      plain("project_id", "Default project id", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", false),
      plain("organization_id", "Organization id", "only if your key spans organizations", true),
      plain("zone", "Default zone", "fr-par-1", true),
    ],
  },
  {
    kind: "anthropic_api_key",
    group: "agent",
    label: "Anthropic API key",
    hint: "In the Anthropic console, open Settings → API keys and create a key (it starts with sk-ant-api).",
    consoleUrl: "https://console.anthropic.com/settings/keys",
    fields: [secret("API key", "sk-ant-api03-…")],
  },
  {
    kind: "claude_oauth_token",
    group: "agent",
    label: "Claude subscription token",
    hint: "Run `claude setup-token` with Claude Code; paste the token it prints.",
    consoleUrl: "https://docs.anthropic.com/en/docs/claude-code/setup",
    fields: [secret("Subscription token", "sk-ant-oat01-…")],
  },
  {
    kind: "codex_auth_json",
    group: "agent",
    label: "Codex ChatGPT login (auth.json)",
    hint: "Log in once with `codex login`, then paste the contents of ~/.codex/auth.json.",
    consoleUrl: "https://github.com/openai/codex",
    fields: [secret("auth.json contents", '{ "tokens": { … } }', { multiline: true })],
  },
  {
    kind: "openai_compatible",
    group: "agent",
    label: "OpenAI-compatible endpoint",
    hint: "The base URL of a server that speaks the OpenAI API and its key, if it needs one.",
    consoleUrl: "https://platform.openai.com/docs/api-reference/models/list",
    fields: [
      plain("base_url", "Base URL", "http://localhost:11434/v1", false),
      secret("API key", "leave empty if the server needs none", { optional: true }),
    ],
  },
  {
    kind: "github_token",
    group: "source_control",
    label: "GitHub token",
    hint: "On GitHub, open Settings → Developer settings → Personal access tokens.",
    consoleUrl: "https://github.com/settings/tokens",
    fields: [secret("Token", "github_pat_… or ghp_…")],
  },
];

export const nowSeconds = () => Math.floor(Date.now() / 1000);

export function credential(overrides: Partial<CredentialSummary> & Pick<CredentialSummary, "id">): CredentialSummary {
  return {
    kind: "hetzner_token",
    label: "Hetzner main",
    scope: { scope: "global" },
    active: true,
    masked: "••••9f3c",
    createdAt: nowSeconds() - 86400,
    lastCheckedAt: null,
    lastCheck: "unchecked",
    lastMessage: null,
    usedBy: [],
    ...overrides,
  };
}

type CredentialFns = Pick<
  typeof ipc,
  | "getCredentialKinds"
  | "listCredentials"
  | "addCredential"
  | "checkCredential"
  | "renameCredential"
  | "setCredentialActive"
  | "removeCredential"
  | "openConsole"
>;

export type MockedCredentialFns = { [K in keyof CredentialFns]: MockedFunction<CredentialFns[K]> };

export type FakeCredentials = {
  /** What the core holds now. */
  list: CredentialSummary[];
  /** What the next check (on add or on Check) finds. */
  nextCheck: { state: CheckState; message: string | null };
};

/** Makes the mocked ipc functions behave like the core, over an in-memory list. */
export function installFakeCredentials(mocked: MockedCredentialFns, initial: CredentialSummary[] = []): FakeCredentials {
  const fake: FakeCredentials = {
    list: initial.map((item) => ({ ...item })),
    nextCheck: { state: "valid", message: "Read & write access to project “default”." },
  };
  let counter = 0;

  function update(id: string, change: Partial<CredentialSummary>): CredentialSummary {
    const index = fake.list.findIndex((item) => item.id === id);
    const current = fake.list[index];
    if (!current) throw new Error(`no credential ${id}`);
    const next = { ...current, ...change };
    fake.list[index] = next;
    return { ...next };
  }

  mocked.getCredentialKinds.mockImplementation(async () => KINDS);
  mocked.listCredentials.mockImplementation(async () => fake.list.map((item) => ({ ...item })));
  mocked.addCredential.mockImplementation(async (input) => {
    counter += 1;
    const value = input.fields.secret ?? "";
    const summary: CredentialSummary = {
      id: `new-${counter}`,
      kind: input.kind,
      label: input.label,
      scope: input.scope,
      active: true,
      masked: value ? `••••${value.slice(-4)}` : "none",
      createdAt: nowSeconds(),
      lastCheckedAt: nowSeconds(),
      lastCheck: fake.nextCheck.state,
      lastMessage: fake.nextCheck.message,
      usedBy: [],
    };
    fake.list.push(summary);
    return { ...summary };
  });
  mocked.checkCredential.mockImplementation(async (id) =>
    update(id, { lastCheck: fake.nextCheck.state, lastMessage: fake.nextCheck.message, lastCheckedAt: nowSeconds() }),
  );
  mocked.renameCredential.mockImplementation(async (id, label) => update(id, { label }));
  mocked.setCredentialActive.mockImplementation(async (id, active) => update(id, { active }));
  mocked.removeCredential.mockImplementation(async (id) => {
    fake.list = fake.list.filter((item) => item.id !== id);
  });
  mocked.openConsole.mockResolvedValue(undefined);
  return fake;
}
