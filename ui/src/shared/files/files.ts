// What go-to-file and the quick view need from the core, and what an open reports. The chat's
// ChatApi has the same shape (it is passed in as is); these are declared here so that this
// feature does not import the chat.

/** Where a file was opened (see the core's open-in-editor): the local editor, the editor attached to a remote workspace, a local read-only mirror, the system's default app, or the in-app quick view. */
export type OpenOutcome = { how: "editor" | "remote" | "mirror" | "system" | "quick_view"; editor: string | null; message: string };

export type FileMatches = { matches: Array<{ path: string; positions: number[] }>; indexedFiles: number };

export type FileContent = { path: string; text: string | null; truncated: boolean; sizeBytes: number };

export type FileApi = {
  openLocation(workspaceId: string, path: string, line: number | null, column?: number | null): Promise<OpenOutcome | void>;
  findFiles?(workspaceId: string, query: string, limit: number): Promise<FileMatches>;
  readFile?(workspaceId: string, path: string): Promise<FileContent>;
};

/** The error code of an open that found no editor to open the file with. */
export const NO_EDITOR_CODE = "no_editor";

/** Whether an open failed because no editor is set up (the caller then shows the quick view). */
export function isNoEditor(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === NO_EDITOR_CODE;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : typeof error === "string" ? error : "Something went wrong.";
}

/** "src/a.rs at line 42" */
export function describeLocation(path: string, line: number | null): string {
  return line === null ? path : `${path} at line ${line}`;
}

/** What to tell the user after an open; the core's message when it gave one. */
export function outcomeMessage(outcome: OpenOutcome, path: string, line: number | null): string {
  if (outcome.message.trim()) return outcome.message;
  const editor = outcome.editor ?? "your editor";
  const at = line === null ? "" : ` at line ${line}`;
  switch (outcome.how) {
    case "editor":
      return `Opened ${path} in ${editor}${at}`;
    case "remote":
      return `Opened ${path} in ${editor} on the workspace's machine${at}`;
    case "mirror":
      return `Opened a read-only copy of ${path} in ${editor} (this editor cannot open remote files)`;
    case "system":
      return `Opened ${path} with the system's default app`;
    case "quick_view":
      return `Showing a read-only view of ${path}`;
  }
}

/** "12 KB" */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** `path:line[:column]` as typed in the go-to box. */
export function parseGoToQuery(input: string): { query: string; line: number | null; column: number | null } {
  const trimmed = input.trim();
  // A colon being typed ("a.rs:") is not part of the name.
  const match = /^(.+?):(?:(\d+)(?::(\d*))?)?$/.exec(trimmed);
  if (!match) return { query: trimmed, line: null, column: null };
  const line = match[2] ? Number.parseInt(match[2], 10) : 0;
  const column = match[3] ? Number.parseInt(match[3], 10) : 0;
  return { query: match[1]!, line: line > 0 ? line : null, column: line > 0 && column > 0 ? column : null };
}
