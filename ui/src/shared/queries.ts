// react-query hooks for everything that comes from the Rust core.
import { QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as ipc from "./ipc";
import type {
  CredentialKind,
  CredentialSummary,
  Lifecycle,
  NewCredential,
  NewWorkspace,
  Preferences,
  Provider,
  Workspace,
} from "./ipc";

export const queryKeys = {
  appInfo: ["appInfo"],
  preferences: ["preferences"],
  doctor: ["doctor"],
  workspaces: ["workspaces"],
  workspace: (id: string) => ["workspaces", id] as const,
  cloudLocations: (provider: Provider) => ["cloud", provider, "locations"] as const,
  cloudSizes: (provider: Provider, location: string) => ["cloud", provider, "sizes", location] as const,
  credentials: ["credentials"],
  credentialKinds: ["credentialKinds"],
} as const;

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // IPC to a local process: a failure will not fix itself on retry, and
      // window focus is not a reason to refetch.
      queries: { retry: false, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}

export function useAppInfo() {
  return useQuery({ queryKey: queryKeys.appInfo, queryFn: () => ipc.getAppInfo(), staleTime: Infinity });
}

export function usePreferences() {
  return useQuery({ queryKey: queryKeys.preferences, queryFn: () => ipc.getPreferences(), staleTime: Infinity });
}

/** Saves preferences with an optimistic update, rolled back on failure. */
export function useSetPreferences() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (preferences: Preferences) => ipc.setPreferences(preferences),
    onMutate: async (next) => {
      await client.cancelQueries({ queryKey: queryKeys.preferences });
      const previous = client.getQueryData<Preferences>(queryKeys.preferences);
      client.setQueryData<Preferences>(queryKeys.preferences, next);
      return { previous };
    },
    onError: (_error, _next, context) => {
      if (context?.previous) {
        client.setQueryData<Preferences>(queryKeys.preferences, context.previous);
      } else {
        void client.invalidateQueries({ queryKey: queryKeys.preferences });
      }
    },
    onSuccess: (saved) => {
      client.setQueryData<Preferences>(queryKeys.preferences, saved);
    },
  });
}

export function useDoctor() {
  return useQuery({ queryKey: queryKeys.doctor, queryFn: () => ipc.runDoctor() });
}

// ---------- Workspaces ----------

/** States in which something runs in the background and the record changes on its own. */
export function isWorkspaceBusy(state: Lifecycle | undefined): boolean {
  return state === "requested" || state === "provisioning" || state === "stopping";
}

/** How often a busy workspace is polled (its steps and timings are in the database). */
export const WORKSPACE_POLL_MS = 500;

/** Every workspace; polled while any of them is busy, so the sidebar's states stay true. */
export function useWorkspaces() {
  return useQuery({
    queryKey: queryKeys.workspaces,
    queryFn: () => ipc.listWorkspaces(),
    refetchInterval: (query) => (query.state.data?.some((w) => isWorkspaceBusy(w.state)) ? WORKSPACE_POLL_MS * 2 : false),
  });
}

/** Puts a workspace the core returned into the list, so the sidebar shows it at once. */
function putInList(client: QueryClient, workspace: Workspace) {
  client.setQueryData<Workspace[]>(queryKeys.workspaces, (list) => {
    if (!list) return list;
    return list.some((item) => item.id === workspace.id)
      ? list.map((item) => (item.id === workspace.id ? workspace : item))
      : [workspace, ...list];
  });
}

/** Puts a workspace a mutation returned into the single and the list caches. */
function useStoreWorkspace() {
  const client = useQueryClient();
  return (workspace: Workspace) => {
    client.setQueryData<Workspace>(queryKeys.workspace(workspace.id), workspace);
    putInList(client, workspace);
  };
}

/** One workspace, polled while it is being set up or deleted. */
export function useWorkspace(id: string) {
  const client = useQueryClient();
  return useQuery({
    queryKey: queryKeys.workspace(id),
    queryFn: async () => {
      const workspace = await ipc.getWorkspace(id);
      putInList(client, workspace);
      return workspace;
    },
    refetchInterval: (query) => (isWorkspaceBusy(query.state.data?.state) ? WORKSPACE_POLL_MS : false),
  });
}

