// Ship the workspace's changes: commit (message drafted from the chat, editable), push a new
// `sam/…` branch (never the default branch: the workspace refuses), and optionally open a pull
// request on GitHub with the vault's token.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { Button, Dialog, ErrorAlert } from "../../shared/ui";
import type { ChangesApi } from "./types";

export function ShipDialog({ api, workspaceId, draftMessage, onClose }: { api: ChangesApi; workspaceId: string; draftMessage: string; onClose: () => void }) {
  const [message, setMessage] = useState(draftMessage);
  const [branch, setBranch] = useState("");
  const [pullRequest, setPullRequest] = useState(true);
  const ship = useMutation({
    mutationFn: () => api.ship(workspaceId, { message: message.trim(), branch: branch.trim() === "" ? null : branch.trim(), pullRequest }),
  });
  const result = ship.data;

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
          <Button variant="primary" onClick={onClose}>
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
            <textarea id="ship-message" className="input" rows={4} value={message} onChange={(event) => setMessage(event.target.value)} />
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
    </Dialog>
  );
}
