// Keeps the changes panel current while the agent works: the workspace's host watches the
// checkout, and each answer to `waitChanges` with a new counter marks every changes query
// (the list, the open diff, a turn's files) stale. Where the host cannot watch (or is older
// than the watch, or unreachable for a moment) the panel polls instead, and the watch is
// tried again a little later.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import type { ChangesApi } from "./types";

/** How long to wait before trying the watch again after it failed. */
const RETRY_MS = 15_000;

/** Whether the panel is refreshed by the host's watcher (`true`) or must poll (`false`). */
export function useLiveChanges(api: ChangesApi, workspaceId: string): boolean {
  const queryClient = useQueryClient();
  const [live, setLive] = useState(false);

  useEffect(() => {
    const wait = api.waitChanges;
    if (!wait) return;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        retry = setTimeout(resolve, ms);
      });

    void (async () => {
      let after = 0;
      while (!stopped) {
        try {
          const answer = await wait(workspaceId, after);
          if (stopped) return;
          if (!answer.live) {
            setLive(false);
            return;
          }
          setLive(true);
          if (answer.version !== after) {
            // The first answer only sets the counter: the list is being read as it comes.
            if (after !== 0) void queryClient.invalidateQueries({ queryKey: ["changes", workspaceId] });
            after = answer.version;
          }
        } catch {
          if (stopped) return;
          setLive(false);
          after = 0;
          await pause(RETRY_MS);
        }
      }
    })();

    return () => {
      stopped = true;
      clearTimeout(retry);
    };
  }, [api, workspaceId, queryClient]);

  return live;
}
