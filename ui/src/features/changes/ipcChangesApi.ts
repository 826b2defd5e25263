// The changes panel over the core's commands (shared/ipc): the Rust shapes mapped to the
// panel's own types.
import { changesFileDiff, changesGet, changesShip } from "../../shared/ipc";
import type { ChangesApi, ChangedFile } from "./types";

export const ipcChangesApi: ChangesApi = {
  changes: async (workspaceId) => {
    const changes = await changesGet(workspaceId);
    return {
      base: changes.base,
      insertions: changes.insertions ?? 0,
      deletions: changes.deletions ?? 0,
      truncated: changes.truncated,
      files: changes.files.map(
        (file): ChangedFile => ({
          path: file.path,
          oldPath: file.old_path ?? null,
          status: file.status,
          binary: file.binary,
          insertions: file.binary ? null : (file.insertions ?? 0),
          deletions: file.binary ? null : (file.deletions ?? 0),
        }),
      ),
    };
  },
  fileDiff: async (workspaceId, path, oldPath) => {
    const diff = await changesFileDiff(workspaceId, path, oldPath);
    return { path: diff.path, binary: diff.binary, diff: diff.binary ? "" : diff.diff, truncated: diff.truncated };
  },
  ship: async (workspaceId, request) => {
    const outcome = await changesShip(workspaceId, request.message, request.branch, request.pullRequest);
    return {
      branch: outcome.branch,
      commit: outcome.commit,
      pushed: outcome.pushed,
      pushError: outcome.pushError,
      pullRequest: outcome.pullRequest ? { url: outcome.pullRequest.url, number: outcome.pullRequest.number ?? 0, existing: outcome.pullRequest.existing } : null,
    };
  },
};
