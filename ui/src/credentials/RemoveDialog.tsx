import { useRef } from "react";
import type { CredentialSummary } from "../shared/ipc";
import { useRemoveCredential } from "../shared/queries";
import { Banner, Button, Dialog, ErrorAlert } from "../shared/ui";

type RemoveDialogProps = {
  credential: CredentialSummary;
  kindLabel: string;
  onCancel: () => void;
  onRemoved: (credential: CredentialSummary) => void;
  /** Where focus goes once the row (and its Remove button) is gone. */
  fallbackFocus: () => HTMLElement | null | undefined;
};

/** Removal always asks first, and names the workspaces that would stop working. */
export function RemoveDialog({ credential, kindLabel, onCancel, onRemoved, fallbackFocus }: RemoveDialogProps) {
  const remove = useRemoveCredential();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const usedBy = credential.usedBy;

  function close() {
    if (!remove.isPending) onCancel();
  }

  return (
    <Dialog
      role="alertdialog"
      title={`Remove “${credential.label}”?`}
      onClose={close}
      initialFocus={cancelRef}
      fallbackFocus={fallbackFocus}
      data-testid="remove-dialog"
      actions={
        <>
          <Button ref={cancelRef} onClick={close} disabled={remove.isPending} data-testid="cancel-remove">
            Cancel
          </Button>
          <Button
            variant="danger"
            data-testid="confirm-remove"
            disabled={remove.isPending}
            onClick={() => remove.mutate(credential.id, { onSuccess: () => onRemoved(credential) })}
          >
            {remove.isPending ? "Removing…" : "Remove"}
          </Button>
        </>
      }
    >
      <p>
        SAM deletes this {kindLabel} from your operating system's keyring. To use it again you will have to paste it
        again.
      </p>
      {usedBy.length > 0 ? (
        <Banner
          tone="warning"
          role="status"
          title={`${usedBy.length === 1 ? "1 workspace uses" : `${usedBy.length} workspaces use`} it and will stop working:`}
          compact
          data-testid="remove-used-by"
        >
          <ul className="dialog__list">
            {usedBy.map((name) => (
              <li key={name}>{name}</li>
            ))}
          </ul>
          <p>Add another {kindLabel} and switch them to it first if you want them to keep working.</p>
        </Banner>
      ) : null}
      {remove.isError ? <ErrorAlert error={remove.error} context="Could not remove it" compact /> : null}
    </Dialog>
  );
}
