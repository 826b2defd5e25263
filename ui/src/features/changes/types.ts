// What the changes panel needs from the core. The app's implementation calls the Tauri
// commands (ipcChangesApi); tests pass a fake.

export type ChangeStatus = "added" | "modified" | "deleted" | "renamed" | "untracked" | "copied" | "type_changed";

export type ChangedFile = {
  path: string;
  /** The path before a rename. */
  oldPath: string | null;
  status: ChangeStatus;
  /** Null for binary files. */
  insertions: number | null;
  deletions: number | null;
  binary: boolean;
};

export type ChangesSummary = {
  /** What the working tree is compared with (a commit). */
  base: string;
  files: ChangedFile[];
  insertions: number;
  deletions: number;
  /** More files changed than were listed. */
  truncated: boolean;
};

export type FileDiff = {
  path: string;
  binary: boolean;
  /** The unified diff text (empty for binary files). */
  diff: string;
  /** The diff was cut at the size limit. */
  truncated: boolean;
};

/** `sessionId`: the chat the work came from; its transcript records where the work went. */
export type ShipRequest = { message: string; branch: string | null; pullRequest: boolean; sessionId?: string | null };

export type ShipResult = {
  branch: string;
  commit: string;
  pushed: boolean;
  /** Why the push failed, when it did (the commit stays on the branch). */
  pushError: string | null;
  /** The pull request, when one was asked for. */
  pullRequest: { url: string; number: number; existing: boolean } | null;
};

/** What one agent turn changed (between the snapshots taken when it started and ended). */
export type TurnChanges = {
  prompt: number;
  files: ChangedFile[];
  insertions: number;
  deletions: number;
  truncated: boolean;
};

/** What reverting a turn put back. */
export type TurnReverted = { prompt: number; restored: string[] };

export type ChangesApi = {
  changes(workspaceId: string): Promise<ChangesSummary>;
  /**
   * Resolves when the workspace's checkout changes (or after a while without a change) with
   * the change counter to pass next time; `live: false` when the workspace cannot be
   * watched. Absent: the panel polls.
   */
  waitChanges?(workspaceId: string, after: number): Promise<{ version: number; live: boolean }>;
  /** A commit message drafted from the chat `sessionId` (the workspace's newest when null). */
  draftMessage?(workspaceId: string, sessionId: string | null): Promise<string>;
  /** Where a shipped pull request stands now (`open`, `closed`, `merged`), from its page URL. */
  pullRequestState?(url: string): Promise<string>;
  /** `oldPath`: where a renamed file came from (so it diffs as a rename). */
  /** With `turn`, the file's diff in that agent turn only (between its snapshots). */
  fileDiff(workspaceId: string, path: string, oldPath: string | null, turn?: { sessionId: string; prompt: number } | null): Promise<FileDiff>;
  ship(workspaceId: string, request: ShipRequest): Promise<ShipResult>;
  /** The files turn `prompt` of the chat `sessionId` changed. */
  turnChanges(workspaceId: string, sessionId: string, prompt: number): Promise<TurnChanges>;
  /** Puts those files back as they were before the turn; refused (nothing reverted) when any changed since. */
  revertTurn(workspaceId: string, sessionId: string, prompt: number): Promise<TurnReverted>;
};
