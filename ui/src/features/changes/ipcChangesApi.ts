// The changes panel over the core's commands (shared/ipc): the Rust shapes mapped to the
// panel's own types.
import { changesDraftMessage, changesFileDiff, changesGet, changesPullRequestState, changesRevertTurn, changesShip, changesTurn, changesWait } from "../../shared/ipc";
import type { ChangesApi, ChangedFile } from "./types";

type WireFile = { path: string; old_path?: string | null; status: ChangedFile["status"]; binary: boolean; insertions?: number | null; deletions?: number | null };

function changedFile(file: WireFile): ChangedFile {
  return {
    path: file.path,
    oldPath: file.old_path ?? null,
    status: file.status,
    binary: file.binary,
    insertions: file.binary ? null : (file.insertions ?? 0),
    deletions: file.binary ? null : (file.deletions ?? 0),
  };
}

export const ipcChangesApi: ChangesApi = {
  changes: async (workspaceId) => {
    const changes = await changesGet(workspaceId);
    return {
      base: changes.base,
      insertions: changes.insertions ?? 0,
      deletions: changes.deletions ?? 0,
      truncated: changes.truncated,
      files: changes.files.map(changedFile),
    };
  },
  waitChanges: async (workspaceId, after) => {
    const answer = await changesWait(workspaceId, after);
    return { version: answer.version ?? 0, live: answer.live };
  },
  fileDiff: async (workspaceId, path, oldPath, turn) => {
    const diff = await changesFileDiff(workspaceId, path, oldPath, turn ?? null);
    return { path: diff.path, binary: diff.binary, diff: diff.binary ? "" : diff.diff, truncated: diff.truncated };
  },
  ship: async (workspaceId, request) => {
    const outcome = await changesShip(workspaceId, request.message, request.branch, request.pullRequest, request.sessionId ?? null);
    return {
      branch: outcome.branch,
      commit: outcome.commit,
      pushed: outcome.pushed,
      pushError: outcome.pushError,
      pullRequest: outcome.pullRequest ? { url: outcome.pullRequest.url, number: outcome.pullRequest.number ?? 0, existing: outcome.pullRequest.existing } : null,
    };
  },
  draftMessage: (workspaceId, sessionId) => changesDraftMessage(workspaceId, sessionId),
  pullRequestState: (url) => changesPullRequestState(url),
  turnChanges: async (workspaceId, sessionId, prompt) => {
    const turn = await changesTurn(workspaceId, sessionId, prompt);
    return {
      prompt: turn.prompt,
      files: turn.files.map(changedFile),
      insertions: turn.insertions ?? 0,
      deletions: turn.deletions ?? 0,
      truncated: turn.truncated,
    };
  },
  revertTurn: async (workspaceId, sessionId, prompt) => {
    const reverted = await changesRevertTurn(workspaceId, sessionId, prompt);
    return { prompt: reverted.prompt, restored: reverted.restored };
  },
};
