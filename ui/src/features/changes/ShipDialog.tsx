// Ship the workspace's changes: commit (message drafted from the chat, editable), push a new
// `sam/…` branch (never the default branch: the workspace refuses), and optionally open a pull
// request on GitHub with the vault's token.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Button, Dialog, ErrorAlert } from "../../shared/ui";
import type { ChangedFile, ChangesApi } from "./types";

type ShipDialogProps = {
  api: ChangesApi;
  workspaceId: string;
  /** What the message starts as until the draft from the chat arrives (the chat's title). */
  draftMessage: string;
  files: ChangedFile[];
  onClose: () => void;
  /** The open chat: its conversation drafts the message, and it records where the work went. */
  sessionId?: string | null;
};

/** Every text file's diff, one after the other: a patch `git apply` takes. Binary files are left out. */
async function patchOf(api: ChangesApi, workspaceId: string, files: ChangedFile[]) {
  const diffs = await Promise.all(files.filter((f) => !f.binary).map((f) => api.fileDiff(workspaceId, f.path, f.oldPath)));
  return {
    text: diffs.map((d) => (d.diff.endsWith("\n") || d.diff === "" ? d.diff : `${d.diff}\n`)).join(""),
    cut: diffs.some((d) => d.truncated),
    binary: files.filter((f) => f.binary).length,
  };
}

export function ShipDialog({ api, workspaceId, draftMessage, files, onClose, sessionId = null }: ShipDialogProps) {
  const [message, setMessage] = useState(draftMessage);
  // The draft from the conversation replaces the placeholder title unless the user typed first.
  const edited = useRef(false);
  const draft = useQuery({
    queryKey: ["changes", workspaceId, "draft", sessionId],
    queryFn: () => api.draftMessage!(workspaceId, sessionId),
    enabled: api.draftMessage !== undefined,
    staleTime: Infinity,
    retry: false,
  });
  useEffect(() => {
    if (draft.data && !edited.current) setMessage(draft.data);
  }, [draft.data]);
  const [branch, setBranch] = useState("");
  const [pullRequest, setPullRequest] = useState(true);
  const ship = useMutation({
    mutationFn: () => api.ship(workspaceId, { message: message.trim(), branch: branch.trim() === "" ? null : branch.trim(), pullRequest, sessionId }),
  });
  const result = ship.data;
  // For users without a forge: the changes as a patch on the clipboard.
  const patch = useMutation({
    mutationFn: async () => {
      const made = await patchOf(api, workspaceId, files);
      if (made.cut) throw new Error("A diff is too long to copy whole; ship or use git in the workspace instead.");
      await navigator.clipboard.writeText(made.text);
      return made;
    },
  });

  return (
    <Dialog
      title="Ship these changes"
      onClose={() => {
        if (!ship.isPending) onClose();
      }}
      size="wide"
      data-testid="ship-dialog"
      actions={
        result ? (
          <Button variant="primary" onClick={onClose} data-testid="ship-done">
            Done
          </Button>
        ) : (
          <>
            <Button onClick={onClose} disabled={ship.isPending}>
              Cancel
            </Button>
            <Button variant="primary" disabled={ship.isPending || message.trim() === ""} onClick={() => ship.mutate()} data-testid="ship-confirm">
              {ship.isPending ? "Shipping…" : pullRequest ? "Commit, push and open a pull request" : "Commit and push"}
            </Button>
          </>
        )
      }
    >
      {result ? (
        <div data-testid="ship-result">
          <p>
            Committed <code>{result.commit.slice(0, 10)}</code> on <code>{result.branch}</code>
            {result.pushed ? " and pushed it." : "; it was not pushed."}
          </p>
          {result.pushError ? (
            <p role="alert" className="field__error">
              The push failed: {result.pushError}
            </p>
          ) : null}
          {result.pullRequest ? (
            <p>
              {result.pullRequest.existing ? "The pull request for this branch was already open: " : "Pull request opened: "}
              <code className="path" data-testid="ship-pr">
                {result.pullRequest.url}
              </code>
            </p>
          ) : null}
        </div>
      ) : (
        <>
          <div className="field">
            <label className="field__label" htmlFor="ship-message">
              Commit message
            </label>
            <textarea
              id="ship-message"
              className="input"
              rows={8}
              value={message}
              data-testid="ship-message"
              onChange={(event) => {
                edited.current = true;
                setMessage(event.target.value);
              }}
            />
          </div>
          <div className="field">
            <label className="field__label" htmlFor="ship-branch">
              Branch
            </label>
            <input id="ship-branch" className="input" value={branch} onChange={(event) => setBranch(event.target.value)} placeholder="sam/… from the message" />
            <p className="muted small">A new branch is pushed; never the repository's default branch.</p>
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={pullRequest} onChange={(event) => setPullRequest(event.target.checked)} />
            Open a pull request on GitHub
          </label>
        </>
      )}
      {ship.isError ? <ErrorAlert error={ship.error} context="Not shipped" compact /> : null}
      {result ? null : (
        <p className="muted small">
          No forge?{" "}
          <button type="button" className="chat-link-button" disabled={patch.isPending} onClick={() => patch.mutate()} data-testid="ship-copy-patch">
            Copy the changes as a patch
          </button>
          {patch.isSuccess ? (
            <span role="status" data-testid="ship-patch-copied">
              {" "}
              Copied{patch.data.binary > 0 ? ` (${patch.data.binary} binary ${patch.data.binary === 1 ? "file" : "files"} left out)` : ""}.
            </span>
          ) : null}
        </p>
      )}
      {patch.isError ? <ErrorAlert error={patch.error} context="The patch was not copied" compact /> : null}
    </Dialog>
  );
}
