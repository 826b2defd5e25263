import { useRef } from "react";
import type { Workspace } from "../shared/ipc";
import { isWorkspaceBusy, useDeleteWorkspace } from "../shared/queries";
import { Button, Dialog, ErrorAlert } from "../shared/ui";
import { PROVIDER_LABEL } from "./format";

type DeleteWorkspaceDialogProps = {
  workspace: Workspace;
  onCancel: () => void;
  onDeleted: (workspace: Workspace) => void;
  /** Where focus goes once the Delete button is gone. */
  fallbackFocus: () => HTMLElement | null | undefined;
};

/** Deleting always asks first, and says what goes (a server, a clone) and what stays. */
export function DeleteWorkspaceDialog({ workspace, onCancel, onDeleted, fallbackFocus }: DeleteWorkspaceDialogProps) {
  const remove = useDeleteWorkspace();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const { spec } = workspace;

  function close() {
    if (!remove.isPending) onCancel();
  }

  return (
    <Dialog
      role="alertdialog"
      title={`Delete “${spec.name}”?`}
      onClose={close}
      initialFocus={cancelRef}
      fallbackFocus={fallbackFocus}
      data-testid="delete-workspace-dialog"
      actions={
        <>
          <Button ref={cancelRef} onClick={close} disabled={remove.isPending} data-testid="cancel-delete-workspace">
            Cancel
          </Button>
          <Button
            variant="danger"
            data-testid="confirm-delete-workspace"
            disabled={remove.isPending}
            onClick={() => remove.mutate(workspace.id, { onSuccess: onDeleted })}
          >
            {remove.isPending ? "Deleting…" : "Delete"}
          </Button>
        </>
      }
    >
      {isWorkspaceBusy(workspace.state) ? <p>Setting it up stops first.</p> : null}
      {spec.provider === "local" ? (
        spec.repo.kind === "folder" ? (
          <p>
            SAM stops the workspace's host. Your folder <code className="path">{spec.repo.path}</code> stays as it is.
          </p>
        ) : (
          <p>SAM stops the workspace's host and deletes its clone of the repository, with any changes not pushed.</p>
        )
      ) : (
        <p data-testid="delete-workspace-server">
          SAM deletes the server{workspace.address ? ` (${workspace.address})` : ""} in your {PROVIDER_LABEL[spec.provider]}{" "}
          account, with everything on it that was not pushed; its billing stops.
        </p>
      )}
      <p>The chat history stays on this computer.</p>
      {remove.isError ? <ErrorAlert error={remove.error} context="Could not delete it" compact /> : null}
    </Dialog>
  );
}
