// A small in-memory stand-in for the core's workspace commands, installed behind the mocked
// functions of shared/ipc.ts. Tests move workspaces along (steps, states) with `update`, the
// way the background provisioning does in the core.
import type { MockedFunction } from "vitest";
import type * as ipc from "../shared/ipc";
import type { CloudLocation, CloudSize, StepTiming, Workspace, WorkspaceSpec } from "../shared/ipc";

export function spec(overrides: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  return {
    name: "api",
    provider: "local",
    repo: { kind: "folder", path: "/home/ada/code/api" },
    branch: null,
    size: null,
    locations: [],
    ...overrides,
  };
}

export function workspace(overrides: Partial<Omit<Workspace, "spec">> & { spec?: Partial<WorkspaceSpec> } = {}): Workspace {
  const { spec: specOverrides, ...rest } = overrides;
  return {
    id: "w-api",
    spec: spec(specOverrides),
    state: "ready",
    failure: null,
    checkoutDir: null,
    address: null,
    cost: null,
    steps: [],
    createdAt: Math.floor(Date.now() / 1000) - 60,
    ...rest,
  };
}

export const step = (name: string, state: string, millis: number | null = null, detail: string | null = null): StepTiming => ({
  step: name,
  state,
  millis,
  detail,
});

export const LOCATIONS: CloudLocation[] = [
  { id: "hel1", description: "Helsinki DC Park 1", country: "FI", city: "Helsinki" },
  { id: "fsn1", description: "Falkenstein DC Park 1", country: "DE", city: "Falkenstein" },
];

export const SIZES: CloudSize[] = [
  {
    id: "cx23",
    vcpus: 2,
    memoryMib: 4096,
    diskGb: 40,
    arch: "x86_64",
    currency: "EUR",
    hourly: 0.0063,
    monthly: 3.79,
    available: true,
    preset: "small",
  },
  {
    id: "cx33",
    vcpus: 4,
    memoryMib: 8192,
    diskGb: 80,
    arch: "x86_64",
    currency: "EUR",
    hourly: 0.0097,
    monthly: 5.99,
    available: true,
    preset: "medium",
  },
  {
    id: "cax21",
    vcpus: 4,
    memoryMib: 8192,
    diskGb: 80,
    arch: "arm64",
    currency: "EUR",
    hourly: 0.0104,
    monthly: 6.49,
    available: false,
    preset: null,
  },
];

type WorkspaceFns = Pick<
  typeof ipc,
  | "listWorkspaces"
  | "getWorkspace"
  | "createWorkspace"
  | "retryWorkspace"
  | "deleteWorkspace"
  | "getCloudLocations"
  | "getCloudSizes"
>;

export type MockedWorkspaceFns = { [K in keyof WorkspaceFns]: MockedFunction<WorkspaceFns[K]> };

export type FakeWorkspaces = {
  /** What the core holds now. */
  list: Workspace[];
  /** Changes a workspace as background work in the core would. */
  update: (id: string, change: Partial<Workspace>) => void;
};

/** Makes the mocked ipc functions behave like the core, over an in-memory list. */
export function installFakeWorkspaces(mocked: MockedWorkspaceFns, initial: Workspace[] = []): FakeWorkspaces {
  const fake: FakeWorkspaces = {
    list: initial.map((item) => ({ ...item })),
    update: (id, change) => {
      fake.list = fake.list.map((item) => (item.id === id ? { ...item, ...change } : item));
    },
  };
  let counter = 0;

  function find(id: string): Workspace {
    const found = fake.list.find((item) => item.id === id);
    if (!found) throw new Error(`no workspace ${id}`);
    return { ...found };
  }

  mocked.listWorkspaces.mockImplementation(async () => fake.list.map((item) => ({ ...item })));
  mocked.getWorkspace.mockImplementation(async (id) => find(id));
  mocked.createWorkspace.mockImplementation(async (input) => {
    counter += 1;
    const created = workspace({
      id: `new-${counter}`,
      state: "requested",
      spec: {
        name: input.name,
        provider: input.provider,
        repo: input.repo,
        branch: input.branch ?? null,
        size: input.size ?? null,
        locations: input.locations ?? [],
      },
      createdAt: Math.floor(Date.now() / 1000),
    });
    fake.list = [created, ...fake.list];
    return { ...created };
  });
  mocked.retryWorkspace.mockImplementation(async (id) => {
    fake.update(id, { state: "provisioning", failure: null });
    return find(id);
  });
  mocked.deleteWorkspace.mockImplementation(async (id) => {
    fake.update(id, { state: "deleted", failure: null });
    return find(id);
  });
  mocked.getCloudLocations.mockResolvedValue(LOCATIONS);
  mocked.getCloudSizes.mockResolvedValue(SIZES);
  return fake;
}
