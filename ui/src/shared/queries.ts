// react-query hooks for everything that comes from the Rust core.
import { QueryClient, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import * as ipc from "./ipc";
import type { Preferences } from "./ipc";

export const queryKeys = {
  appInfo: ["appInfo"],
  preferences: ["preferences"],
  doctor: ["doctor"],
  workspaces: ["workspaces"],
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

export function useWorkspaces() {
  return useQuery({ queryKey: queryKeys.workspaces, queryFn: () => ipc.listWorkspaces() });
}

export function useSendTestNotification() {
  return useMutation({ mutationFn: () => ipc.sendTestNotification() });
}