export function useCreateWorkspace() {
  const store = useStoreWorkspace();
  return useMutation({
    mutationFn: (spec: NewWorkspace) => ipc.createWorkspace(spec),
    onSuccess: (workspace) => store(workspace),
  });
}

export function useRetryWorkspace() {
  const store = useStoreWorkspace();
  return useMutation({
    mutationFn: (id: string) => ipc.retryWorkspace(id),
    onSuccess: (workspace) => store(workspace),
  });
}

export function useDeleteWorkspace() {
  const store = useStoreWorkspace();
  return useMutation({
    mutationFn: (id: string) => ipc.deleteWorkspace(id),
    onSuccess: (workspace) => store(workspace),
  });
}

/** The catalogue changes rarely: five minutes fresh. */
const CLOUD_STALE_MS = 5 * 60_000;

export function useCloudLocations(provider: Provider) {
  return useQuery({
    queryKey: queryKeys.cloudLocations(provider),
    queryFn: () => ipc.getCloudLocations(provider),
    enabled: provider !== "local",
    staleTime: CLOUD_STALE_MS,
  });
}

export function useCloudSizes(provider: Provider, location: string | null) {
  return useQuery({
    queryKey: queryKeys.cloudSizes(provider, location ?? ""),
    queryFn: () => ipc.getCloudSizes(provider, location ?? ""),
    enabled: provider !== "local" && location !== null,
    staleTime: CLOUD_STALE_MS,
  });
}

export function useSendTestNotification() {
  return useMutation({ mutationFn: () => ipc.sendTestNotification() });
}

// ---------- Credentials ----------

export function useCredentialKinds() {
  return useQuery({ queryKey: queryKeys.credentialKinds, queryFn: () => ipc.getCredentialKinds(), staleTime: Infinity });
}

export function useCredentials() {
  return useQuery({ queryKey: queryKeys.credentials, queryFn: () => ipc.listCredentials() });
}

/** Puts what a mutation returned into the list at once, then refetches the list. */
function useStoreCredential() {
  const client = useQueryClient();
  return (summary: CredentialSummary) => {
    client.setQueryData<CredentialSummary[]>(queryKeys.credentials, (list) => {
      if (!list) return list;
      return list.some((item) => item.id === summary.id)
        ? list.map((item) => (item.id === summary.id ? summary : item))
        : [...list, summary];
    });
    void client.invalidateQueries({ queryKey: queryKeys.credentials });
  };
}

/**
 * Adds a credential. The input holds the secret, so the mutation is dropped from the cache as
 * soon as the form that owns it unmounts (gcTime 0) instead of lingering for minutes.
 */
export function useAddCredential() {
  const store = useStoreCredential();
  return useMutation({
    mutationFn: (input: NewCredential) => ipc.addCredential(input),
    gcTime: 0,
    onSuccess: (summary) => store(summary),
  });
}

export function useCheckCredential() {
  const store = useStoreCredential();
  return useMutation({
    mutationFn: (id: string) => ipc.checkCredential(id),
    onSuccess: (summary) => store(summary),
  });
}

export function useRenameCredential() {
  const store = useStoreCredential();
  return useMutation({
    mutationFn: ({ id, label }: { id: string; label: string }) => ipc.renameCredential(id, label),
    onSuccess: (summary) => store(summary),
  });
}

export function useSetCredentialActive() {
  const store = useStoreCredential();
  return useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) => ipc.setCredentialActive(id, active),
    onSuccess: (summary) => store(summary),
  });
}

export function useRemoveCredential() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => ipc.removeCredential(id),
    onSuccess: (_nothing, id) => {
      client.setQueryData<CredentialSummary[]>(queryKeys.credentials, (list) => list?.filter((item) => item.id !== id));
      void client.invalidateQueries({ queryKey: queryKeys.credentials });
    },
  });
}

export function useOpenConsole() {
  return useMutation({ mutationFn: (kind: CredentialKind) => ipc.openConsole(kind) });
}
